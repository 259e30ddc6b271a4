namespace Engine.Kernels;

/// <summary>
/// The scalars of one Adam/AdamW update, computed once per step on the host (in double, rounded once to float) so
/// that every backend and tensor uses the same bits. See <see cref="IKernels.AdamUpdate"/> for how they are used.
/// </summary>
/// <param name="StepSize">lr / (1 − β1^t).</param>
/// <param name="OneMinusBeta1">1 − β1 (the lerp weight of the first moment).</param>
/// <param name="Beta2">β2.</param>
/// <param name="OneMinusBeta2">1 − β2.</param>
/// <param name="SqrtBiasCorrection2">√(1 − β2^t).</param>
/// <param name="Epsilon">ε.</param>
/// <param name="L2">Adam: the L2 factor added to the gradient; AdamW and biases: 0.</param>
/// <param name="Decay">AdamW: the decoupled decay factor 1 − lr·λ; Adam and biases: 1.</param>
public readonly record struct AdamStep(float StepSize, float OneMinusBeta1, float Beta2, float OneMinusBeta2, float SqrtBiasCorrection2,
                                       float Epsilon, float L2, float Decay)
{
    /// <summary>The scalars of step <paramref name="t"/> (from 1), as PyTorch's Adam/AdamW compute them.</summary>
    /// <param name="learningRate">lr.</param>
    /// <param name="beta1">β1.</param>
    /// <param name="beta2">β2.</param>
    /// <param name="epsilon">ε.</param>
    /// <param name="weightDecay">λ: coupled L2 for Adam, decoupled decay for AdamW.</param>
    /// <param name="decoupled">AdamW's decoupled weight decay instead of L2 in the gradient.</param>
    /// <param name="t">The step number, from 1.</param>
    public static AdamStep For(float learningRate, float beta1, float beta2, float epsilon, float weightDecay, bool decoupled, long t) => new(
        StepSize: (float)(learningRate / (1 - Math.Pow(beta1, t))),
        OneMinusBeta1: (float)(1 - (double)beta1),
        Beta2: beta2,
        OneMinusBeta2: (float)(1 - (double)beta2),
        SqrtBiasCorrection2: (float)Math.Sqrt(1 - Math.Pow(beta2, t)),
        Epsilon: epsilon,
        L2: decoupled ? 0f : weightDecay,
        Decay: decoupled ? (float)(1 - (double)learningRate * weightDecay) : 1f);

    /// <summary>The same step without L2 or decay (for biases).</summary>
    public AdamStep WithoutDecay() => this with { L2 = 0f, Decay = 1f };
}
