using Engine.Kernels;
using Engine.Numerics;

namespace Engine.Nn;

/// <summary>
/// Where the backward pass hands each layer's parameter gradients: stored in the workspace's gradient arena
/// (<see cref="StoredGradients"/>: gradient checks, golden vectors), or applied at once by the optimizer of a training
/// step, fused into the weight-gradient product. The layer computes the same maths either way and never knows which.
/// </summary>
internal interface IGradientSink
{
    /// <summary>dW = xᵀ·dz: <paramref name="input"/> is x (B, fanIn), <paramref name="dz"/> is dL/dz (B, fanOut).</summary>
    void WeightGradient(IKernels kernels, DenseLayer layer, ReadOnlyMatrixView input, ReadOnlyMatrixView dz, Span<float> parameters, Span<float> gradients);

    /// <summary>db, already summed into the layer's bias slot of <paramref name="gradients"/>.</summary>
    void BiasGradient(IKernels kernels, DenseLayer layer, Span<float> parameters, Span<float> gradients);
}

/// <summary>Gradients only: dW stored in the gradient arena beside db; the parameters stay as they are.</summary>
internal sealed class StoredGradients : IGradientSink
{
    public static StoredGradients Instance { get; } = new();

    public void WeightGradient(IKernels kernels, DenseLayer layer, ReadOnlyMatrixView input, ReadOnlyMatrixView dz, Span<float> parameters, Span<float> gradients) =>
        kernels.Gemm(Transpose.Yes, Transpose.No, input, dz, layer.Weights(gradients), accumulate: false); // dW = xᵀ·dz

    public void BiasGradient(IKernels kernels, DenseLayer layer, Span<float> parameters, Span<float> gradients) { }
}
