using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Kernels.Simd;
using Engine.Numerics;
using Engine.Training;
using static Engine.Tests.Simd.SimdTestSupport;

namespace Engine.Tests.Simd;

/// <summary>
/// Weights packed once into the GEMM's panels (<see cref="PackedWeights"/>, inference) give the reference's bits on every
/// instruction-set path, thread count and blocking, for the row kernel (M below MR) and the tiled path, stored,
/// accumulated and finished with a bias and activation; the pack is really what the product reads; a pack that does not
/// fit the product is ignored.
/// </summary>
public unsafe class PackedWeightsTests
{
    static readonly IKernels R = ReferenceKernels.Instance;

    public static IEnumerable<object[]> Paths() =>
        from isa in SupportedIsas
        from threads in new[] { 1, 2, 3 }
        from kc in new[] { 0, 24 } // 0: the machine's blocks; 24: many K blocks and panels that end inside one
        select new object[] { isa, threads, kc };

    /// <summary>(M, N, K): one image through a wide layer, a few rows, the tiled path, odd widths, K past KC.</summary>
    static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 512, 784), (1, 17, 5), (1, 100, 61), (3, 600, 784), (7, 33, 5), (8, 64, 48), (13, 97, 300), (32, 128, 784),
        (61, 127, 200), (100, 40, 1100), (2, 48, 1030),
    ];

    static SimdKernels Backend(InstructionSet isa, int threads, int kc)
    {
        var derived = BlockSizes.For(isa, CpuCaches.Current, threads);
        return new SimdKernels(isa, threads, kc == 0 ? derived : derived with { KC = kc, MC = 2 * derived.MR, NC = 3 * derived.NR });
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Packed_products_give_the_reference_bits(InstructionSet isa, int threads, int kc)
    {
        using var simd = Backend(isa, threads, kc);
        IKernels kernels = simd;
        var rng = new SplitMix64((ulong)(threads * 31 + kc));
        foreach (var (m, n, k) in Shapes)
        foreach (var ta in new[] { Transpose.No, Transpose.Yes })
        {
            var a = SimdGemmEqualityTests.Operand(ref rng, ta, m, k, pad: 3);
            var w = SimdGemmEqualityTests.Operand(ref rng, Transpose.No, k, n, pad: n % 3);
            PackedWeights? packed = kernels.PackWeights(w.ReadOnly);
            Assert.NotNull(packed); // N > 16: every path packs
            var bias = new float[n];
            for (int j = 0; j < n; j++) bias[j] = SimdGemmEqualityTests.Value(ref rng);
            foreach (string use in new[] { "store", "accumulate", "tanh" })
            {
                var c0 = SimdGemmEqualityTests.InitialC(ref rng, m, n, pad: 1, accumulate: use == "accumulate");
                var expected = c0.Clone();
                var got = c0.Clone();
                fixed (float* b = bias)
                {
                    switch (use)
                    {
                        case "store":
                            R.Gemm(ta, Transpose.No, a.ReadOnly, w.ReadOnly, expected.View, new StoreProduct());
                            kernels.Gemm(ta, a.ReadOnly, w.ReadOnly, packed, got.View, new StoreProduct());
                            break;
                        case "accumulate":
                            R.Gemm(ta, Transpose.No, a.ReadOnly, w.ReadOnly, expected.View, new AccumulateProduct());
                            kernels.Gemm(ta, a.ReadOnly, w.ReadOnly, packed, got.View, new AccumulateProduct());
                            break;
                        default:
                            R.Gemm(ta, Transpose.No, a.ReadOnly, w.ReadOnly, expected.View, new BiasActivation<TanhOperator>(b));
                            kernels.Gemm(ta, a.ReadOnly, w.ReadOnly, packed, got.View, new BiasActivation<TanhOperator>(b));
                            break;
                    }
                }
                string? diff = GuardedMatrix.FirstDifference(got, expected, anyNaN: false);
                Assert.True(diff is null, $"{isa} {threads} threads kc {kc} {ta} {m}x{n}x{k} {use}: {diff}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void The_product_reads_the_pack_not_the_weights(InstructionSet isa, int threads, int kc)
    {
        using var simd = Backend(isa, threads, kc);
        IKernels kernels = simd;
        var rng = new SplitMix64(7);
        foreach (var (m, n, k) in Shapes)
        {
            var a = SimdGemmEqualityTests.Operand(ref rng, Transpose.No, m, k, pad: 1);
            var w = SimdGemmEqualityTests.Operand(ref rng, Transpose.No, k, n, pad: 2);
            var expected = SimdGemmEqualityTests.InitialC(ref rng, m, n, pad: 1, accumulate: false);
            var got = expected.Clone();
            R.Gemm(Transpose.No, Transpose.No, a.ReadOnly, w.ReadOnly, expected.View, accumulate: false);
            PackedWeights? packed = kernels.PackWeights(w.ReadOnly);
            w.Span.Fill(float.NaN); // the weights change after packing: the product must still see the packed ones
            kernels.Gemm(Transpose.No, a.ReadOnly, w.ReadOnly, packed, got.View, new StoreProduct());
            string? diff = GuardedMatrix.FirstDifference(got, expected, anyNaN: false);
            Assert.True(diff is null, $"{isa} {m}x{n}x{k}: {diff}");
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_pack_that_does_not_fit_is_not_used(InstructionSet isa, int threads, int kc)
    {
        using var simd = Backend(isa, threads, kc);
        using var other = Backend(isa, threads, kc == 0 ? 24 : 0); // another K block: another layout
        IKernels kernels = simd;
        var rng = new SplitMix64(11);
        var a = SimdGemmEqualityTests.Operand(ref rng, Transpose.No, 5, 300, pad: 0);
        var w = SimdGemmEqualityTests.Operand(ref rng, Transpose.No, 300, 70, pad: 0);
        var smaller = SimdGemmEqualityTests.Operand(ref rng, Transpose.No, 299, 70, pad: 0);
        var expected = SimdGemmEqualityTests.InitialC(ref rng, 5, 70, pad: 0, accumulate: false);
        R.Gemm(Transpose.No, Transpose.No, a.ReadOnly, w.ReadOnly, expected.View, accumulate: false);
        foreach (PackedWeights? wrong in new[] { kernels.PackWeights(smaller.ReadOnly), ((IKernels)other).PackWeights(w.ReadOnly) })
        {
            var got = expected.Clone();
            got.Span.Fill(float.NaN);
            kernels.Gemm(Transpose.No, a.ReadOnly, w.ReadOnly, wrong, got.View, new StoreProduct());
            string? diff = GuardedMatrix.FirstDifference(got, expected, anyNaN: false);
            Assert.True(diff is null, $"{isa}: {diff}");
        }
    }

    [Fact]
    public void Outputs_the_narrow_kernel_reads_in_place_are_not_packed_and_the_reference_packs_nothing()
    {
        var rng = new SplitMix64(3);
        var w10 = SimdGemmEqualityTests.Operand(ref rng, Transpose.No, 128, 10, pad: 0);
        using var simd = new SimdKernels(InstructionSets.Best, 1);
        if (InstructionSets.Best == InstructionSet.Avx512) Assert.Null(((IKernels)simd).PackWeights(w10.ReadOnly));
        Assert.Null(R.PackWeights(w10.ReadOnly));
    }
}
