using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels;

/// <summary>
/// The instruction-set paths of the simd backend. Every path computes the same bits (the numerics contract);
/// they differ only in speed. Chosen at run time; forced with <c>--isa</c> or the environment variable
/// <c>ENGINE_ISA</c> (avx512, avx2, vector, scalar) so that tests can run every path on one machine.
/// </summary>
public enum InstructionSet
{
    /// <summary>Plain scalar code inside the blocked structure.</summary>
    Scalar,
    /// <summary>Portable <see cref="Vector{T}"/> (256-bit on x64 unless DOTNET_MaxVectorTBitWidth says otherwise).</summary>
    Vector,
    /// <summary>AVX2 + FMA, <see cref="Vector256{T}"/>.</summary>
    Avx2,
    /// <summary>AVX-512F, <see cref="Vector512{T}"/>.</summary>
    Avx512,
}

/// <summary>Detection, naming, parsing and selection of <see cref="InstructionSet"/> paths.</summary>
public static class InstructionSets
{
    /// <summary>The environment variable that forces a path when no explicit choice is given.</summary>
    public const string EnvironmentVariable = "ENGINE_ISA";

    /// <summary>Whether this CPU and runtime can run the path with hardware acceleration; scalar always can.</summary>
    public static bool IsSupported(InstructionSet isa) => isa switch
    {
        InstructionSet.Scalar => true,
        InstructionSet.Vector => Vector.IsHardwareAccelerated && Vector<float>.Count >= 4,
        InstructionSet.Avx2 => Avx2.IsSupported && Fma.IsSupported && Vector256.IsHardwareAccelerated,
        InstructionSet.Avx512 => Avx512F.IsSupported && Vector512.IsHardwareAccelerated,
        _ => false,
    };

    /// <summary>The fastest supported path.</summary>
    public static InstructionSet Best =>
        IsSupported(InstructionSet.Avx512) ? InstructionSet.Avx512
        : IsSupported(InstructionSet.Avx2) ? InstructionSet.Avx2
        : IsSupported(InstructionSet.Vector) ? InstructionSet.Vector
        : InstructionSet.Scalar;

    /// <summary>The lower-case name accepted by <see cref="Parse"/>: scalar, vector, avx2 or avx512.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="isa"/> is not a defined value.</exception>
    public static string Name(this InstructionSet isa) => isa switch
    {
        InstructionSet.Scalar => "scalar",
        InstructionSet.Vector => "vector",
        InstructionSet.Avx2 => "avx2",
        InstructionSet.Avx512 => "avx512",
        _ => throw new ArgumentOutOfRangeException(nameof(isa)),
    };

    /// <summary>Parses avx512, avx2, vector, scalar or auto (null: the best supported); unsupported paths are an error.</summary>
    public static InstructionSet? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        InstructionSet isa = text.Trim().ToLowerInvariant() switch
        {
            "auto" => Best,
            "avx512" or "avx-512" => InstructionSet.Avx512,
            "avx2" => InstructionSet.Avx2,
            "vector" => InstructionSet.Vector,
            "scalar" => InstructionSet.Scalar,
            _ => throw new EngineException($"unknown instruction set '{text}' (avx512, avx2, vector, scalar or auto)"),
        };
        if (!IsSupported(isa)) throw new EngineException($"instruction set {isa.Name()} is not supported on this CPU");
        return isa;
    }

    /// <summary>The explicit choice if given, else ENGINE_ISA if set, else the best supported.</summary>
    public static InstructionSet Resolve(string? option) =>
        Parse(option) ?? Parse(Environment.GetEnvironmentVariable(EnvironmentVariable)) ?? Best;

    /// <summary>The GEMM block sizes the simd backend derives for <paramref name="isa"/> on this machine with <paramref name="threads"/> threads, e.g. <c>MR 8, NR 32, KC 1024, MC 48, NC 2048</c>.</summary>
    public static string DescribeGemmBlocks(InstructionSet isa, int threads) => Simd.BlockSizes.For(isa, CpuCaches.Current, threads).ToString();
}
