using Engine.Kernels;
using Engine.Numerics;

namespace Engine.Nn;

/// <summary>
/// One fully-connected layer z = x·W + b followed by an activation, a = f(z). W is (fanIn, fanOut) and b is
/// (fanOut), stored at fixed offsets in the network's parameter arena (gradients use the same offsets).
/// </summary>
internal readonly record struct DenseLayer(int FanIn, int FanOut, Activation Activation, int WeightOffset, int BiasOffset)
{
    public int WeightCount => FanIn * FanOut;
    public int ParameterCount => FanIn * FanOut + FanOut;

    public MatrixView Weights(Span<float> arena) => new(arena.Slice(WeightOffset, WeightCount), FanIn, FanOut);
    public Span<float> Bias(Span<float> arena) => arena.Slice(BiasOffset, FanOut);

    /// <summary>Forward: z = x·W + b; a = f(z), computed in place in <paramref name="output"/>.</summary>
    /// <param name="output">(B, fanOut): receives a.</param>
    /// <param name="input">(B, fanIn): x, the previous layer's a.</param>
    /// <param name="parameters">The network's parameter arena.</param>
    public void Forward(IKernels kernels, MatrixView output, ReadOnlyMatrixView input, Span<float> parameters)
    {
        kernels.Gemm(Transpose.No, Transpose.No, input, Weights(parameters), output, accumulate: false); // z = x·W
        kernels.AddBiasToRows(output, Bias(parameters));                                                 // z += b
        kernels.ActivationForward(Activation, output);                                                   // a = f(z)
    }

    /// <summary>
    /// Backward, given dL/da in <paramref name="dOutput"/> (overwritten with dL/dz):
    /// dz = da ⊙ f'(z); db = Σ_rows dz; dx = dz·Wᵀ (skipped for the first layer); dW = xᵀ·dz. With
    /// <paramref name="sgd"/>, the SGD step follows, fused: W ← fma(−lr, fma(l2, W, dW), W) straight from the product
    /// (dW is never stored) and b stepped without decay, after dx has used the weights before the step.
    /// </summary>
    /// <param name="dOutput">(B, fanOut): dL/da on entry, dL/dz on exit.</param>
    /// <param name="output">(B, fanOut): a from the forward pass.</param>
    /// <param name="input">(B, fanIn): x from the forward pass.</param>
    /// <param name="dInput">(B, fanIn): receives dL/dx; empty (0 rows) for the first layer.</param>
    /// <param name="sgd">The step's learning rate and L2 factor, or null for gradients only.</param>
    public void Backward(IKernels kernels, MatrixView dOutput, ReadOnlyMatrixView output, ReadOnlyMatrixView input,
        MatrixView dInput, Span<float> parameters, Span<float> gradients, (float LearningRate, float L2)? sgd = null)
    {
        kernels.ActivationBackward(Activation, output, dOutput);                                                   // dz = da ⊙ f'(z)
        kernels.ColumnSums(dOutput, Bias(gradients));                                                              // db = Σ_rows dz
        if (dInput.Rows > 0)
            kernels.Gemm(Transpose.No, Transpose.Yes, dOutput, Weights(parameters), dInput, accumulate: false);    // dx = dz·Wᵀ
        if (sgd is var (learningRate, l2))
        {
            kernels.GemmSgdUpdate(Transpose.Yes, Transpose.No, input, dOutput, Weights(parameters), learningRate, l2); // W −= lr·(xᵀ·dz + l2·W)
            kernels.SgdUpdate(Bias(parameters), Bias(gradients), learningRate, 0f);                                    // b −= lr·db
        }
        else
        {
            kernels.Gemm(Transpose.Yes, Transpose.No, input, dOutput, Weights(gradients), accumulate: false);          // dW = xᵀ·dz
        }
    }
}
