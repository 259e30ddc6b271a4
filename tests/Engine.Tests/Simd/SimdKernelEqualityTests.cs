using Engine.Numerics;
using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Kernels.Simd;
using Engine.Training;
using static Engine.Tests.Simd.SimdTestSupport;

namespace Engine.Tests.Simd;

/// <summary>
/// Every IKernels method besides GEMM, simd against reference, bit for bit, on every supported instruction-set
/// path (1 and 2 threads): every width 0..256 (so every vector block and tail runs) as one row, as contiguous
/// rows and as strided rows whose padding and surroundings hold garbage that must stay untouched, plus
/// network-sized matrices; inputs include ±0, subnormals, the tanh series boundary, exp's clamps, ±large,
/// ±MaxValue, ±Inf and NaN. A NaN result equals any NaN (payloads are not compared); everything else must
/// have the same bits.
/// </summary>
public class SimdKernelEqualityTests
{
    public static IEnumerable<object[]> IsaThreads() =>
        from isa in SupportedIsas from threads in new[] { 1, 2 } select new object[] { isa, threads };

    static readonly ReferenceKernels R = ReferenceKernels.Instance;

    /// <summary>(rows, cols, stride) for every width 0..256 — one row, 4 contiguous rows, 3 padded rows, no
    /// rows — then network-sized matrices (a batch of logits, hidden activations, an input-width matrix).</summary>
    static IEnumerable<(int Rows, int Cols, int Stride)> Shapes()
    {
        for (int w = 0; w <= 256; w++)
        {
            yield return (1, w, w);
            yield return (4, w, w);
            yield return (3, w, w + 1 + w % 3);
            if (w % 16 == 0 || w < 9) yield return (0, w, w + 1);
        }
        yield return (1000, 10, 10);
        yield return (300, 128, 128);
        yield return (257, 784, 787);
        yield return (33, 1000, 1003);
    }

    static string Layout(int rows, int cols, int stride) => $"rows {rows} cols {cols} stride {stride}";

    /// <summary>An edge value with probability 1/<paramref name="edgeOneIn"/>, else U(−scale, scale).</summary>
    static float Input(ref SplitMix64 rng, float[] edges, int edgeOneIn, float scale) =>
        rng.NextInt(edgeOneIn) == 0 ? edges[rng.NextInt(edges.Length)] : (2f * rng.NextFloat() - 1f) * scale;

    static readonly float[] Scales = [0.3f, 3f, 30f, 120f];

    static GuardedMatrix Matrix(ref SplitMix64 rng, int rows, int cols, int stride, float[] edges, int edgeOneIn)
    {
        var x = new GuardedMatrix(rows, cols, stride, ref rng);
        float scale = Scales[rng.NextInt(Scales.Length)];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) x[r, c] = Input(ref rng, edges, edgeOneIn, scale);
        return x;
    }

    /// <summary>A guarded 1×n row used as a plain span (bias, sums, weights).</summary>
    static Span<float> RowSpan(GuardedMatrix row) => row.Span;

    static void Check(List<string> failures, string context, string what, GuardedMatrix got, GuardedMatrix expected, bool anyNaN = true)
    {
        if (GuardedMatrix.FirstDifference(got, expected, anyNaN) is { } diff) failures.Add($"{context}: {what} {diff}");
    }

    static void Report(List<string> failures, string op, InstructionSet isa, int threads)
    {
        if (failures.Count > 0)
            Assert.Fail($"{op} on {isa.Name()} threads {threads}: {failures.Count} cases differ from the reference:\n" + string.Join("\n", failures.Take(25)));
    }

    [Theory]
    [MemberData(nameof(IsaThreads))]
    public void AddBiasToRows_equals_the_reference(InstructionSet isa, int threads)
    {
        using var simd = new SimdKernels(isa, threads);
        var failures = new List<string>();
        var rng = new SplitMix64(101);
        foreach (var (rows, cols, stride) in Shapes())
        {
            string context = $"{isa.Name()} threads {threads} {Layout(rows, cols, stride)}";
            var z = Matrix(ref rng, rows, cols, stride, Edges, 6);
            var bias = Matrix(ref rng, 1, cols, cols, Edges, 6);
            var biasBefore = bias.Clone();
            var expected = z.Clone();
            R.AddBiasToRows(expected.View, RowSpan(bias));
            var got = z.Clone();
            simd.AddBiasToRows(got.View, RowSpan(bias));
            Check(failures, context, "z", got, expected);
            Check(failures, context, "bias (input)", bias, biasBefore, anyNaN: false);
        }
        Report(failures, "AddBiasToRows", isa, threads);
    }

    public static IEnumerable<object[]> IsaThreadsActivation() =>
        from isa in SupportedIsas
        from threads in new[] { 1, 2 }
        from act in new[] { Activation.Identity, Activation.Tanh, Activation.Relu, Activation.Sigmoid }
        select new object[] { isa, threads, act };

    [Theory]
    [MemberData(nameof(IsaThreadsActivation))]
    public void ActivationForward_equals_the_reference(InstructionSet isa, int threads, Activation activation)
    {
        using var simd = new SimdKernels(isa, threads);
        var failures = new List<string>();
        var rng = new SplitMix64(202 + (ulong)activation);
        foreach (var (rows, cols, stride) in Shapes())
        {
            string context = $"{activation.Name()} {isa.Name()} threads {threads} {Layout(rows, cols, stride)}";
            var z = Matrix(ref rng, rows, cols, stride, Edges, 4);
            var expected = z.Clone();
            R.ActivationForward(activation, expected.View);
            var got = z.Clone();
            simd.ActivationForward(activation, got.View);
            Check(failures, context, "f(z)", got, expected);
        }
        Report(failures, $"ActivationForward({activation.Name()})", isa, threads);
    }

    [Theory]
    [MemberData(nameof(IsaThreadsActivation))]
    public void ActivationBackward_equals_the_reference(InstructionSet isa, int threads, Activation activation)
    {
        using var simd = new SimdKernels(isa, threads);
        var failures = new List<string>();
        var rng = new SplitMix64(303 + (ulong)activation);
        foreach (var (rows, cols, stride) in Shapes())
        {
            string context = $"{activation.Name()} {isa.Name()} threads {threads} {Layout(rows, cols, stride)}";
            // Outputs a = f(z) as the forward pass leaves them (edges included), laid out with another stride.
            var output = Matrix(ref rng, rows, cols, cols + (stride - cols + 2) % 4, Edges, 4);
            R.ActivationForward(activation, output.View);
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                    if (rng.NextInt(10) == 0) output[r, c] = Edges[rng.NextInt(Edges.Length)];
            var outputBefore = output.Clone();
            var gradient = Matrix(ref rng, rows, cols, stride, Edges, 6);
            var expected = gradient.Clone();
            R.ActivationBackward(activation, output.ReadOnly, expected.View);
            var got = gradient.Clone();
            simd.ActivationBackward(activation, output.ReadOnly, got.View);
            Check(failures, context, "gradient", got, expected);
            Check(failures, context, "output (input)", output, outputBefore, anyNaN: false);
        }
        Report(failures, $"ActivationBackward({activation.Name()})", isa, threads);
    }

    public static IEnumerable<object[]> IsaThreadsLabels() =>
        from isa in SupportedIsas from threads in new[] { 1, 2 } from labels in new[] { true, false } select new object[] { isa, threads, labels };

    [Theory]
    [MemberData(nameof(IsaThreadsLabels))]
    public void SoftmaxCrossEntropy_loss_and_probabilities_equal_the_reference(InstructionSet isa, int threads, bool withLabels)
    {
        using var simd = new SimdKernels(isa, threads);
        var failures = new List<string>();
        var rng = new SplitMix64(withLabels ? 404UL : 405UL);
        foreach (var (rows, cols, stride) in Shapes())
        {
            if (withLabels && cols == 0 && rows > 0) continue; // a label needs a class
            string context = $"{isa.Name()} threads {threads} labels {(withLabels ? "on" : "off")} {Layout(rows, cols, stride)}";
            // Row kinds: ordinary logits; finite extremes (±0, subnormals, ±1e30, ±MaxValue: z − max may be −Inf);
            // anything (±Inf, NaN make the row NaN).
            var logits = new GuardedMatrix(rows, cols, stride, ref rng);
            for (int r = 0; r < rows; r++)
            {
                int kind = (r + cols) % 3;
                float scale = kind == 0 ? 10f : 50f;
                for (int c = 0; c < cols; c++)
                    logits[r, c] = kind == 0 ? Input(ref rng, FiniteEdges, 1000, scale)
                        : kind == 1 ? Input(ref rng, FiniteEdges, 4, scale)
                        : Input(ref rng, Edges, 8, scale);
            }
            var logitsBefore = logits.Clone();
            int[] labels = withLabels ? new int[rows] : [];
            for (int r = 0; r < labels.Length; r++) labels[r] = rng.NextInt(cols);
            var probabilities = new GuardedMatrix(rows, cols, cols + (cols + 1) % 3, ref rng); // starts as garbage
            var expected = probabilities.Clone();
            double expectedLoss = R.SoftmaxCrossEntropy(logits.ReadOnly, labels, expected.View);
            var got = probabilities.Clone();
            double loss = simd.SoftmaxCrossEntropy(logits.ReadOnly, labels, got.View);
            if (!SameBits(loss, expectedLoss)) failures.Add($"{context}: loss sum {Show(loss)}, reference {Show(expectedLoss)}");
            Check(failures, context, "probabilities", got, expected);
            Check(failures, context, "logits (input)", logits, logitsBefore, anyNaN: false);
        }
        Report(failures, $"SoftmaxCrossEntropy(labels {(withLabels ? "on" : "off")})", isa, threads);
    }

    [Theory]
    [MemberData(nameof(IsaThreads))]
    public void SoftmaxCrossEntropyBackward_equals_the_reference(InstructionSet isa, int threads)
    {
        using var simd = new SimdKernels(isa, threads);
        var failures = new List<string>();
        var rng = new SplitMix64(505);
        foreach (var (rows, cols, stride) in Shapes())
        {
            float scale = (cols % 4) switch { 0 => 1f / Math.Max(rows, 1), 1 => 1f, 2 => 1f / 3f, _ => 0.03125f };
            string context = $"{isa.Name()} threads {threads} {Layout(rows, cols, stride)} scale {scale:R}";
            var probabilities = new GuardedMatrix(rows, cols, stride, ref rng);
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) probabilities[r, c] = rng.NextInt(8) == 0 ? Edges[rng.NextInt(Edges.Length)] : rng.NextFloat();
            var probabilitiesBefore = probabilities.Clone();
            var labels = new int[rows];
            for (int r = 0; r < rows; r++) labels[r] = rng.NextInt(Math.Max(cols, 1));
            var dLogits = new GuardedMatrix(rows, cols, cols + (cols + 2) % 4, ref rng); // starts as garbage
            var expected = dLogits.Clone();
            R.SoftmaxCrossEntropyBackward(probabilities.ReadOnly, labels, scale, expected.View);
            var got = dLogits.Clone();
            simd.SoftmaxCrossEntropyBackward(probabilities.ReadOnly, labels, scale, got.View);
            Check(failures, context, "dLogits", got, expected);
            Check(failures, context, "probabilities (input)", probabilities, probabilitiesBefore, anyNaN: false);
        }
        Report(failures, "SoftmaxCrossEntropyBackward", isa, threads);
    }

    [Theory]
    [MemberData(nameof(IsaThreads))]
    public void ColumnSums_equal_the_reference(InstructionSet isa, int threads)
    {
        using var simd = new SimdKernels(isa, threads);
        var failures = new List<string>();
        var rng = new SplitMix64(606);
        var shapes = Shapes().Concat(from w in new[] { 1, 7, 8, 9, 16, 17, 63, 128, 255 } select (17, w, w + 3));
        foreach (var (rows, cols, stride) in shapes)
        {
            string context = $"{isa.Name()} threads {threads} {Layout(rows, cols, stride)}";
            // Mostly finite so that the row-order rounding shows; some rows carry the full edge set.
            var m = new GuardedMatrix(rows, cols, stride, ref rng);
            for (int r = 0; r < rows; r++)
            {
                bool edgy = rng.NextInt(4) == 0;
                for (int c = 0; c < cols; c++) m[r, c] = Input(ref rng, edgy ? Edges : FiniteEdges, edgy ? 8 : 64, 10f);
            }
            var mBefore = m.Clone();
            var sums = new GuardedMatrix(1, cols, cols, ref rng); // starts as garbage
            var expected = sums.Clone();
            R.ColumnSums(m.ReadOnly, RowSpan(expected));
            var got = sums.Clone();
            simd.ColumnSums(m.ReadOnly, RowSpan(got));
            Check(failures, context, "sums", got, expected);
            Check(failures, context, "m (input)", m, mBefore, anyNaN: false);
        }
        Report(failures, "ColumnSums", isa, threads);
    }

    [Theory]
    [MemberData(nameof(IsaThreads))]
    public void BytesToFloats_equals_the_reference(InstructionSet isa, int threads)
    {
        using var simd = new SimdKernels(isa, threads);
        var failures = new List<string>();
        var rng = new SplitMix64(606);
        // 255 (pixels) and divisors whose quotients round differently from a multiply by the reciprocal.
        float[] divisors = [255f, 1f, 3f, 7.5f, 254f, 0.3f, 1e-3f, 1e30f];
        var lengths = Enumerable.Range(0, 257).Concat([784, 784 * 32 + 5, 4099]);
        foreach (int length in lengths)
        {
            float divisor = divisors[rng.NextInt(divisors.Length)];
            string context = $"{isa.Name()} threads {threads} length {length} divisor {divisor:R}";
            var bytes = new byte[length];
            for (int i = 0; i < length; i++) bytes[i] = (byte)(i < 256 ? i : rng.NextInt(256)); // every value once
            var destination = new GuardedMatrix(1, length, length, ref rng); // starts as garbage
            var expected = destination.Clone();
            R.BytesToFloats(bytes, RowSpan(expected), divisor);
            var got = destination.Clone();
            simd.BytesToFloats(bytes, RowSpan(got), divisor);
            Check(failures, context, "floats", got, expected);
        }
        Report(failures, "BytesToFloats", isa, threads);
    }

    [Theory]
    [MemberData(nameof(IsaThreads))]
    public void SgdUpdate_with_and_without_l2_equals_the_reference(InstructionSet isa, int threads)
    {
        using var simd = new SimdKernels(isa, threads);
        var failures = new List<string>();
        var rng = new SplitMix64(707);
        float[] learningRates = [0.1f, 0.01f, 0.5f];
        float[] l2s = [0f, 1e-4f, 0.5f];
        var lengths = Enumerable.Range(0, 257).Concat([1000, 4099, 784 * 32 + 5, 784 * 128]);
        foreach (int length in lengths)
            foreach (float l2 in l2s)
            {
                float lr = learningRates[rng.NextInt(learningRates.Length)];
                string context = $"{isa.Name()} threads {threads} length {length} lr {lr:R} l2 {l2:R}";
                var weights = Matrix(ref rng, 1, length, length, Edges, 8);
                var gradient = Matrix(ref rng, 1, length, length, Edges, 8);
                var gradientBefore = gradient.Clone();
                var expected = weights.Clone();
                R.SgdUpdate(RowSpan(expected), RowSpan(gradient), lr, l2);
                var got = weights.Clone();
                simd.SgdUpdate(RowSpan(got), RowSpan(gradient), lr, l2);
                Check(failures, context, "weights", got, expected);
                Check(failures, context, "gradient (input)", gradient, gradientBefore, anyNaN: false);
            }
        Report(failures, "SgdUpdate", isa, threads);
    }

    [Theory]
    [MemberData(nameof(IsaThreads))]
    public void MomentumUpdate_plain_and_nesterov_equals_the_reference(InstructionSet isa, int threads)
    {
        using var simd = new SimdKernels(isa, threads);
        var failures = new List<string>();
        var rng = new SplitMix64(708);
        var lengths = Enumerable.Range(0, 257).Concat([1000, 4099, 784 * 32 + 5, 784 * 128]);
        foreach (int length in lengths)
            foreach (bool nesterov in new[] { false, true })
            {
                float l2 = rng.NextInt(2) == 0 ? 0f : 1e-3f, mu = rng.NextInt(2) == 0 ? 0.9f : 0.5f;
                string context = $"{isa.Name()} threads {threads} length {length} nesterov {nesterov} l2 {l2:R} μ {mu:R}";
                var weights = Matrix(ref rng, 1, length, length, Edges, 8);
                var gradient = Matrix(ref rng, 1, length, length, Edges, 8);
                var velocity = Matrix(ref rng, 1, length, length, Edges, 8);
                var gradientBefore = gradient.Clone();
                var (expectedW, expectedV) = (weights.Clone(), velocity.Clone());
                R.MomentumUpdate(RowSpan(expectedW), RowSpan(gradient), RowSpan(expectedV), 0.05f, l2, mu, nesterov);
                var (gotW, gotV) = (weights.Clone(), velocity.Clone());
                simd.MomentumUpdate(RowSpan(gotW), RowSpan(gradient), RowSpan(gotV), 0.05f, l2, mu, nesterov);
                Check(failures, context, "weights", gotW, expectedW);
                Check(failures, context, "velocity", gotV, expectedV);
                Check(failures, context, "gradient (input)", gradient, gradientBefore, anyNaN: false);
            }
        Report(failures, "MomentumUpdate", isa, threads);
    }

    [Theory]
    [MemberData(nameof(IsaThreads))]
    public void AdamUpdate_adam_and_adamw_equals_the_reference(InstructionSet isa, int threads)
    {
        using var simd = new SimdKernels(isa, threads);
        var failures = new List<string>();
        var rng = new SplitMix64(709);
        var lengths = Enumerable.Range(0, 257).Concat([1000, 4099, 784 * 32 + 5, 784 * 128]);
        foreach (int length in lengths)
            foreach (bool decoupled in new[] { false, true })
            {
                long t = 1 + rng.NextInt(3000);
                AdamStep step = AdamStep.For(0.001f, 0.9f, 0.999f, 1e-8f, rng.NextInt(2) == 0 ? 0f : 1e-2f, decoupled, t);
                string context = $"{isa.Name()} threads {threads} length {length} {step}";
                var weights = Matrix(ref rng, 1, length, length, Edges, 8);
                var gradient = Matrix(ref rng, 1, length, length, Edges, 8);
                var m = Matrix(ref rng, 1, length, length, Edges, 8);
                var v = Matrix(ref rng, 1, length, length, Edges, 8);
                var gradientBefore = gradient.Clone();
                var (expectedW, expectedM, expectedV) = (weights.Clone(), m.Clone(), v.Clone());
                R.AdamUpdate(RowSpan(expectedW), RowSpan(gradient), RowSpan(expectedM), RowSpan(expectedV), step);
                var (gotW, gotM, gotV) = (weights.Clone(), m.Clone(), v.Clone());
                simd.AdamUpdate(RowSpan(gotW), RowSpan(gradient), RowSpan(gotM), RowSpan(gotV), step);
                Check(failures, context, "weights", gotW, expectedW);
                Check(failures, context, "first moment", gotM, expectedM);
                Check(failures, context, "second moment", gotV, expectedV);
                Check(failures, context, "gradient (input)", gradient, gradientBefore, anyNaN: false);
            }
        Report(failures, "AdamUpdate", isa, threads);
    }
}
