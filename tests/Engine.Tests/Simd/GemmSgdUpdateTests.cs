using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Kernels.Simd;
using Engine.Numerics;
using Engine.Training;
using static Engine.Tests.Simd.SimdGemmEqualityTests;
using static Engine.Tests.Simd.SimdTestSupport;

namespace Engine.Tests.Simd;

/// <summary>
/// The fused weight-gradient product + SGD step (<see cref="IKernels.GemmSgdUpdate"/>): the reference equals its
/// definition (Gemm, then SgdUpdate) bit for bit, and the simd kernel equals the reference on every instruction-set
/// path and 1–4 threads, over every transpose pair, odd shapes, K within one block and past it (the unfused fallback),
/// N ≤ 16 (the narrow kernel's fallback) and padded strides whose garbage must stay untouched.
/// </summary>
public class GemmSgdUpdateTests
{
    static readonly ReferenceKernels R = ReferenceKernels.Instance;

    public static IEnumerable<object[]> IsaThreads() =>
        from isa in SupportedIsas from threads in new[] { 1, 2, 3, 4 } select new object[] { isa, threads };

    static readonly Transpose[] Both = [Transpose.No, Transpose.Yes];

    /// <summary>(M, N, K): the network's weight gradients (784×128 from batch 32, 128×10), odd and prime shapes,
    /// tiles with edges, N ≤ 16, K = 1100 (past every instruction set's KC block) and K = 0 (a step with a zero gradient).</summary>
    static readonly (int M, int N, int K)[] Shapes =
    [
        (784, 128, 32), (128, 10, 32), (1, 1, 1), (7, 33, 5), (37, 64, 48), (101, 17, 13), (9, 16, 31), (64, 15, 7),
        (13, 97, 300), (40, 40, 1100), (3, 200, 2), (5, 9, 0), (6, 40, 0),
    ];

    static IEnumerable<(Transpose TA, Transpose TB, int M, int N, int K, int Pad)> Cases() =>
        from shape in Shapes from ta in Both from tb in Both
        select (ta, tb, shape.M, shape.N, shape.K, (shape.M + shape.N + shape.K) % 3 == 0 ? 0 : 1 + (shape.M % 5));

    [Fact]
    public void The_reference_is_Gemm_then_SgdUpdate_bit_for_bit()
    {
        var rng = new SplitMix64(31);
        foreach (var (ta, tb, m, n, k, pad) in Cases())
        {
            var a = Operand(ref rng, ta, m, k, pad);
            var b = Operand(ref rng, tb, k, n, pad);
            var weights = InitialC(ref rng, m, n, 0, accumulate: true);
            float lr = 0.1f, l2 = 1e-3f;
            var expected = weights.Clone();
            var g = new float[m * n];
            R.Gemm(ta, tb, a.ReadOnly, b.ReadOnly, new MatrixView(g, m, n), accumulate: false);
            R.SgdUpdate(expected.Span, g, lr, l2);
            var got = weights.Clone();
            R.GemmSgdUpdate(ta, tb, a.ReadOnly, b.ReadOnly, got.View, lr, l2);
            Assert.True(GuardedMatrix.FirstDifference(got, expected, anyNaN: false) is null, $"{ta}/{tb} {m}x{n}x{k}");
        }
    }

    [Theory]
    [MemberData(nameof(IsaThreads))]
    public void Simd_equals_the_reference(InstructionSet isa, int threads)
    {
        using var simd = new SimdKernels(isa, threads);
        var rng = new SplitMix64(37);
        var failures = new List<string>();
        foreach (var (ta, tb, m, n, k, pad) in Cases())
            foreach (float l2 in new[] { 0f, 1e-4f })
            {
                var a = Operand(ref rng, ta, m, k, pad, sparse: rng.NextInt(4) == 0);
                var b = Operand(ref rng, tb, k, n, pad);
                var weights = InitialC(ref rng, m, n, pad, accumulate: true); // padding garbage must stay as it is
                var expected = weights.Clone();
                R.GemmSgdUpdate(ta, tb, a.ReadOnly, b.ReadOnly, expected.View, 0.05f, l2);
                var got = weights.Clone();
                simd.GemmSgdUpdate(ta, tb, a.ReadOnly, b.ReadOnly, got.View, 0.05f, l2);
                if (GuardedMatrix.FirstDifference(got, expected, anyNaN: true) is { } diff)
                    failures.Add($"{ta}/{tb} {m}x{n}x{k} pad {pad} l2 {l2}: {diff}");
            }
        Assert.True(failures.Count == 0, $"{isa.Name()} threads {threads}:\n" + string.Join("\n", failures.Take(20)));
    }
}
