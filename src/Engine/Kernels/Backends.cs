using Engine.Kernels.Reference;
using Engine.Kernels.Simd;

namespace Engine.Kernels;

/// <summary>The registry of backends selectable at run time with <c>--backend</c>.</summary>
public static class Backends
{
    /// <summary>The backend used when none is chosen.</summary>
    public const string Default = "simd";

    /// <summary>The names <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["simd", "reference"];

    /// <summary>
    /// Creates a backend. <paramref name="threads"/> is the simd backend's degree of parallelism (the reference
    /// is single-threaded); <paramref name="isa"/> forces an instruction-set path (null: ENGINE_ISA, else the best).
    /// Dispose the result when done (the simd backend owns worker threads).
    /// </summary>
    public static IKernels Create(string name, int threads = 1, InstructionSet? isa = null) => name.Trim().ToLowerInvariant() switch
    {
        "reference" => ReferenceKernels.Instance,
        "simd" => new SimdKernels(isa ?? InstructionSets.Resolve(null), threads),
        _ => throw new EngineException($"unknown backend '{name}' (available: {string.Join(", ", Names)})"),
    };
}
