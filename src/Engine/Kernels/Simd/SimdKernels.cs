using Engine.Kernels.Reference;
using Engine.Numerics;

namespace Engine.Kernels.Simd;

/// <summary>
/// The performance backend: blocked, packed, multi-threaded GEMM and vectorised element-wise kernels, each
/// computing exactly the bits of <see cref="ReferenceKernels"/> (the numerics contract), on every
/// instruction-set path and thread count.
/// </summary>
public sealed class SimdKernels : IKernels
{
    public string Name => "simd";
    public InstructionSet InstructionSet { get; }
    public int Threads { get; }

    public SimdKernels(InstructionSet isa, int threads)
    {
        if (threads < 1) throw new EngineException($"threads must be at least 1, got {threads}");
        if (!InstructionSets.IsSupported(isa)) throw new EngineException($"instruction set {isa.Name()} is not supported on this CPU");
        InstructionSet = isa;
        Threads = threads;
    }

    public void Dispose() { }

    // Placeholder while the packed GEMM and vector kernels land: the reference twins.
    readonly ReferenceKernels _r = ReferenceKernels.Instance;
    public void Gemm(Transpose transA, Transpose transB, ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView c, bool accumulate) => _r.Gemm(transA, transB, a, b, c, accumulate);
    public void AddBiasToRows(MatrixView z, ReadOnlySpan<float> bias) => _r.AddBiasToRows(z, bias);
    public void ActivationForward(Activation activation, MatrixView z) => _r.ActivationForward(activation, z);
    public void ActivationBackward(Activation activation, ReadOnlyMatrixView output, MatrixView gradient) => _r.ActivationBackward(activation, output, gradient);
    public double SoftmaxCrossEntropy(ReadOnlyMatrixView logits, ReadOnlySpan<int> labels, MatrixView probabilities) => _r.SoftmaxCrossEntropy(logits, labels, probabilities);
    public void SoftmaxCrossEntropyBackward(ReadOnlyMatrixView probabilities, ReadOnlySpan<int> labels, float scale, MatrixView dLogits) => _r.SoftmaxCrossEntropyBackward(probabilities, labels, scale, dLogits);
    public void ColumnSums(ReadOnlyMatrixView m, Span<float> sums) => _r.ColumnSums(m, sums);
    public void SgdUpdate(Span<float> weights, ReadOnlySpan<float> gradient, float learningRate, float l2) => _r.SgdUpdate(weights, gradient, learningRate, l2);
}
