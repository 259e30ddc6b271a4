using System.Runtime.CompilerServices;
using Engine.Kernels.Reference;
using Engine.Kernels.Simd;

namespace Engine.Kernels;

// Every element-wise formula of the engine, written once (TensorPrimitives style): an operator struct with a scalar
// Invoke, which the reference backend runs in plain loops and is the specification, and a vector Invoke that performs
// the same operations in the same order on every lane. The simd drivers (ElementWise<TVec>) run the vector Invoke over
// whole vectors and the scalar Invoke of the same struct over the tail, so a formula cannot drift between the backends
// or between a body and its tail. Transcendentals are the exception by nature: ScalarMath and VectorMath are the
// deliberate scalar and per-width twins, tested lane for lane against each other.

/// <summary>A formula of one input: result = f(x).</summary>
internal interface IUnaryOperator
{
    float Invoke(float x);
    TVec Invoke<TVec>(TVec x) where TVec : struct, IVec<TVec>;
}

/// <summary>A formula of two inputs: result = f(x, y).</summary>
internal interface IBinaryOperator
{
    float Invoke(float x, float y);
    TVec Invoke<TVec>(TVec x, TVec y) where TVec : struct, IVec<TVec>;
}

/// <summary>
/// An optimizer's update of one parameter from its gradient, with up to two state values kept per parameter
/// (velocity, or Adam's moments). Used unfused (a whole tensor after its gradient is stored) and fused (each tile of a
/// weight-gradient product as it leaves the GEMM): one definition for both.
/// </summary>
internal interface IUpdateRule
{
    /// <summary>State values per parameter: 0 (SGD), 1 (momentum) or 2 (Adam); the drivers read no more than this.</summary>
    static abstract int StateVectors { get; }
    void Invoke(ref float w, float g, ref float s1, ref float s2);
    void Invoke<TVec>(ref TVec w, TVec g, ref TVec s1, ref TVec s2) where TVec : struct, IVec<TVec>;
}

/// <summary>x itself (the output layer's logits).</summary>
internal readonly struct IdentityOperator : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Invoke(float x) => x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public TVec Invoke<TVec>(TVec x) where TVec : struct, IVec<TVec> => x;
}

/// <summary>tanh(x) (ScalarMath.Tanh and its vector twin).</summary>
internal readonly struct TanhOperator : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Invoke(float x) => ScalarMath.Tanh(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public TVec Invoke<TVec>(TVec x) where TVec : struct, IVec<TVec> => TVec.Tanh(x);
}

/// <summary>max(x, 0), NaN propagated.</summary>
internal readonly struct ReluOperator : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Invoke(float x) => ScalarMath.Relu(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public TVec Invoke<TVec>(TVec x) where TVec : struct, IVec<TVec> => TVec.Max(x, TVec.Zero);
}

/// <summary>The logistic sigmoid.</summary>
internal readonly struct SigmoidOperator : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Invoke(float x) => ScalarMath.Sigmoid(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public TVec Invoke<TVec>(TVec x) where TVec : struct, IVec<TVec> => TVec.Sigmoid(x);
}

/// <summary>e^x.</summary>
internal readonly struct ExpOperator : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Invoke(float x) => ScalarMath.Exp(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public TVec Invoke<TVec>(TVec x) where TVec : struct, IVec<TVec> => TVec.Exp(x);
}

/// <summary>e^(x − max): softmax's shifted exponential, every exponent ≤ 0.</summary>
internal readonly struct ShiftedExpOperator(float max) : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Invoke(float x) => ScalarMath.Exp(x - max);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public TVec Invoke<TVec>(TVec x) where TVec : struct, IVec<TVec> => TVec.Exp(TVec.Subtract(x, TVec.Broadcast(max)));
}

/// <summary>x / divisor, one correctly rounded division (softmax's normalisation, the byte-to-float scaling).</summary>
internal readonly struct DivideOperator(float divisor) : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Invoke(float x) => x / divisor;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public TVec Invoke<TVec>(TVec x) where TVec : struct, IVec<TVec> => TVec.Divide(x, TVec.Broadcast(divisor));
}

/// <summary>x · scale (softmax-cross-entropy's 1/batch).</summary>
internal readonly struct ScaleOperator(float scale) : IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Invoke(float x) => x * scale;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public TVec Invoke<TVec>(TVec x) where TVec : struct, IVec<TVec> => TVec.Multiply(x, TVec.Broadcast(scale));
    /// <summary>The label's entry of softmax-cross-entropy's gradient: (p − 1) · scale.</summary>
    public float AtLabel(float p) => (p - 1f) * scale;
}

/// <summary>x + y (bias rows, column sums row by row).</summary>
internal readonly struct AddOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Invoke(float x, float y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public TVec Invoke<TVec>(TVec x, TVec y) where TVec : struct, IVec<TVec> => TVec.Add(x, y);
}

/// <summary>Backward of tanh from its output a: g · (1 − a²), the 1 − a² as fma(−a, a, 1).</summary>
internal readonly struct TanhGradientOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Invoke(float a, float g) => g * MathF.FusedMultiplyAdd(-a, a, 1f);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public TVec Invoke<TVec>(TVec a, TVec g) where TVec : struct, IVec<TVec> =>
        TVec.Multiply(g, TVec.Fma(TVec.Subtract(TVec.Zero, a), a, TVec.Broadcast(1f)));
}

/// <summary>Backward of ReLU from its output a: a &gt; 0 ? g : 0 (d relu(z)/dz = [z &gt; 0] = [a &gt; 0]).</summary>
internal readonly struct ReluGradientOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Invoke(float a, float g) => a > 0f ? g : 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public TVec Invoke<TVec>(TVec a, TVec g) where TVec : struct, IVec<TVec> => TVec.WherePositive(a, g);
}

/// <summary>Backward of the sigmoid from its output a: g · (a · (1 − a)).</summary>
internal readonly struct SigmoidGradientOperator : IBinaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Invoke(float a, float g) => g * (a * (1f - a));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public TVec Invoke<TVec>(TVec a, TVec g) where TVec : struct, IVec<TVec> =>
        TVec.Multiply(g, TVec.Multiply(a, TVec.Subtract(TVec.Broadcast(1f), a)));
}

/// <summary>
/// SGD with L2: w ← flush(fma(−lr, fma(l2, w, g), w)), i.e. w −= lr·(g + l2·w). Biases pass l2 = 0. Every rule stores
/// its results through flush (<see cref="ScalarMath.FlushSubnormal"/>): a subnormal result becomes ±0.
/// </summary>
internal readonly struct SgdRule(float learningRate, float l2) : IUpdateRule
{
    public static int StateVectors => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(ref float w, float g, ref float s1, ref float s2) =>
        w = ScalarMath.FlushSubnormal(MathF.FusedMultiplyAdd(-learningRate, MathF.FusedMultiplyAdd(l2, w, g), w));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke<TVec>(ref TVec w, TVec g, ref TVec s1, ref TVec s2) where TVec : struct, IVec<TVec> =>
        w = TVec.FlushSubnormal(TVec.Fma(TVec.Broadcast(-learningRate), TVec.Fma(TVec.Broadcast(l2), w, g), w));
}

/// <summary>
/// SGD with momentum μ (PyTorch's convention, dampening 0), each step rounded to float: d = fma(l2, w, g);
/// v ← flush(fma(μ, v, d)); u = nesterov ? fma(μ, v, d) : v; w ← flush(fma(−lr, u, w)). s1 is the velocity, starting at 0.
/// </summary>
internal readonly struct MomentumRule(float learningRate, float l2, float momentum, bool nesterov) : IUpdateRule
{
    public static int StateVectors => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(ref float w, float g, ref float velocity, ref float s2)
    {
        float d = MathF.FusedMultiplyAdd(l2, w, g);
        float v = velocity = ScalarMath.FlushSubnormal(MathF.FusedMultiplyAdd(momentum, velocity, d));
        float u = nesterov ? MathF.FusedMultiplyAdd(momentum, v, d) : v;
        w = ScalarMath.FlushSubnormal(MathF.FusedMultiplyAdd(-learningRate, u, w));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke<TVec>(ref TVec w, TVec g, ref TVec velocity, ref TVec s2) where TVec : struct, IVec<TVec>
    {
        var mu = TVec.Broadcast(momentum);
        var d = TVec.Fma(TVec.Broadcast(l2), w, g);
        var v = velocity = TVec.FlushSubnormal(TVec.Fma(mu, velocity, d));
        w = TVec.FlushSubnormal(TVec.Fma(TVec.Broadcast(-learningRate), nesterov ? TVec.Fma(mu, v, d) : v, w));
    }
}

/// <summary>
/// Adam/AdamW (PyTorch's convention), each step rounded to float, with the scalars of <see cref="AdamStep"/>:
/// w₀ = w·Decay; d = fma(L2, w₀, g); m ← flush(fma(1−β1, d − m, m)); v ← flush(fma((1−β2)·d, d, β2·v));
/// w ← flush(fma(−StepSize, m / (√v / √(1−β2^t) + ε), w₀)). s1 = m and s2 = v start at 0.
/// </summary>
internal readonly struct AdamRule(AdamStep step) : IUpdateRule
{
    public static int StateVectors => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke(ref float w, float g, ref float m, ref float v)
    {
        float w0 = w * step.Decay;
        float d = MathF.FusedMultiplyAdd(step.L2, w0, g);
        m = ScalarMath.FlushSubnormal(MathF.FusedMultiplyAdd(step.OneMinusBeta1, d - m, m));
        v = ScalarMath.FlushSubnormal(MathF.FusedMultiplyAdd(step.OneMinusBeta2 * d, d, step.Beta2 * v));
        float denominator = MathF.Sqrt(v) / step.SqrtBiasCorrection2 + step.Epsilon;
        w = ScalarMath.FlushSubnormal(MathF.FusedMultiplyAdd(-step.StepSize, m / denominator, w0));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Invoke<TVec>(ref TVec w, TVec g, ref TVec m, ref TVec v) where TVec : struct, IVec<TVec>
    {
        var w0 = TVec.Multiply(w, TVec.Broadcast(step.Decay));
        var d = TVec.Fma(TVec.Broadcast(step.L2), w0, g);
        m = TVec.FlushSubnormal(TVec.Fma(TVec.Broadcast(step.OneMinusBeta1), TVec.Subtract(d, m), m));
        v = TVec.FlushSubnormal(TVec.Fma(TVec.Multiply(TVec.Broadcast(step.OneMinusBeta2), d), d, TVec.Multiply(TVec.Broadcast(step.Beta2), v)));
        var denominator = TVec.Add(TVec.Divide(TVec.Sqrt(v), TVec.Broadcast(step.SqrtBiasCorrection2)), TVec.Broadcast(step.Epsilon));
        w = TVec.FlushSubnormal(TVec.Fma(TVec.Broadcast(-step.StepSize), TVec.Divide(m, denominator), w0));
    }
}
