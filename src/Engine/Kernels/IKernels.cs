using Engine.Numerics;

namespace Engine.Kernels;

/// <summary>
/// The operations a backend supplies to the network code. The network is written once against this
/// interface; <c>reference</c> (scalar, the specification) and later <c>simd</c> implement it and must
/// agree bit for bit, per the numerics contract in the README.
/// </summary>
public interface IKernels : IDisposable
{
    /// <summary>Backends that own resources (the simd backend's worker threads) release them here.</summary>
    void IDisposable.Dispose() { }

    /// <summary>Backend name as given to <c>--backend</c>.</summary>
    string Name { get; }

    /// <summary>How many parts <see cref="RunParts"/> runs side by side: the backend's threads (1 for the reference).</summary>
    int Parallelism => 1;

    /// <summary>
    /// Runs parts 0..parts−1 of <paramref name="work"/> (parts ≤ <see cref="Parallelism"/>) and returns when all are done.
    /// This is how callers above the kernels (row-parallel inference) use the backend's threads without knowing its type,
    /// so a wrapped backend takes the same path. A part may use only <see cref="PartKernels"/> of its own number.
    /// </summary>
    internal void RunParts(IParallelWork work, int parts)
    {
        for (int part = 0; part < parts; part++) work.Execute(part, parts);
    }

    /// <summary>Single-threaded kernels for part <paramref name="part"/> of a <see cref="RunParts"/> run, with buffers of their own.</summary>
    internal IKernels PartKernels(int part) => this;

    /// <summary>
    /// The GEMM: C receives the product P = op(A)·op(B) (op(A) is M×K, op(B) is K×N, C is M×N) as
    /// <paramref name="epilogue"/> says: stored, accumulated, finished with a bias and an activation (a layer's forward
    /// pass) or applied as an optimizer step to the weights in C (see GemmEpilogues.cs). Every P element is
    /// <c>acc = fma(a[i,k], b[k,j], acc)</c> for k = 0..K-1 in order, starting from 0 (from C when accumulating); the
    /// epilogue then runs its formula on it, exactly as the reference's plain product followed by the plain step.
    /// </summary>
    internal void Gemm<TEpilogue>(Transpose transA, Transpose transB, ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView c, in TEpilogue epilogue)
        where TEpilogue : struct, IGemmEpilogue;

    /// <summary>
    /// <paramref name="w"/> copied into this backend's GEMM panel layout (<see cref="PackedWeights"/>), or null where the
    /// backend has none (the reference) or the product would not use it (an output layer the narrow kernel reads in place).
    /// </summary>
    internal PackedWeights? PackWeights(ReadOnlyMatrixView w) => null;

    /// <summary>
    /// The same product as <see cref="Gemm{TEpilogue}(Transpose, Transpose, ReadOnlyMatrixView, ReadOnlyMatrixView, MatrixView, in TEpilogue)"/>
    /// with B = <paramref name="w"/> untransposed, reading B from <paramref name="packed"/>, a copy of w made by this
    /// backend's <see cref="PackWeights"/>; the same bits either way. A backend without packs uses w.
    /// </summary>
    internal void Gemm<TEpilogue>(Transpose transA, ReadOnlyMatrixView a, ReadOnlyMatrixView w, PackedWeights? packed, MatrixView c, in TEpilogue epilogue)
        where TEpilogue : struct, IGemmEpilogue => Gemm(transA, Transpose.No, a, w, c, epilogue);

    // The public operations below are conveniences over the generic members above (written once, in KernelsBase):
    // callers outside the library cannot name an epilogue or a rule type.

    /// <summary>
    /// C = op(A)·op(B), or C += op(A)·op(B) when <paramref name="accumulate"/>. op(A) is M×K, op(B) is K×N,
    /// C is M×N. Every C element is updated <c>acc = fma(a[i,k], b[k,j], acc)</c> for k = 0..K-1 in order,
    /// starting from 0 (or the existing C value when accumulating).
    /// </summary>
    void Gemm(Transpose transA, Transpose transB, ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView c, bool accumulate);

    /// <summary>z[i, j] += bias[j] for every row i.</summary>
    void AddBiasToRows(MatrixView z, ReadOnlySpan<float> bias);

    /// <summary>In place: z ← f(z).</summary>
    void ActivationForward(Activation activation, MatrixView z);

    /// <summary>In place: gradient ← gradient ⊙ f'(z), with f' written in terms of the output a = f(z).</summary>
    void ActivationBackward(Activation activation, ReadOnlyMatrixView output, MatrixView gradient);

    /// <summary>
    /// Row-wise numerically stable softmax of the logits into <paramref name="probabilities"/>. When labels are
    /// given, returns the sum over rows (row order, accumulated in double) of the cross-entropy
    /// −log softmax(z)[label]; otherwise returns 0.
    /// </summary>
    double SoftmaxCrossEntropy(ReadOnlyMatrixView logits, ReadOnlySpan<int> labels, MatrixView probabilities);

    /// <summary>dLogits[i, j] = (p[i, j] − [j == label_i]) · scale; scale is 1/batch for a batch mean.</summary>
    void SoftmaxCrossEntropyBackward(ReadOnlyMatrixView probabilities, ReadOnlySpan<int> labels, float scale, MatrixView dLogits);

    /// <summary>sums[j] = Σ_i m[i, j], added in row order i = 0..R-1 starting from 0.</summary>
    void ColumnSums(ReadOnlyMatrixView m, Span<float> sums);

    /// <summary>
    /// destination[i] = source[i] / divisor, one correctly rounded division per element: byte-valued inputs (pixels)
    /// turned into the floats <see cref="Data.InputScaling.Divide"/> makes of them, e.g. in a shuffled batch gather.
    /// </summary>
    void BytesToFloats(ReadOnlySpan<byte> source, Span<float> destination, float divisor);

    /// <summary>
    /// An optimizer's update of a tensor: every parameter w with gradient g and the state the rule keeps (empty spans
    /// for state it does not keep) gets the rule's step (see Formulas.cs). The weights of a training step usually take
    /// their update fused into the weight-gradient product instead (<see cref="UpdateWeights{TRule}"/>): the same bits.
    /// </summary>
    internal void Update<TRule>(in TRule rule, Span<float> weights, ReadOnlySpan<float> gradient, Span<float> first, Span<float> second)
        where TRule : struct, IUpdateRule;

    /// <summary>
    /// SGD step with L2 on this tensor: w ← flush(fma(−lr, fma(l2, w, g), w)), i.e. w −= lr·(g + l2·w), a subnormal result
    /// stored as ±0 (every rule stores through that flush, see ScalarMath.FlushSubnormal).
    /// Biases pass l2 = 0.
    /// </summary>
    void SgdUpdate(Span<float> weights, ReadOnlySpan<float> gradient, float learningRate, float l2);

    /// <summary>
    /// SGD with momentum μ (PyTorch's convention, dampening 0), per element, each step rounded to float:
    /// d = fma(l2, w, g); v ← flush(fma(μ, v, d)); u = nesterov ? fma(μ, v, d) : v; w ← flush(fma(−lr, u, w)).
    /// The velocity starts at 0, so the first step sets v = d as PyTorch does.
    /// </summary>
    void MomentumUpdate(Span<float> weights, ReadOnlySpan<float> gradient, Span<float> velocity, float learningRate, float l2, float momentum, bool nesterov);

    /// <summary>
    /// Adam/AdamW (PyTorch's convention), per element, each step rounded to float, with the scalars of <paramref name="step"/>:
    /// w₀ = w·Decay; d = fma(L2, w₀, g); m ← flush(fma(1−β1, d − m, m)); v ← flush(fma((1−β2)·d, d, β2·v));
    /// w ← flush(fma(−StepSize, m / (√v / √(1−β2^t) + ε), w₀)). The moments start at 0.
    /// </summary>
    void AdamUpdate(Span<float> weights, ReadOnlySpan<float> gradient, Span<float> firstMoment, Span<float> secondMoment, in AdamStep step);
}
