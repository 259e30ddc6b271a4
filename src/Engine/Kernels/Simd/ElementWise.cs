using System.Runtime.CompilerServices;
using Engine.Kernels.Reference;

namespace Engine.Kernels.Simd;

/// <summary>Row-level element-wise kernels of the simd backend, one implementation per vector type.</summary>
internal interface IElementWise
{
    static IElementWise For(InstructionSet isa) => isa switch
    {
        InstructionSet.Avx512 => new ElementWise<V512>(),
        InstructionSet.Avx2 => new ElementWise<V256>(),
        InstructionSet.Vector => new ElementWise<VPortable>(),
        _ => new ElementWise<VScalar>(),
    };

    /// <summary>target += values, element by element (bias rows, and column sums row by row).</summary>
    void AddInPlace(Span<float> target, ReadOnlySpan<float> values);
    void Activate(Activation activation, Span<float> row);
    void ActivationBackward(Activation activation, ReadOnlySpan<float> output, Span<float> gradient);
    /// <summary>p = exp(z − max) for the whole row.</summary>
    void ExpShifted(ReadOnlySpan<float> z, float max, Span<float> p);
    /// <summary>p /= sum.</summary>
    void Divide(Span<float> p, float sum);
    /// <summary>d = p · scale.</summary>
    void Scale(ReadOnlySpan<float> p, float scale, Span<float> d);
    /// <summary>w = fma(−lr, fma(l2, w, g), w).</summary>
    void Sgd(Span<float> w, ReadOnlySpan<float> g, float learningRate, float l2);
    /// <summary>The momentum update of <see cref="IKernels.MomentumUpdate"/>.</summary>
    void Momentum(Span<float> w, ReadOnlySpan<float> g, Span<float> velocity, float learningRate, float l2, float momentum, bool nesterov);
    /// <summary>The Adam/AdamW update of <see cref="IKernels.AdamUpdate"/>.</summary>
    void Adam(Span<float> w, ReadOnlySpan<float> g, Span<float> m, Span<float> v, in AdamStep step);
    /// <summary>x = exp(x) (for tests of the vector exp).</summary>
    void Exp(Span<float> x);
    /// <summary>d = s / divisor, bytes widened exactly to float.</summary>
    void BytesToFloats(ReadOnlySpan<byte> s, Span<float> d, float divisor);
}

/// <summary>
/// Each method runs whole vectors, then finishes the tail with the scalar twin. Every vector lane performs the
/// scalar reference's operations in the same order, so the result is bit-identical to ReferenceKernels.
/// AggressiveOptimization: hot loops over Vector512 are far too slow at tier 0, so they are compiled fully at once.
/// </summary>
internal sealed unsafe class ElementWise<TVec> : IElementWise where TVec : struct, IVec<TVec>
{
    static int W => TVec.Count;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AddInPlace(Span<float> target, ReadOnlySpan<float> values)
    {
        fixed (float* z = target, b = values)
        {
            int n = target.Length, j = 0;
            for (; j + W <= n; j += W) TVec.Store(TVec.Add(TVec.Load(z + j), TVec.Load(b + j)), z + j);
            for (; j < n; j++) z[j] += b[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Activate(Activation activation, Span<float> row)
    {
        fixed (float* z = row)
        {
            int n = row.Length, j = 0;
            switch (activation)
            {
                case Activation.Identity: return;
                case Activation.Tanh:
                    for (; j + W <= n; j += W) TVec.Store(TVec.Tanh(TVec.Load(z + j)), z + j);
                    for (; j < n; j++) z[j] = ScalarMath.Tanh(z[j]);
                    return;
                case Activation.Relu:
                    for (; j + W <= n; j += W) TVec.Store(TVec.Max(TVec.Load(z + j), TVec.Zero), z + j);
                    for (; j < n; j++) z[j] = ScalarMath.Relu(z[j]);
                    return;
                case Activation.Sigmoid:
                    for (; j + W <= n; j += W) TVec.Store(TVec.Sigmoid(TVec.Load(z + j)), z + j);
                    for (; j < n; j++) z[j] = ScalarMath.Sigmoid(z[j]);
                    return;
                default: throw new ArgumentOutOfRangeException(nameof(activation));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ActivationBackward(Activation activation, ReadOnlySpan<float> output, Span<float> gradient)
    {
        fixed (float* a = output, g = gradient)
        {
            int n = gradient.Length, j = 0;
            var one = TVec.Broadcast(1f);
            switch (activation)
            {
                case Activation.Identity: return;
                case Activation.Tanh: // g · fma(−a, a, 1)
                    for (; j + W <= n; j += W)
                    {
                        var aj = TVec.Load(a + j);
                        TVec.Store(TVec.Multiply(TVec.Load(g + j), TVec.Fma(TVec.Subtract(TVec.Zero, aj), aj, one)), g + j);
                    }
                    for (; j < n; j++) g[j] *= MathF.FusedMultiplyAdd(-a[j], a[j], 1f);
                    return;
                case Activation.Relu: // a > 0 ? g : 0
                    for (; j + W <= n; j += W) TVec.Store(TVec.WherePositive(TVec.Load(a + j), TVec.Load(g + j)), g + j);
                    for (; j < n; j++) g[j] = a[j] > 0f ? g[j] : 0f;
                    return;
                case Activation.Sigmoid: // g · (a · (1 − a))
                    for (; j + W <= n; j += W)
                    {
                        var aj = TVec.Load(a + j);
                        TVec.Store(TVec.Multiply(TVec.Load(g + j), TVec.Multiply(aj, TVec.Subtract(one, aj))), g + j);
                    }
                    for (; j < n; j++) g[j] *= a[j] * (1f - a[j]);
                    return;
                default: throw new ArgumentOutOfRangeException(nameof(activation));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ExpShifted(ReadOnlySpan<float> logits, float max, Span<float> probabilities)
    {
        fixed (float* z = logits, p = probabilities)
        {
            int n = logits.Length, j = 0;
            var m = TVec.Broadcast(max);
            for (; j + W <= n; j += W) TVec.Store(TVec.Exp(TVec.Subtract(TVec.Load(z + j), m)), p + j);
            for (; j < n; j++) p[j] = ScalarMath.Exp(z[j] - max);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Divide(Span<float> values, float divisor)
    {
        fixed (float* p = values)
        {
            int n = values.Length, j = 0;
            var s = TVec.Broadcast(divisor);
            for (; j + W <= n; j += W) TVec.Store(TVec.Divide(TVec.Load(p + j), s), p + j);
            for (; j < n; j++) p[j] /= divisor;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Scale(ReadOnlySpan<float> values, float scale, Span<float> result)
    {
        fixed (float* p = values, d = result)
        {
            int n = values.Length, j = 0;
            var s = TVec.Broadcast(scale);
            for (; j + W <= n; j += W) TVec.Store(TVec.Multiply(TVec.Load(p + j), s), d + j);
            for (; j < n; j++) d[j] = p[j] * scale;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Sgd(Span<float> weights, ReadOnlySpan<float> gradient, float learningRate, float l2)
    {
        fixed (float* w = weights, g = gradient) Sgd(w, g, weights.Length, learningRate, l2);
    }

    /// <summary>w = fma(−lr, fma(l2, w, g), w) over n elements; also the GEMM's fused SGD epilogue, tile row by tile row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sgd(float* w, float* g, int n, float learningRate, float l2)
    {
        int j = 0;
        var minusLr = TVec.Broadcast(-learningRate);
        var lambda = TVec.Broadcast(l2);
        for (; j + W <= n; j += W)
        {
            var wj = TVec.Load(w + j);
            TVec.Store(TVec.Fma(minusLr, TVec.Fma(lambda, wj, TVec.Load(g + j)), wj), w + j);
        }
        for (; j < n; j++) w[j] = MathF.FusedMultiplyAdd(-learningRate, MathF.FusedMultiplyAdd(l2, w[j], g[j]), w[j]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Momentum(Span<float> weights, ReadOnlySpan<float> gradient, Span<float> velocity, float learningRate, float l2, float momentum, bool nesterov)
    {
        fixed (float* w = weights, g = gradient, u = velocity)
        {
            int n = weights.Length, j = 0;
            var minusLr = TVec.Broadcast(-learningRate);
            var lambda = TVec.Broadcast(l2);
            var mu = TVec.Broadcast(momentum);
            for (; j + W <= n; j += W)
            {
                var wj = TVec.Load(w + j);
                var d = TVec.Fma(lambda, wj, TVec.Load(g + j));
                var v = TVec.Fma(mu, TVec.Load(u + j), d);
                TVec.Store(v, u + j);
                TVec.Store(TVec.Fma(minusLr, nesterov ? TVec.Fma(mu, v, d) : v, wj), w + j);
            }
            ScalarTwin.MomentumUpdate(new Span<float>(w + j, n - j), new ReadOnlySpan<float>(g + j, n - j), new Span<float>(u + j, n - j), learningRate, l2, momentum, nesterov);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Adam(Span<float> weights, ReadOnlySpan<float> gradient, Span<float> firstMoment, Span<float> secondMoment, in AdamStep step)
    {
        fixed (float* w = weights, g = gradient, m = firstMoment, v = secondMoment)
        {
            int n = weights.Length, j = 0;
            var decay = TVec.Broadcast(step.Decay);
            var lambda = TVec.Broadcast(step.L2);
            var c1 = TVec.Broadcast(step.OneMinusBeta1);
            var b2 = TVec.Broadcast(step.Beta2);
            var c2 = TVec.Broadcast(step.OneMinusBeta2);
            var root = TVec.Broadcast(step.SqrtBiasCorrection2);
            var eps = TVec.Broadcast(step.Epsilon);
            var minusStep = TVec.Broadcast(-step.StepSize);
            for (; j + W <= n; j += W)
            {
                var wj = TVec.Multiply(TVec.Load(w + j), decay);
                var d = TVec.Fma(lambda, wj, TVec.Load(g + j));
                var mj = TVec.Load(m + j);
                mj = TVec.Fma(c1, TVec.Subtract(d, mj), mj);
                var vj = TVec.Fma(TVec.Multiply(c2, d), d, TVec.Multiply(b2, TVec.Load(v + j)));
                TVec.Store(mj, m + j);
                TVec.Store(vj, v + j);
                var denominator = TVec.Add(TVec.Divide(TVec.Sqrt(vj), root), eps);
                TVec.Store(TVec.Fma(minusStep, TVec.Divide(mj, denominator), wj), w + j);
            }
            ScalarTwin.AdamUpdate(new Span<float>(w + j, n - j), new ReadOnlySpan<float>(g + j, n - j), new Span<float>(m + j, n - j), new Span<float>(v + j, n - j), step);
        }
    }

    /// <summary>The reference backend, for the tails: the scalar twin itself rather than a copy of it.</summary>
    static readonly ReferenceKernels ScalarTwin = new();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Exp(Span<float> values)
    {
        fixed (float* x = values)
        {
            int n = values.Length, j = 0;
            for (; j + W <= n; j += W) TVec.Store(TVec.Exp(TVec.Load(x + j)), x + j);
            for (; j < n; j++) x[j] = ScalarMath.Exp(x[j]);
        }
    }


    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void BytesToFloats(ReadOnlySpan<byte> source, Span<float> destination, float divisor)
    {
        fixed (byte* s = source)
        fixed (float* d = destination)
        {
            int n = source.Length, j = 0;
            var div = TVec.Broadcast(divisor);
            for (; j + W <= n; j += W) TVec.Store(TVec.Divide(TVec.LoadBytes(s + j), div), d + j);
            for (; j < n; j++) d[j] = s[j] / divisor;
        }
    }
}
