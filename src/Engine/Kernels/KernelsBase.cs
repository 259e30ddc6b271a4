using Engine.Numerics;

namespace Engine.Kernels;

/// <summary>
/// The public, non-generic operations of <see cref="IKernels"/> written once over the two generic members every backend
/// implements (<see cref="IKernels.Gemm{TEpilogue}(Transpose, Transpose, Numerics.ReadOnlyMatrixView, Numerics.ReadOnlyMatrixView, Numerics.MatrixView, in TEpilogue)"/> and <see cref="IKernels.Update{TRule}"/>): callers outside the
/// library cannot name an epilogue or a rule type, so they get these.
/// </summary>
internal abstract class KernelsBase
{
    public abstract void Gemm<TEpilogue>(Transpose transA, Transpose transB, ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView c, in TEpilogue epilogue)
        where TEpilogue : struct, IGemmEpilogue;

    public abstract void Update<TRule>(in TRule rule, Span<float> weights, ReadOnlySpan<float> gradient, Span<float> first, Span<float> second)
        where TRule : struct, IUpdateRule;

    /// <summary>The check both backends' <see cref="Update{TRule}"/> make: gradient and the state the rule keeps as long as the weights.</summary>
    protected static void RequireUpdateLengths<TRule>(int weights, int gradient, int first, int second) where TRule : struct, IUpdateRule =>
        Shape.Require(gradient == weights && (TRule.StateVectors < 1 || first == weights) && (TRule.StateVectors < 2 || second == weights),
                      "weights, gradient and state lengths differ");

    public void Gemm(Transpose transA, Transpose transB, ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView c, bool accumulate)
    {
        if (accumulate) Gemm(transA, transB, a, b, c, new AccumulateProduct());
        else Gemm(transA, transB, a, b, c, new StoreProduct());
    }

    public void SgdUpdate(Span<float> weights, ReadOnlySpan<float> gradient, float learningRate, float l2) =>
        Update(new SgdRule(learningRate, l2), weights, gradient, default, default);

    public void MomentumUpdate(Span<float> weights, ReadOnlySpan<float> gradient, Span<float> velocity, float learningRate, float l2, float momentum, bool nesterov) =>
        Update(new MomentumRule(learningRate, l2, momentum, nesterov), weights, gradient, velocity, default);

    public void AdamUpdate(Span<float> weights, ReadOnlySpan<float> gradient, Span<float> firstMoment, Span<float> secondMoment, in AdamStep step) =>
        Update(new AdamRule(step), weights, gradient, firstMoment, secondMoment);
}
