using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Kernels.Simd;
using Engine.Numerics;
using Engine.Training;
using static Engine.Tests.Simd.SimdTestSupport;

namespace Engine.Tests.Simd;

/// <summary>
/// The simd GEMM against the reference GEMM, bit for bit (numerics contract, item 2), on every supported
/// instruction-set path and 1–4 threads: odd and prime shapes, K = 0 and K across the KC block boundaries,
/// M past MC, N past NC, every transpose combination, padded strides whose padding (and the memory around
/// each view) holds NaN/Inf garbage that must neither reach a result nor be written, accumulate on and off
/// (without accumulation C starts as garbage that must be ignored), chains of signed zeros, and the network's
/// own shapes.
/// Shapes too large for the O(n³) reference are checked by random projection within the γ_K error bound and
/// bit for bit on whole sampled rows and columns (including every block edge).
/// </summary>
public class SimdGemmEqualityTests
{
    static readonly int[] Threads = [1, 2, 3, 4];

    public static IEnumerable<object[]> IsaThreads() =>
        from isa in SupportedIsas from threads in Threads select new object[] { isa, threads };

    static readonly Transpose[][] TransposePairs =
        [[Transpose.No, Transpose.No], [Transpose.Yes, Transpose.No], [Transpose.No, Transpose.Yes], [Transpose.Yes, Transpose.Yes]];

    /// <summary>Mostly U(−1, 1); some ±0 (so that products are signed zeros) and some values scaled by 2^±10.
    /// <paramref name="sparse"/>: half the values are ±0, so that whole fma chains see only signed zeros (the
    /// contract's chain starts from +0: fma(−1, 0, +0) = +0, where a chain started from the first product is −0).</summary>
    internal static float Value(ref SplitMix64 rng, bool sparse = false)
    {
        if (sparse && rng.NextInt(2) == 0) return rng.NextInt(2) == 0 ? 0f : -0f;
        int r = rng.NextInt(32);
        if (r == 0) return 0f;
        if (r == 1) return -0f;
        float v = 2f * rng.NextFloat() - 1f;
        if (r <= 4) v *= MathF.ScaleB(1f, rng.NextInt(21) - 10);
        return v;
    }

    /// <summary>The stored operand whose op() is rows×cols, with <paramref name="pad"/> garbage columns per row.</summary>
    internal static GuardedMatrix Operand(ref SplitMix64 rng, Transpose t, int rows, int cols, int pad, bool sparse = false)
    {
        int storedRows = t == Transpose.No ? rows : cols, storedCols = t == Transpose.No ? cols : rows;
        var x = new GuardedMatrix(storedRows, storedCols, storedCols + pad, ref rng);
        for (int r = 0; r < storedRows; r++)
            for (int c = 0; c < storedCols; c++) x[r, c] = Value(ref rng, sparse);
        return x;
    }

    /// <summary>C before the call: random values when accumulating, else random values mixed with NaN/Inf
    /// garbage that a non-accumulating GEMM must overwrite without reading.</summary>
    internal static GuardedMatrix InitialC(ref SplitMix64 rng, int m, int n, int pad, bool accumulate, bool sparse = false)
    {
        var c = new GuardedMatrix(m, n, n + pad, ref rng);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[i, j] = accumulate || rng.NextInt(4) != 0 ? Value(ref rng, sparse) : NextGarbage(ref rng);
        return c;
    }

    /// <summary>One GEMM problem, its inputs and the reference's result; built once, run on every (isa, threads).</summary>
    sealed class GemmCase
    {
        public required string Group { get; init; }
        public required Transpose TA { get; init; }
        public required Transpose TB { get; init; }
        public required int M { get; init; }
        public required int N { get; init; }
        public required int K { get; init; }
        public required bool Accumulate { get; init; }
        public required GuardedMatrix A { get; init; }
        public required GuardedMatrix B { get; init; }
        public required GuardedMatrix C0 { get; init; }
        public required GuardedMatrix Expected { get; init; }

        public string Describe() =>
            $"{Group} op(A)={(TA == Transpose.No ? "A" : "Aᵀ")} op(B)={(TB == Transpose.No ? "B" : "Bᵀ")} ({TA}/{TB}) M={M} N={N} K={K} " +
            $"accumulate={Accumulate} strides A={A.Stride} B={B.Stride} C={C0.Stride}";
    }

    static GemmCase Make(string group, Transpose ta, Transpose tb, int m, int n, int k, bool accumulate, int padA, int padB, int padC, ulong seed, bool sparse = false)
    {
        var rng = new SplitMix64(seed);
        var a = Operand(ref rng, ta, m, k, padA, sparse);
        var b = Operand(ref rng, tb, k, n, padB, sparse);
        var c0 = InitialC(ref rng, m, n, padC, accumulate, sparse);
        var expected = c0.Clone();
        ReferenceKernels.Instance.Gemm(ta, tb, a.ReadOnly, b.ReadOnly, expected.View, accumulate);
        return new GemmCase { Group = group, TA = ta, TB = tb, M = m, N = n, K = k, Accumulate = accumulate, A = a, B = b, C0 = c0, Expected = expected };
    }

    static readonly int[] Primes = [1, 2, 3, 7, 13, 31, 33, 61, 127, 257, 293];

    /// <summary>Hand-picked shapes: tiny, prime, K = 0, K across 256/384/512 (385, 600, 769, 1100), M past 64,
    /// 144 and 256 (145, 289, 293, 300), N past 1024, 2048 and 4096 (skinny M so the reference stays cheap),
    /// vector-matrix and matrix-vector, empty M or N.</summary>
    static readonly (int M, int N, int K)[] FixedShapes =
    [
        (1, 1, 1), (61, 127, 600), (2, 3, 5), (7, 13, 0), (127, 61, 1100), (31, 33, 257), (257, 31, 61), (13, 7, 3),
        (293, 257, 13), (3, 293, 1100), (33, 2, 2), (1, 4500, 37), (4, 4133, 513), (300, 1, 600), (0, 5, 7), (5, 0, 7),
        (64, 64, 512), (65, 63, 511), (145, 33, 385), (144, 9, 769), (2, 2049, 384), (7, 1025, 256), (289, 5, 768),
    ];

    static readonly int[] RandomKs = [0, 1, 5, 256, 257, 384, 385, 511, 512, 513, 600, 768, 1100];

    /// <summary>The network's GEMMs (batch 32 and 16, a partial batch of 8; hidden 128; 784 inputs; 10 outputs).</summary>
    static readonly (Transpose TA, Transpose TB, int M, int N, int K)[] NetworkShapes =
    [
        (Transpose.No, Transpose.No, 32, 128, 784),   // forward z1 = x·W1
        (Transpose.Yes, Transpose.No, 784, 128, 32),  // weight gradient dW1 = xᵀ·dz1, x stored 32×784
        (Transpose.No, Transpose.Yes, 32, 784, 128),  // input gradient dz1·W1ᵀ, W1 stored 784×128
        (Transpose.No, Transpose.No, 32, 10, 128),    // forward z2 = a1·W2
        (Transpose.Yes, Transpose.No, 128, 10, 32),   // dW2 = a1ᵀ·dz2
        (Transpose.No, Transpose.Yes, 32, 128, 10),   // da1 = dz2·W2ᵀ
        (Transpose.No, Transpose.No, 16, 128, 784),
        (Transpose.Yes, Transpose.No, 784, 128, 16),
        (Transpose.No, Transpose.No, 8, 10, 128),
        (Transpose.No, Transpose.Yes, 8, 128, 10),
    ];

    static readonly Lazy<GemmCase[]> Cases = new(BuildCases);

    static GemmCase[] BuildCases()
    {
        var shapes = new List<(int M, int N, int K)>(FixedShapes);
        var rng = new SplitMix64(20240611);
        int Dim() => rng.NextInt(2) == 0 ? Primes[rng.NextInt(Primes.Length)] : 1 + rng.NextInt(300);
        for (int added = 0; added < 6;)
        {
            int m = Dim(), n = Dim(), k = rng.NextInt(2) == 0 ? RandomKs[rng.NextInt(RandomKs.Length)] : 1 + rng.NextInt(300);
            if ((long)m * n * k > 3_000_000) continue; // keep the reference (and the placeholder) quick
            shapes.Insert(2 * added + 1, (m, n, k));
            added++;
        }

        var cases = new List<GemmCase>();
        for (int s = 0; s < shapes.Count; s++)
        {
            var (m, n, k) = shapes[s];
            for (int t = 0; t < 4; t++)
            {
                bool accumulate = (s + t) % 2 == 1;
                int padA = rng.NextInt(4), padB = rng.NextInt(4), padC = rng.NextInt(4);
                cases.Add(Make("shape", TransposePairs[t][0], TransposePairs[t][1], m, n, k, accumulate, padA, padB, padC, rng.NextUInt64()));
            }
        }
        // Signed zeros: products and sums of ±0 only, every transpose, accumulate on and off.
        foreach (var (m, n, k) in new[] { (9, 11, 1), (6, 17, 2), (13, 5, 3), (7, 40, 1) })
            for (int t = 0; t < 4; t++)
                foreach (bool accumulate in new[] { false, true })
                    cases.Add(Make("signed zeros", TransposePairs[t][0], TransposePairs[t][1], m, n, k, accumulate, t % 2, t / 2, 1, rng.NextUInt64(), sparse: true));
        foreach (var (ta, tb, m, n, k) in NetworkShapes)
        {
            cases.Add(Make("network", ta, tb, m, n, k, accumulate: false, 0, 0, 0, rng.NextUInt64())); // the network's exact layout
            cases.Add(Make("network", ta, tb, m, n, k, accumulate: true, 1, 2, 3, rng.NextUInt64()));
        }
        return cases.ToArray();
    }

    [Theory]
    [MemberData(nameof(IsaThreads))]
    public void Gemm_equals_the_reference_bit_for_bit(InstructionSet isa, int threads)
    {
        using var simd = new SimdKernels(isa, threads);
        Assert.Equal(isa, simd.InstructionSet);
        Assert.Equal(threads, simd.Threads);
        var cases = Cases.Value;
        var failures = new List<string>();
        foreach (var c in cases)
        {
            string context = $"{isa.Name()} threads {threads}: {c.Describe()}";
            var a = c.A.Clone();
            var b = c.B.Clone();
            var got = c.C0.Clone();
            try
            {
                simd.Gemm(c.TA, c.TB, a.ReadOnly, b.ReadOnly, got.View, c.Accumulate);
            }
            catch (Exception e)
            {
                failures.Add($"{context}: threw {e.GetType().Name}: {e.Message}");
                continue;
            }
            string? diff = GuardedMatrix.FirstDifference(got, c.Expected, anyNaN: false);
            if (diff is not null) failures.Add($"{context}: C {diff}");
            if (GuardedMatrix.FirstDifference(a, c.A, anyNaN: false) is { } da) failures.Add($"{context}: A was modified: {da}");
            if (GuardedMatrix.FirstDifference(b, c.B, anyNaN: false) is { } db) failures.Add($"{context}: B was modified: {db}");
        }
        if (failures.Count > 0)
            Assert.Fail($"{isa.Name()} threads {threads}: {failures.Count} of {cases.Length} GEMMs differ from the reference " +
                        $"(C elements shown as [i,j]):\n" + string.Join("\n", failures.Take(25)));
    }

    static readonly Lazy<(GemmCase Big, GemmCase Small)> RepeatCases = new(() =>
        (Make("repeat", Transpose.No, Transpose.No, 200, 301, 700, accumulate: false, 1, 0, 2, 77),
         Make("repeat", Transpose.Yes, Transpose.Yes, 3, 5, 7, accumulate: true, 0, 3, 1, 78)));

    [Theory]
    [MemberData(nameof(IsaThreads))]
    public void Repeated_calls_on_one_instance_give_the_same_bits(InstructionSet isa, int threads)
    {
        // Packing buffers and worker threads are reused between calls: a big call, a small one, the big one again.
        using var simd = new SimdKernels(isa, threads);
        var (big, small) = RepeatCases.Value;
        foreach (var c in new[] { big, small, big, small, big })
        {
            var got = c.C0.Clone();
            simd.Gemm(c.TA, c.TB, c.A.ReadOnly, c.B.ReadOnly, got.View, c.Accumulate);
            if (GuardedMatrix.FirstDifference(got, c.Expected, anyNaN: false) is { } diff)
                Assert.Fail($"{isa.Name()} threads {threads}: {c.Describe()}: C {diff}");
        }
    }

    [Theory]
    [MemberData(nameof(IsaThreads))]
    public void Shape_mismatches_are_rejected_like_the_reference(InstructionSet isa, int threads)
    {
        using var simd = new SimdKernels(isa, threads);
        var buf = new float[100];
        Assert.ThrowsAny<ArgumentException>(() => simd.Gemm(Transpose.No, Transpose.No,
            new ReadOnlyMatrixView(buf, 3, 4), new ReadOnlyMatrixView(buf, 5, 2), new MatrixView(new float[6], 3, 2), false));
        Assert.ThrowsAny<ArgumentException>(() => simd.Gemm(Transpose.No, Transpose.No,
            new ReadOnlyMatrixView(buf, 3, 4), new ReadOnlyMatrixView(buf, 4, 2), new MatrixView(new float[6], 2, 3), false));
        Assert.ThrowsAny<ArgumentException>(() => simd.Gemm(Transpose.Yes, Transpose.No,
            new ReadOnlyMatrixView(buf, 3, 4), new ReadOnlyMatrixView(buf, 4, 2), new MatrixView(new float[8], 4, 2), false));
    }

    /// <summary>Three large problems on the best path with 2 threads; 1024³ on every other path with 3 threads.</summary>
    public static IEnumerable<object[]> LargeShapes()
    {
        InstructionSet best = InstructionSets.Best;
        yield return [best, 2, Transpose.No, Transpose.No, 1024, 1024, 1024, false, 0, 0, 0];
        yield return [best, 2, Transpose.Yes, Transpose.No, 1024, 1024, 1024, true, 1, 3, 2];
        yield return [best, 2, Transpose.No, Transpose.Yes, 517, 1031, 1100, false, 2, 1, 3];
        foreach (var isa in SupportedIsas.Where(i => i != best))
            yield return [isa, 3, Transpose.No, Transpose.No, 1024, 1024, 1024, false, 0, 0, 0];
    }

    /// <summary>
    /// Large GEMMs (the O(n³) reference would be slow). Every element is checked through random projections from
    /// both sides, C·t against A·(B·t) (+ C₀·t) and sᵀC against (sᵀA)·B (+ sᵀC₀), computed in double, within the
    /// bound γ_K·(|A|·|B| + |C₀|) applied to |t| (|s|), γ_K = K·u/(1 − K·u), u = 2^-24, that any fma chain meets;
    /// whole rows and columns (every block edge, every 17th row and 19th column) and 16384 random elements are
    /// checked bit for bit against the contract's fma sequence; padding and guards of C must be untouched.
    /// </summary>
    [Theory]
    [MemberData(nameof(LargeShapes))]
    public void Large_gemm_passes_random_projection_and_exact_sampled_rows_and_columns(InstructionSet isa, int threads, Transpose ta, Transpose tb, int m, int n, int k, bool accumulate, int padA, int padB, int padC)
    {
        var rng = new SplitMix64((ulong)(m * 31 + n * 17 + k) ^ 0xC0FFEE);
        var a = Operand(ref rng, ta, m, k, padA);
        var b = Operand(ref rng, tb, k, n, padB);
        var c0 = InitialC(ref rng, m, n, padC, accumulate);
        var c = c0.Clone();
        using (var simd = new SimdKernels(isa, threads))
            simd.Gemm(ta, tb, a.ReadOnly, b.ReadOnly, c.View, accumulate);
        string context = $"{isa.Name()} threads {threads}: op(A) {ta}, op(B) {tb}, M={m} N={n} K={k} accumulate={accumulate} strides A={a.Stride} B={b.Stride} C={c.Stride}";

        float A(int i, int p) => ta == Transpose.No ? a[i, p] : a[p, i];
        float B(int p, int j) => tb == Transpose.No ? b[p, j] : b[j, p];
        float C0(int i, int j) => accumulate ? c0[i, j] : 0f;
        double u = Math.Pow(2, -24), gamma = k * u / (1 - k * u) + 1e-11; // + slack for the double sums

        // Padding and guards of C: exact original bits.
        for (int x = 0; x < c.Buffer.Length; x++)
            if (!c.InView(x) && !ExactBits(c.Buffer[x], c0.Buffer[x]))
                Assert.Fail($"{context}: C {c.Locate(x)} was written: {Show(c.Buffer[x])}, was {Show(c0.Buffer[x])}");

        // Right projection: C·t vs A·(B·t) + C0·t, row by row.
        var t = new double[n];
        for (int j = 0; j < n; j++) t[j] = 2.0 * rng.NextFloat() - 1.0;
        var bt = new double[k];
        var absBt = new double[k];
        for (int p = 0; p < k; p++)
            for (int j = 0; j < n; j++)
            {
                bt[p] += B(p, j) * t[j];
                absBt[p] += Math.Abs(B(p, j)) * Math.Abs(t[j]);
            }
        for (int i = 0; i < m; i++)
        {
            double got = 0, expected = 0, magnitude = 0;
            for (int j = 0; j < n; j++)
            {
                got += (double)c[i, j] * t[j];
                expected += C0(i, j) * t[j];
                magnitude += Math.Abs(C0(i, j)) * Math.Abs(t[j]);
            }
            for (int p = 0; p < k; p++)
            {
                expected += A(i, p) * bt[p];
                magnitude += Math.Abs(A(i, p)) * absBt[p];
            }
            if (!(Math.Abs(got - expected) <= gamma * magnitude))
                Assert.Fail($"{context}: row {i} of C·t = {got:R}, A·(B·t) + C0·t = {expected:R}, |difference| {Math.Abs(got - expected):R} exceeds the bound {gamma * magnitude:R}");
        }

        // Left projection: sᵀC vs (sᵀA)·B + sᵀC0, column by column.
        var s = new double[m];
        for (int i = 0; i < m; i++) s[i] = 2.0 * rng.NextFloat() - 1.0;
        var sa = new double[k];
        var absSa = new double[k];
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++)
            {
                sa[p] += s[i] * A(i, p);
                absSa[p] += Math.Abs(s[i]) * Math.Abs(A(i, p));
            }
        var got2 = new double[n];
        var expected2 = new double[n];
        var magnitude2 = new double[n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                got2[j] += s[i] * c[i, j];
                expected2[j] += s[i] * C0(i, j);
                magnitude2[j] += Math.Abs(s[i]) * Math.Abs(C0(i, j));
            }
        for (int p = 0; p < k; p++)
            for (int j = 0; j < n; j++)
            {
                expected2[j] += sa[p] * B(p, j);
                magnitude2[j] += absSa[p] * Math.Abs(B(p, j));
            }
        for (int j = 0; j < n; j++)
            if (!(Math.Abs(got2[j] - expected2[j]) <= gamma * magnitude2[j]))
                Assert.Fail($"{context}: column {j} of sᵀC = {got2[j]:R}, (sᵀA)·B + sᵀC0 = {expected2[j]:R}, |difference| {Math.Abs(got2[j] - expected2[j]):R} exceeds the bound {gamma * magnitude2[j]:R}");

        // Bit for bit against the contract's fma sequence: whole rows and columns at every likely block edge,
        // every 17th row and 19th column, a few random ones, then 16384 random single elements (a wrong 16×16
        // tile anywhere is all but certain to be hit).
        int[] edges = [0, 1, 7, 8, 15, 16, 31, 32, 63, 64, 65, 127, 128, 129, 191, 192, 255, 256, 257, 383, 384, 511, 512, 513, 767, 768, 1000, 1023, 1024, 1025];
        int[] Probes(int count, int every, ref SplitMix64 r)
        {
            var set = new SortedSet<int>(edges.Where(e => e < count)) { count - 1 };
            for (int x = every / 2; x < count; x += every) set.Add(x);
            for (int x = 0; x < 4; x++) set.Add(r.NextInt(count));
            return set.ToArray();
        }
        var acc = new float[Math.Max(m, n)];
        foreach (int i in Probes(m, 17, ref rng))
        {
            for (int j = 0; j < n; j++) acc[j] = C0(i, j);
            for (int p = 0; p < k; p++)
            {
                float aip = A(i, p);
                for (int j = 0; j < n; j++) acc[j] = MathF.FusedMultiplyAdd(aip, B(p, j), acc[j]);
            }
            for (int j = 0; j < n; j++)
                if (!ExactBits(c[i, j], acc[j]))
                    Assert.Fail($"{context}: C [{i},{j}] = {Show(c[i, j])}, the contract's fma sequence gives {Show(acc[j])}");
        }
        foreach (int j in Probes(n, 19, ref rng))
        {
            for (int i = 0; i < m; i++) acc[i] = C0(i, j);
            for (int p = 0; p < k; p++)
            {
                float bpj = B(p, j);
                for (int i = 0; i < m; i++) acc[i] = MathF.FusedMultiplyAdd(A(i, p), bpj, acc[i]);
            }
            for (int i = 0; i < m; i++)
                if (!ExactBits(c[i, j], acc[i]))
                    Assert.Fail($"{context}: C [{i},{j}] = {Show(c[i, j])}, the contract's fma sequence gives {Show(acc[i])}");
        }
        for (int sample = 0; sample < 16384; sample++)
        {
            int i = rng.NextInt(m), j = rng.NextInt(n);
            float expected = C0(i, j);
            for (int p = 0; p < k; p++) expected = MathF.FusedMultiplyAdd(A(i, p), B(p, j), expected);
            if (!ExactBits(c[i, j], expected))
                Assert.Fail($"{context}: C [{i},{j}] = {Show(c[i, j])}, the contract's fma sequence gives {Show(expected)}");
        }
    }
}
