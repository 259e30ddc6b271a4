using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Kernels.Simd;
using static Engine.Tests.Simd.SimdTestSupport;

namespace Engine.Tests.Kernels;

/// <summary>
/// The optimizer steps store no subnormals (numerics contract, item 5): ScalarMath.FlushSubnormal on its edge values
/// and its vector twins, and the case it exists for, a parameter whose gradient is always 0, on every backend.
/// </summary>
public class SubnormalFlushTests
{
    static readonly float[] Edges =
    [
        0f, -0f, float.Epsilon, -float.Epsilon, 1e-40f, -1e-40f, 1.1754942e-38f, -1.1754942e-38f, ScalarMath.MinNormal, -ScalarMath.MinNormal,
        1e-30f, -1e-30f, 1f, -1f, float.MaxValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN,
    ];

    [Fact]
    public void FlushSubnormal_zeroes_exactly_the_subnormals_and_keeps_the_sign()
    {
        foreach (float x in Edges)
        {
            float got = ScalarMath.FlushSubnormal(x);
            bool subnormal = x != 0f && float.IsSubnormal(x);
            if (subnormal) Assert.Equal(BitConverter.SingleToInt32Bits(MathF.CopySign(0f, x)), BitConverter.SingleToInt32Bits(got));
            else Assert.Equal(BitConverter.SingleToInt32Bits(x), BitConverter.SingleToInt32Bits(got));
        }
        Assert.False(float.IsSubnormal(ScalarMath.MinNormal));
        Assert.True(float.IsSubnormal(BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(ScalarMath.MinNormal) - 1)));
    }

    [Fact]
    public unsafe void The_vector_twins_flush_lane_for_lane_like_the_scalar()
    {
        float* lanes = stackalloc float[16], got = stackalloc float[16];
        for (int start = 0; start < Edges.Length; start++)
        {
            for (int i = 0; i < 16; i++) lanes[i] = Edges[(start + i) % Edges.Length];
            if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
            {
                V512.Store(V512.FlushSubnormal(V512.Load(lanes)), got);
                Compare(lanes, got, 16, "V512");
            }
            V256.Store(V256.FlushSubnormal(V256.Load(lanes)), got);
            Compare(lanes, got, 8, "V256");
            VPortable.Store(VPortable.FlushSubnormal(VPortable.Load(lanes)), got);
            Compare(lanes, got, System.Numerics.Vector<float>.Count, "VPortable");
            VScalar.Store(VScalar.FlushSubnormal(VScalar.Load(lanes)), got);
            Compare(lanes, got, 1, "VScalar");
        }

        static void Compare(float* lanes, float* got, int count, string type)
        {
            for (int i = 0; i < count; i++)
            {
                float expected = ScalarMath.FlushSubnormal(lanes[i]);
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(got[i]) || (float.IsNaN(expected) && float.IsNaN(got[i])),
                            $"{type} lane {i}: {lanes[i]:R} gave {got[i]:R}, {expected:R} expected");
            }
        }
    }

    public static IEnumerable<object[]> Backends() =>
        new[] { new object[] { "reference" } }.Concat(SupportedIsas.Select(isa => new object[] { isa.Name() }));

    static IKernels Create(string name) =>
        name == "reference" ? ReferenceKernels.Instance : new SimdKernels(SupportedIsas.Single(isa => isa.Name() == name), 1);

    /// <summary>
    /// Adam on a parameter whose gradient is always 0 (with L2 0): without the flush its moments decay into the
    /// subnormals and stick there (0.9 and 0.999 times the smallest subnormals round back to themselves), which the
    /// plain float recurrence below shows; with it they reach 0 and no step ever stores a subnormal.
    /// </summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public void Adam_moments_with_zero_gradients_reach_zero_instead_of_sticking_in_the_subnormals(string backend)
    {
        // What an optimizer without the flush does: the test can fail only if this scenario is real.
        float plainM = 1e-3f, plainV = 1e-6f;
        for (int t = 0; t < 100_000; t++)
        {
            plainM = MathF.FusedMultiplyAdd(0.1f, 0f - plainM, plainM);
            plainV = MathF.FusedMultiplyAdd(0f, 0f, 0.999f * plainV);
        }
        Assert.True(float.IsSubnormal(plainM) && float.IsSubnormal(plainV), $"plain recurrence ended at m {plainM:R}, v {plainV:R}");

        using var kernels = Create(backend);
        const int n = 37;
        float[] w = Enumerable.Range(0, n).Select(i => 0.01f * (i + 1)).ToArray(), g = new float[n];
        float[] m = Enumerable.Repeat(1e-3f, n).ToArray(), v = Enumerable.Repeat(1e-6f, n).ToArray();
        float[] w0 = (float[])w.Clone();
        bool mZero = false, vZero = false;
        for (int t = 1; t <= 100_000 && !(mZero && vZero); t++)
        {
            kernels.AdamUpdate(w, g, m, v, AdamStep.For(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false, t));
            Assert.DoesNotContain(m, float.IsSubnormal);
            Assert.DoesNotContain(v, float.IsSubnormal);
            Assert.DoesNotContain(w, float.IsSubnormal);
            mZero = m.All(x => x == 0f);
            vZero = v.All(x => x == 0f);
        }
        Assert.True(mZero && vZero, "the moments never reached 0");
        // The weights moved only by the decaying first moment (by a bounded sum of shrinking steps), down and not far.
        for (int i = 0; i < n; i++) Assert.InRange(w[i], w0[i] - 0.1f, w0[i]);
    }

    /// <summary>SGD and momentum on 8 copies of a few values (so vector bodies run, not only scalar tails).</summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public void Sgd_and_momentum_store_subnormal_results_as_signed_zeros(string backend)
    {
        using var kernels = Create(backend);
        float[] pattern = [1e-40f, -1e-40f, 2e-38f, -3e-39f, 0.5f];
        float[] expectedPattern = [0f, -0f, 2e-38f * (1 - 1e-5f), -0f, 0.5f - 0.1f * 1e-4f * 0.5f];
        float[] w = Repeat(pattern, 8), g = new float[w.Length];
        kernels.SgdUpdate(w, g, 0.1f, 1e-4f);
        Assert.Equal(Repeat(expectedPattern, 8), w, new BitwiseOrClose());

        float[] velocity = Repeat([1e-39f, -5e-39f, 1e-30f], 8), weights = Repeat([1f, -1f, 1f], 8), zero = new float[velocity.Length];
        kernels.MomentumUpdate(weights, zero, velocity, 0.1f, 0f, 0.9f, nesterov: false);
        Assert.Equal(Repeat([0f, -0f, 0.9f * 1e-30f], 8), velocity, new BitwiseOrClose());

        static float[] Repeat(float[] values, int times) => Enumerable.Repeat(values, times).SelectMany(v => v).ToArray();
    }

    /// <summary>Values equal to a relative 1e-6 (the SGD expectations above are written in decimal).</summary>
    sealed class BitwiseOrClose : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => a == b ? float.IsNegative(a) == float.IsNegative(b) : MathF.Abs(a - b) <= 1e-6f * MathF.Abs(b);
        public int GetHashCode(float x) => 0;
    }
}
