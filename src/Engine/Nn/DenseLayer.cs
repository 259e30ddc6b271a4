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

    /// <summary>Forward: z = x·W + b; a = f(z), in one GEMM whose epilogue adds the bias and applies f to each tile.</summary>
    /// <param name="output">(B, fanOut): receives a.</param>
    /// <param name="input">(B, fanIn): x, the previous layer's a.</param>
    /// <param name="parameters">The network's parameter arena.</param>
    /// <param name="packedWeights">This layer's W in the backend's panel layout (inference), or null.</param>
    public void Forward(IKernels kernels, MatrixView output, ReadOnlyMatrixView input, Span<float> parameters, PackedWeights? packedWeights = null) =>
        Epilogues.DenseForward(kernels, input, Weights(parameters), packedWeights, Bias(parameters), Activation, output); // a = f(x·W + b)

    /// <summary>
    /// Backward, given dL/da in <paramref name="dOutput"/> (overwritten with dL/dz): dz = da ⊙ f'(z); db = Σ_rows dz;
    /// dx = dz·Wᵀ (skipped for the first layer); then dW = xᵀ·dz and db go to <paramref name="sink"/>, which stores them
    /// or steps the parameters with them. dx is computed first, so it always sees the weights from before any step.
    /// </summary>
    /// <param name="dOutput">(B, fanOut): dL/da on entry, dL/dz on exit.</param>
    /// <param name="output">(B, fanOut): a from the forward pass.</param>
    /// <param name="input">(B, fanIn): x from the forward pass.</param>
    /// <param name="dInput">(B, fanIn): receives dL/dx; empty (0 rows) for the first layer.</param>
    public void Backward(IKernels kernels, MatrixView dOutput, ReadOnlyMatrixView output, ReadOnlyMatrixView input,
        MatrixView dInput, Span<float> parameters, Span<float> gradients, IGradientSink sink)
    {
        kernels.ActivationBackward(Activation, output, dOutput);                                                   // dz = da ⊙ f'(z)
        kernels.ColumnSums(dOutput, Bias(gradients));                                                              // db = Σ_rows dz
        if (dInput.Rows > 0)
            kernels.Gemm(Transpose.No, Transpose.Yes, dOutput, Weights(parameters), dInput, accumulate: false);    // dx = dz·Wᵀ
        sink.WeightGradient(kernels, this, input, dOutput, parameters, gradients);                                // dW = xᵀ·dz
        sink.BiasGradient(kernels, this, parameters, gradients);                                                   // db
    }
}
