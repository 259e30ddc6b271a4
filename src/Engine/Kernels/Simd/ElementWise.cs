using System.Runtime.CompilerServices;

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
    /// <summary>An optimizer's update rule on a tensor and its state (see <see cref="IUpdateRule"/>).</summary>
    void Update<TRule>(in TRule rule, Span<float> weights, ReadOnlySpan<float> gradient, Span<float> first, Span<float> second) where TRule : struct, IUpdateRule;
    /// <summary>A GEMM epilogue on rows×n of a stored product P (row stride ldp) into C (ldc), with this vector type's formulas.</summary>
    unsafe void Finish<TEpilogue>(in TEpilogue epilogue, float* product, int ldp, float* c, int ldc, int rows, int n) where TEpilogue : struct, IGemmEpilogue;
    /// <summary>x = exp(x) (for tests of the vector exp).</summary>
    void Exp(Span<float> x);
    /// <summary>d = s / divisor, bytes widened exactly to float.</summary>
    void BytesToFloats(ReadOnlySpan<byte> s, Span<float> d, float divisor);
}

/// <summary>
/// The row-level kernels of <see cref="IElementWise"/> for one vector type, each a formula of Formulas.cs run by one of
/// the drivers below: whole vectors through the formula's vector Invoke, the tail through its scalar Invoke (the
/// reference's own definition), so the result is bit-identical to ReferenceKernels. AggressiveOptimization: hot loops
/// over Vector512 are far too slow at tier 0, so they are compiled fully at once.
/// </summary>
internal sealed unsafe class ElementWise<TVec> : IElementWise where TVec : struct, IVec<TVec>
{
    static int W => TVec.Count;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AddInPlace(Span<float> target, ReadOnlySpan<float> values)
    {
        fixed (float* z = target, b = values) Map(new AddOperator(), z, b, z, target.Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Activate(Activation activation, Span<float> row)
    {
        fixed (float* z = row)
        {
            switch (activation)
            {
                case Activation.Identity: return;
                case Activation.Tanh: Map(new TanhOperator(), z, z, row.Length); return;
                case Activation.Relu: Map(new ReluOperator(), z, z, row.Length); return;
                case Activation.Sigmoid: Map(new SigmoidOperator(), z, z, row.Length); return;
                default: throw new ArgumentOutOfRangeException(nameof(activation));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ActivationBackward(Activation activation, ReadOnlySpan<float> output, Span<float> gradient)
    {
        fixed (float* a = output, g = gradient)
        {
            switch (activation)
            {
                case Activation.Identity: return;
                case Activation.Tanh: Map(new TanhGradientOperator(), a, g, g, gradient.Length); return;
                case Activation.Relu: Map(new ReluGradientOperator(), a, g, g, gradient.Length); return;
                case Activation.Sigmoid: Map(new SigmoidGradientOperator(), a, g, g, gradient.Length); return;
                default: throw new ArgumentOutOfRangeException(nameof(activation));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ExpShifted(ReadOnlySpan<float> logits, float max, Span<float> probabilities)
    {
        fixed (float* z = logits, p = probabilities) Map(new ShiftedExpOperator(max), z, p, logits.Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Divide(Span<float> values, float divisor)
    {
        fixed (float* p = values) Map(new DivideOperator(divisor), p, p, values.Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Scale(ReadOnlySpan<float> values, float scale, Span<float> result)
    {
        fixed (float* p = values, d = result) Map(new ScaleOperator(scale), p, d, values.Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Exp(Span<float> values)
    {
        fixed (float* x = values) Map(new ExpOperator(), x, x, values.Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Update<TRule>(in TRule rule, Span<float> weights, ReadOnlySpan<float> gradient, Span<float> first, Span<float> second)
        where TRule : struct, IUpdateRule
    {
        fixed (float* w = weights, g = gradient, s1 = first, s2 = second) UpdateAll(rule, w, g, s1, s2, weights.Length);
    }

    /// <summary>
    /// <see cref="Update{TRule}(in TRule, float*, float*, float*, float*, int)"/> as the root of its own compilation, for a
    /// whole tensor: inlined into the span method above, Adam's vector operations exceeded the JIT's inlining budget and
    /// became calls (the stored-gradient Adam step of 784×128 took 590 µs instead of 60). The fused epilogue keeps the
    /// inlined form: it calls per tile row, where a call each time cost the SGD step a third more.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void UpdateAll<TRule>(in TRule rule, float* w, float* g, float* s1, float* s2, int n) where TRule : struct, IUpdateRule =>
        Update(rule, w, g, s1, s2, n);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Finish<TEpilogue>(in TEpilogue epilogue, float* product, int ldp, float* c, int ldc, int rows, int n) where TEpilogue : struct, IGemmEpilogue =>
        epilogue.Finish<TVec>(0, 0, product, ldp, c, ldc, rows, n);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void BytesToFloats(ReadOnlySpan<byte> source, Span<float> destination, float divisor)
    {
        fixed (byte* s = source)
        fixed (float* d = destination)
        {
            var op = new DivideOperator(divisor);
            int n = source.Length, j = 0;
            for (; j + W <= n; j += W) TVec.Store(op.Invoke(TVec.LoadBytes(s + j)), d + j);
            for (; j < n; j++) d[j] = op.Invoke(s[j]);
        }
    }

    // The drivers: whole vectors, then the tail element by element with the same operator's scalar Invoke.

    /// <summary>r[j] = op(x[j]) for j &lt; n; r may be x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Map<TOp>(TOp op, float* x, float* r, int n) where TOp : struct, IUnaryOperator
    {
        int j = 0;
        for (; j + W <= n; j += W) TVec.Store(op.Invoke(TVec.Load(x + j)), r + j);
        for (; j < n; j++) r[j] = op.Invoke(x[j]);
    }

    /// <summary>r[j] = op(x[j], y[j]) for j &lt; n; r may be x or y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Map<TOp>(TOp op, float* x, float* y, float* r, int n) where TOp : struct, IBinaryOperator
    {
        int j = 0;
        for (; j + W <= n; j += W) TVec.Store(op.Invoke(TVec.Load(x + j), TVec.Load(y + j)), r + j);
        for (; j < n; j++) r[j] = op.Invoke(x[j], y[j]);
    }

    /// <summary>
    /// The rule on n parameters w with gradients g and the state the rule keeps (s1, s2: read and written only as far as
    /// <see cref="IUpdateRule.StateVectors"/> says). Also the GEMM's fused update epilogue, tile row by tile row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Update<TRule>(in TRule rule, float* w, float* g, float* s1, float* s2, int n) where TRule : struct, IUpdateRule
    {
        int j = 0;
        for (; j + W <= n; j += W)
        {
            TVec wj = TVec.Load(w + j);
            TVec first = TRule.StateVectors >= 1 ? TVec.Load(s1 + j) : TVec.Zero;
            TVec second = TRule.StateVectors >= 2 ? TVec.Load(s2 + j) : TVec.Zero;
            rule.Invoke(ref wj, TVec.Load(g + j), ref first, ref second);
            TVec.Store(wj, w + j);
            if (TRule.StateVectors >= 1) TVec.Store(first, s1 + j);
            if (TRule.StateVectors >= 2) TVec.Store(second, s2 + j);
        }
        float unused1 = 0, unused2 = 0;
        for (; j < n; j++)
            rule.Invoke(ref w[j], g[j], ref TRule.StateVectors >= 1 ? ref s1[j] : ref unused1, ref TRule.StateVectors >= 2 ? ref s2[j] : ref unused2);
    }
}
