using Engine.Kernels.Reference;

namespace Engine.Tests.Kernels;

/// <summary>
/// The engine's own exp/tanh/sigmoid against double-precision Math.Exp/Math.Tanh: a dense sweep of every
/// 64th float in the interesting range plus edge cases, with the ulp bounds stated in the README.
/// </summary>
public class ScalarMathTests
{
    public const double ExpUlpBound = 2;
    public const double TanhUlpBound = 3;
    public const double SigmoidUlpBound = 3;

    static IEnumerable<float> Sweep(float from, float to, int step = 64)
    {
        // Walk the float bit patterns of both signs, so small magnitudes get as many samples as large ones.
        for (int bits = BitConverter.SingleToInt32Bits(0f); ; bits += step)
        {
            float x = BitConverter.Int32BitsToSingle(bits);
            if (x > Math.Max(Math.Abs(from), Math.Abs(to))) yield break;
            if (x <= to && x >= from) yield return x;
            if (-x >= from && -x <= to) yield return -x;
        }
    }

    [Fact]
    public void Exp_is_within_its_ulp_bound_over_a_dense_sweep()
    {
        double worst = 0; float at = 0;
        // Down to the flush (below it exp is +0 by definition: Exp_flushes_what_would_be_subnormal_to_zero).
        foreach (float x in Sweep(ScalarMath.ExpFlushBelow, 89f))
        {
            if (Math.Exp(x) < ScalarMath.MinNormal) continue;
            double e = Ulp.Error(ScalarMath.Exp(x), Math.Exp(x));
            if (e > worst) { worst = e; at = x; }
        }
        Assert.True(worst <= ExpUlpBound, $"exp: {worst:F2} ulp at x = {at:R}");
    }

    [Fact]
    public void Tanh_is_within_its_ulp_bound_over_a_dense_sweep()
    {
        double worst = 0; float at = 0;
        foreach (float x in Sweep(-20f, 20f))
        {
            double e = Ulp.Error(ScalarMath.Tanh(x), Math.Tanh(x));
            if (e > worst) { worst = e; at = x; }
        }
        Assert.True(worst <= TanhUlpBound, $"tanh: {worst:F2} ulp at x = {at:R}");
    }

    [Fact]
    public void Sigmoid_is_within_its_ulp_bound_over_a_dense_sweep()
    {
        double worst = 0; float at = 0;
        foreach (float x in Sweep(-100f, 40f))
        {
            if (x < ScalarMath.ExpFlushBelow) { Assert.Equal(0f, ScalarMath.Sigmoid(x)); continue; } // e^x flushed: σ(x) < 2^−126
            double e = Ulp.Error(ScalarMath.Sigmoid(x), 1.0 / (1.0 + Math.Exp(-(double)x)));
            if (e > worst) { worst = e; at = x; }
        }
        Assert.True(worst <= SigmoidUlpBound, $"sigmoid: {worst:F2} ulp at x = {at:R}");
    }

    [Theory]
    [InlineData(0f, 1f)]
    [InlineData(float.NegativeInfinity, 0f)]
    [InlineData(float.PositiveInfinity, float.PositiveInfinity)]
    [InlineData(88.8f, float.PositiveInfinity)]
    [InlineData(1000f, float.PositiveInfinity)]
    [InlineData(-104f, 0f)]
    [InlineData(-1e30f, 0f)]
    [InlineData(float.Epsilon, 1f)]
    public void Exp_edge_cases(float x, float expected) => Assert.Equal(expected, ScalarMath.Exp(x));

    /// <summary>
    /// Since 2026-12-07 exp no longer goes through the subnormals (that test is replaced by this one, on purpose: the
    /// numerics contract changed, conformance/v2): results below 2^−126 are +0, everything from there up is unchanged.
    /// </summary>
    [Fact]
    public void Exp_flushes_what_would_be_subnormal_to_zero()
    {
        foreach (float x in new[] { -87.5f, -90f, -95f, -100f, -103f, ScalarMath.ExpFlushBelow })
            Assert.Equal(0f, ScalarMath.Exp(x));
        float first = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(ScalarMath.ExpFlushBelow) - 1); // next float up
        Assert.True(ScalarMath.Exp(first) >= ScalarMath.MinNormal, $"exp({first:R}) = {ScalarMath.Exp(first):R}");
        Assert.True(Ulp.Error(ScalarMath.Exp(first), Math.Exp(first)) <= ExpUlpBound);
        Assert.True(Math.Exp(ScalarMath.ExpFlushBelow) < ScalarMath.MinNormal, "the flush starts below 2^-126");
    }

    [Fact]
    public void Nan_propagates_and_signed_zeros_and_tiny_inputs_give_one()
    {
        Assert.Equal(1f, ScalarMath.Exp(-0f));
        Assert.Equal(1f, ScalarMath.Exp(-float.Epsilon));
        Assert.True(float.IsNaN(ScalarMath.Exp(float.NaN)));
        Assert.True(float.IsNaN(ScalarMath.Tanh(float.NaN)));
        Assert.True(float.IsNaN(ScalarMath.Sigmoid(float.NaN)));
        Assert.True(float.IsNaN(ScalarMath.Relu(float.NaN)));
    }

    [Fact]
    public void Tanh_edge_cases()
    {
        Assert.Equal(0f, ScalarMath.Tanh(0f));
        Assert.True(float.IsNegative(ScalarMath.Tanh(-0f)), "tanh(-0) must be -0");
        Assert.Equal(1f, ScalarMath.Tanh(float.PositiveInfinity));
        Assert.Equal(-1f, ScalarMath.Tanh(float.NegativeInfinity));
        Assert.Equal(1f, ScalarMath.Tanh(10f));
        Assert.Equal(-1f, ScalarMath.Tanh(-1e30f));
        Assert.Equal(float.Epsilon, ScalarMath.Tanh(float.Epsilon));       // tanh x = x for tiny x
        Assert.Equal(-1e-30f, ScalarMath.Tanh(-1e-30f));
        for (float x = -3; x <= 3; x += 0.125f) Assert.Equal(-ScalarMath.Tanh(x), ScalarMath.Tanh(-x)); // odd
    }

    [Fact]
    public void Sigmoid_and_relu_edge_cases()
    {
        Assert.Equal(0.5f, ScalarMath.Sigmoid(0f));
        Assert.Equal(1f, ScalarMath.Sigmoid(float.PositiveInfinity));
        Assert.Equal(0f, ScalarMath.Sigmoid(float.NegativeInfinity));
        Assert.Equal(0f, ScalarMath.Relu(-3f));
        Assert.Equal(2.5f, ScalarMath.Relu(2.5f));
        Assert.False(float.IsNegative(ScalarMath.Relu(-0f)));
    }
}
