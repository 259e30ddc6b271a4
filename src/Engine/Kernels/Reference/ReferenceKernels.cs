using Engine.Numerics;

namespace Engine.Kernels.Reference;

/// <summary>
/// The scalar reference backend: plain loops, no intrinsics, single-threaded. This is the specification
/// every faster backend is tested against, bit for bit.
/// </summary>
internal sealed class ReferenceKernels : IKernels
{
    public static readonly ReferenceKernels Instance = new();

    public string Name => "reference";

    public void Gemm(Transpose transA, Transpose transB, ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView c, bool accumulate)
    {
        var (m, n, k) = GemmShape.Resolve(transA, transB, a, b, c);

        // Definition: c[i,j] = acc after acc = fma(op(A)[i,p], op(B)[p,j], acc) for p = 0..K-1.
        // The loops run i, p, j (not i, j, p) so that the inner loop walks a row of C; each element
        // still sees exactly the sequence of fmas above, so the result is the definition's, bit for bit.
        for (int i = 0; i < m; i++)
        {
            Span<float> cRow = c.Row(i);
            if (!accumulate) cRow.Clear();
            for (int p = 0; p < k; p++)
            {
                float aip = transA == Transpose.No ? a[i, p] : a[p, i];
                if (transB == Transpose.No)
                {
                    ReadOnlySpan<float> bRow = b.Row(p);
                    for (int j = 0; j < n; j++) cRow[j] = MathF.FusedMultiplyAdd(aip, bRow[j], cRow[j]);
                }
                else
                {
                    for (int j = 0; j < n; j++) cRow[j] = MathF.FusedMultiplyAdd(aip, b[j, p], cRow[j]);
                }
            }
        }
    }

    public void GemmSgdUpdate(Transpose transA, Transpose transB, ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView weights, float learningRate, float l2)
    {
        var (m, n, k) = GemmShape.Resolve(transA, transB, a, b, weights);
        Span<float> g = n <= 4096 ? stackalloc float[n] : new float[n];
        for (int i = 0; i < m; i++)
        {
            // Row i of G by Gemm itself (row i of op(A) is a 1×K view: a row of A, or a column of the stored Aᵀ),
            // then SgdUpdate on row i of the weights: the definition, one row of G at a time.
            ReadOnlyMatrixView aRow = transA == Transpose.No
                ? new ReadOnlyMatrixView(a.Row(i), 1, k)
                : new ReadOnlyMatrixView(a.Data[Math.Min(i, a.Data.Length)..], k, 1, a.Stride); // K = 0: an empty A
            Gemm(transA, transB, aRow, b, new MatrixView(g, 1, n), accumulate: false);
            SgdUpdate(weights.Row(i), g, learningRate, l2);
        }
    }

    public void AddBiasToRows(MatrixView z, ReadOnlySpan<float> bias)
    {
        Shape.Require(bias.Length == z.Cols, $"bias has {bias.Length} entries for {z.Cols} columns");
        for (int i = 0; i < z.Rows; i++)
        {
            Span<float> row = z.Row(i);
            for (int j = 0; j < row.Length; j++) row[j] += bias[j];
        }
    }

    public void ActivationForward(Activation activation, MatrixView z)
    {
        for (int i = 0; i < z.Rows; i++)
        {
            Span<float> row = z.Row(i);
            switch (activation)
            {
                case Activation.Identity: break;
                case Activation.Tanh: for (int j = 0; j < row.Length; j++) row[j] = ScalarMath.Tanh(row[j]); break;
                case Activation.Relu: for (int j = 0; j < row.Length; j++) row[j] = ScalarMath.Relu(row[j]); break;
                case Activation.Sigmoid: for (int j = 0; j < row.Length; j++) row[j] = ScalarMath.Sigmoid(row[j]); break;
                default: throw new ArgumentOutOfRangeException(nameof(activation));
            }
        }
    }

    public void ActivationBackward(Activation activation, ReadOnlyMatrixView output, MatrixView gradient)
    {
        Shape.Require(output.Rows == gradient.Rows && output.Cols == gradient.Cols, "activation output and gradient shapes differ");
        for (int i = 0; i < gradient.Rows; i++)
        {
            ReadOnlySpan<float> a = output.Row(i);
            Span<float> g = gradient.Row(i);
            switch (activation)
            {
                case Activation.Identity: break;
                // d tanh(z)/dz = 1 − tanh²(z) = 1 − a²
                case Activation.Tanh: for (int j = 0; j < g.Length; j++) g[j] *= MathF.FusedMultiplyAdd(-a[j], a[j], 1f); break;
                // d relu(z)/dz = [z > 0] = [a > 0]
                case Activation.Relu: for (int j = 0; j < g.Length; j++) g[j] = a[j] > 0f ? g[j] : 0f; break;
                // d σ(z)/dz = σ(z)(1 − σ(z)) = a(1 − a)
                case Activation.Sigmoid: for (int j = 0; j < g.Length; j++) g[j] *= a[j] * (1f - a[j]); break;
                default: throw new ArgumentOutOfRangeException(nameof(activation));
            }
        }
    }

    public double SoftmaxCrossEntropy(ReadOnlyMatrixView logits, ReadOnlySpan<int> labels, MatrixView probabilities)
    {
        Shape.Require(probabilities.Rows == logits.Rows && probabilities.Cols == logits.Cols, "softmax output shape differs from logits");
        Shape.Require(labels.IsEmpty || labels.Length == logits.Rows, $"{labels.Length} labels for {logits.Rows} rows");
        double lossSum = 0;
        for (int i = 0; i < logits.Rows; i++)
        {
            ReadOnlySpan<float> z = logits.Row(i);
            Span<float> p = probabilities.Row(i);
            // Subtracting the row max keeps every exponent ≤ 0: no overflow, same probabilities.
            float max = float.NegativeInfinity;
            for (int j = 0; j < z.Length; j++) max = MathF.Max(max, z[j]);
            float sum = 0f;
            for (int j = 0; j < z.Length; j++)
            {
                p[j] = ScalarMath.Exp(z[j] - max);
                sum += p[j];
            }
            for (int j = 0; j < p.Length; j++) p[j] /= sum;
            // −log softmax(z)[y] = log Σ e^{z_j − max} − (z_y − max); exact even when p_y underflows.
            if (!labels.IsEmpty) lossSum += MathF.Log(sum) - (z[labels[i]] - max);
        }
        return lossSum;
    }

    public void SoftmaxCrossEntropyBackward(ReadOnlyMatrixView probabilities, ReadOnlySpan<int> labels, float scale, MatrixView dLogits)
    {
        Shape.Require(labels.Length == probabilities.Rows, $"{labels.Length} labels for {probabilities.Rows} rows");
        Shape.Require(dLogits.Rows == probabilities.Rows && dLogits.Cols == probabilities.Cols, "dLogits shape differs from probabilities");
        for (int i = 0; i < probabilities.Rows; i++)
        {
            ReadOnlySpan<float> p = probabilities.Row(i);
            Span<float> d = dLogits.Row(i);
            // ∂CE/∂z_j = p_j − [j == y]
            for (int j = 0; j < p.Length; j++) d[j] = (j == labels[i] ? p[j] - 1f : p[j]) * scale;
        }
    }

    public void ColumnSums(ReadOnlyMatrixView m, Span<float> sums)
    {
        Shape.Require(sums.Length == m.Cols, $"{sums.Length} sums for {m.Cols} columns");
        sums.Clear();
        for (int i = 0; i < m.Rows; i++)
        {
            ReadOnlySpan<float> row = m.Row(i);
            for (int j = 0; j < row.Length; j++) sums[j] += row[j];
        }
    }

    public void BytesToFloats(ReadOnlySpan<byte> source, Span<float> destination, float divisor)
    {
        Shape.Require(destination.Length == source.Length, "source and destination lengths differ");
        for (int i = 0; i < source.Length; i++) destination[i] = source[i] / divisor;
    }

    public void SgdUpdate(Span<float> weights, ReadOnlySpan<float> gradient, float learningRate, float l2)
    {
        Shape.Require(weights.Length == gradient.Length, "weights and gradient lengths differ");
        for (int i = 0; i < weights.Length; i++)
            weights[i] = MathF.FusedMultiplyAdd(-learningRate, MathF.FusedMultiplyAdd(l2, weights[i], gradient[i]), weights[i]);
    }

    public void MomentumUpdate(Span<float> weights, ReadOnlySpan<float> gradient, Span<float> velocity, float learningRate, float l2, float momentum, bool nesterov)
    {
        Shape.Require(weights.Length == gradient.Length && weights.Length == velocity.Length, "weights, gradient and velocity lengths differ");
        for (int i = 0; i < weights.Length; i++)
        {
            float d = MathF.FusedMultiplyAdd(l2, weights[i], gradient[i]);
            float v = velocity[i] = MathF.FusedMultiplyAdd(momentum, velocity[i], d);
            float u = nesterov ? MathF.FusedMultiplyAdd(momentum, v, d) : v;
            weights[i] = MathF.FusedMultiplyAdd(-learningRate, u, weights[i]);
        }
    }

    public void AdamUpdate(Span<float> weights, ReadOnlySpan<float> gradient, Span<float> firstMoment, Span<float> secondMoment, in AdamStep step)
    {
        Shape.Require(weights.Length == gradient.Length && weights.Length == firstMoment.Length && weights.Length == secondMoment.Length,
                      "weights, gradient and moment lengths differ");
        for (int i = 0; i < weights.Length; i++)
        {
            float w = weights[i] * step.Decay;
            float d = MathF.FusedMultiplyAdd(step.L2, w, gradient[i]);
            float m = firstMoment[i] = MathF.FusedMultiplyAdd(step.OneMinusBeta1, d - firstMoment[i], firstMoment[i]);
            float v = secondMoment[i] = MathF.FusedMultiplyAdd(step.OneMinusBeta2 * d, d, step.Beta2 * secondMoment[i]);
            float denominator = MathF.Sqrt(v) / step.SqrtBiasCorrection2 + step.Epsilon;
            weights[i] = MathF.FusedMultiplyAdd(-step.StepSize, m / denominator, w);
        }
    }
}
