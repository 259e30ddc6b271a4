using Engine.Numerics;
using Engine.Kernels;
using Engine.Training;

namespace Engine.Tests.Simd;

/// <summary>
/// Shared pieces of the simd-vs-reference equality tests: the instruction-set paths this machine runs, bit
/// comparisons with readable messages, and garbage-guarded buffers for strided views.
/// </summary>
internal static class SimdTestSupport
{
    /// <summary>Every instruction-set path <see cref="InstructionSets.IsSupported"/> accepts here (Scalar always).</summary>
    public static InstructionSet[] SupportedIsas { get; } =
        Enum.GetValues<InstructionSet>().Where(InstructionSets.IsSupported).ToArray();

    /// <summary>Identical bits, except that any NaN equals any NaN (vector instructions return the default NaN
    /// where scalar code passes an input's payload on; payloads carry no meaning here).</summary>
    public static bool SameBits(float a, float b) =>
        float.IsNaN(a) ? float.IsNaN(b) : BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b);

    /// <summary>Identical bits (NaN payload included): for memory a kernel must not touch.</summary>
    public static bool ExactBits(float a, float b) => BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b);

    public static bool SameBits(double a, double b) =>
        double.IsNaN(a) ? double.IsNaN(b) : BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b);

    /// <summary>A float with its bit pattern, e.g. <c>0.25 (0x3E800000)</c>.</summary>
    public static string Show(float x) => $"{x:R} (0x{BitConverter.SingleToInt32Bits(x):X8})";

    public static string Show(double x) => $"{x:R} (0x{BitConverter.DoubleToInt64Bits(x):X16})";

    /// <summary>Values a kernel must never let into a result: NaNs with payloads, infinities, huge finite numbers.</summary>
    public static readonly float[] Garbage =
    [
        BitConverter.Int32BitsToSingle(0x7FC0_BEEF), BitConverter.Int32BitsToSingle(unchecked((int)0xFFC1_2345)),
        float.PositiveInfinity, float.NegativeInfinity, 3e38f, -2.5e38f, 12345.678f, -0f,
    ];

    public static float NextGarbage(ref SplitMix64 rng) => Garbage[rng.NextInt(Garbage.Length)];

    /// <summary>Edge inputs for the element-wise kernels: ±0, subnormals, the tanh series boundary, exp's clamps,
    /// ±large, ±MaxValue, ±Inf, NaN.</summary>
    public static readonly float[] Edges =
    [
        0f, -0f, float.Epsilon, -float.Epsilon, 1e-40f, -1e-40f, 1e-38f, -1e-38f, 1.17549435e-38f, -1.17549435e-38f,
        1e-30f, -1e-30f, 1e-7f, 0.49999997f, 0.5f, -0.5f, 0.50000006f, -0.49999997f, 1f, -1f, 2f, 9f, -9f, 10f, -10f,
        20f, -20f, 88.7f, 88.8f, 89f, -87.3f, -88.8f, -103.9f, -104f, -200f, 1e30f, -1e30f,
        float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN,
    ];

    /// <summary>The finite subset of <see cref="Edges"/>.</summary>
    public static readonly float[] FiniteEdges = Edges.Where(float.IsFinite).ToArray();
}

/// <summary>
/// A rows×cols view with a row stride inside a larger buffer: 1–16 floats of garbage before the view (so views
/// start at varying alignments), <see cref="Guard"/> after it, and garbage in every row's padding (columns
/// cols..stride-1). The view's span is exactly as long as the shape needs, so reading or writing outside it
/// shows up as changed guards or poisoned results.
/// </summary>
internal sealed class GuardedMatrix
{
    public const int Guard = 19;

    public float[] Buffer { get; }
    /// <summary>Index in <see cref="Buffer"/> of the view's first float.</summary>
    public int Start { get; }
    public int Rows { get; }
    public int Cols { get; }
    public int Stride { get; }
    public int Length { get; }

    public GuardedMatrix(int rows, int cols, int stride, ref SplitMix64 rng)
    {
        Rows = rows;
        Cols = cols;
        Stride = stride;
        // Exactly what the shape needs. (Shape.CheckMatrix would accept 0 floats for rows×0, but Row(r) then
        // slices past the end, so a zero-width view keeps its rows' offsets in range.)
        Length = rows == 0 ? 0 : (rows - 1) * stride + cols;
        Start = 1 + rng.NextInt(16);
        Buffer = new float[Start + Length + Guard];
        for (int i = 0; i < Buffer.Length; i++) Buffer[i] = SimdTestSupport.NextGarbage(ref rng);
    }

    GuardedMatrix(GuardedMatrix other)
    {
        Rows = other.Rows;
        Cols = other.Cols;
        Stride = other.Stride;
        Length = other.Length;
        Start = other.Start;
        Buffer = (float[])other.Buffer.Clone();
    }

    public GuardedMatrix Clone() => new(this);

    public ref float this[int row, int col] => ref Buffer[Start + row * Stride + col];

    /// <summary>The view's floats as one span (for a 1×n row: the row).</summary>
    public Span<float> Span => Buffer.AsSpan(Start, Length);

    public Engine.Numerics.MatrixView View => new(Span, Rows, Cols, Stride);

    public Engine.Numerics.ReadOnlyMatrixView ReadOnly => new(Span, Rows, Cols, Stride);

    /// <summary>Whether buffer index <paramref name="index"/> is an element of the view (not padding or a guard).</summary>
    public bool InView(int index)
    {
        int offset = index - Start;
        return offset >= 0 && offset < Length && offset % Stride < Cols;
    }

    /// <summary>Where buffer index <paramref name="index"/> lies: an element [row,col], padding, or a guard.</summary>
    public string Locate(int index)
    {
        if (index < Start) return $"guard before the view [{index - Start}]";
        int offset = index - Start;
        if (offset >= Length) return $"guard after the view [+{offset - Length}]";
        int r = offset / Stride, c = offset % Stride;
        if (c >= Cols) return $"padding of row {r} (column {c}, stride {Stride})";
        return $"[{r},{c}]";
    }

    /// <summary>
    /// Compares a simd result with the reference's: elements must have the same bits (NaN equals any NaN when
    /// <paramref name="anyNaN"/>), padding and guards must keep their exact original bits. Returns null when
    /// equal, else the first difference and the number of differing floats.
    /// </summary>
    public static string? FirstDifference(GuardedMatrix got, GuardedMatrix expected, bool anyNaN)
    {
        string? first = null;
        int count = 0;
        for (int i = 0; i < got.Buffer.Length; i++)
        {
            if (SimdTestSupport.ExactBits(got.Buffer[i], expected.Buffer[i])) continue;
            if (anyNaN && float.IsNaN(got.Buffer[i]) && float.IsNaN(expected.Buffer[i]) && expected.InView(i)) continue;
            count++;
            first ??= $"{expected.Locate(i)} = {SimdTestSupport.Show(got.Buffer[i])}, reference {SimdTestSupport.Show(expected.Buffer[i])}";
        }
        return first is null ? null : $"first difference at {first}; {count} of {got.Buffer.Length} buffer floats differ";
    }
}

/// <summary>The fused weight step as the tests name it: G = op(A)·op(B), then SGD on W, in one GEMM epilogue.</summary>
internal static class GemmSgdUpdateExtension
{
    public static unsafe void GemmSgdUpdate(this IKernels kernels, Transpose transA, Transpose transB, ReadOnlyMatrixView a, ReadOnlyMatrixView b,
        MatrixView weights, float learningRate, float l2) =>
        kernels.Gemm(transA, transB, a, b, weights, new UpdateWeights<SgdRule>(new SgdRule(learningRate, l2), null, null, 0));
}
