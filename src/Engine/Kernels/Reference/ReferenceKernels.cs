using Engine.Numerics;

namespace Engine.Kernels.Reference;

/// <summary>
/// The scalar reference backend: plain loops, no intrinsics, single-threaded. This is the specification
/// every faster backend is tested against, bit for bit.
/// </summary>
internal sealed class ReferenceKernels : KernelsBase, IKernels
{
    public static readonly ReferenceKernels Instance = new();

    public string Name => "reference";

    public override void Gemm<TEpilogue>(Transpose transA, Transpose transB, ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView c, in TEpilogue epilogue)
    {
        if (TEpilogue.Use != ProductUse.Finish)
        {
            Product(transA, transB, a, b, c, accumulate: TEpilogue.Use == ProductUse.Accumulate);
            return;
        }
        // The definition of every other epilogue: row i of the plain product P (row i of op(A) is a 1×K view: a row
        // of A, or a column of the stored Aᵀ), then the epilogue's formula on that row of C.
        var (m, n, k) = GemmShape.Resolve(transA, transB, a, b, c);
        Span<float> p = n <= 4096 ? stackalloc float[n] : new float[n];
        for (int i = 0; i < m; i++)
        {
            ReadOnlyMatrixView aRow = transA == Transpose.No
                ? new ReadOnlyMatrixView(a.Row(i), 1, k)
                : new ReadOnlyMatrixView(a.Data[Math.Min(i, a.Data.Length)..], k, 1, a.Stride); // K = 0: an empty A
            Product(transA, transB, aRow, b, new MatrixView(p, 1, n), accumulate: false);
            epilogue.Finish(i, 0, p, c.Row(i));
        }
    }

    static void Product(Transpose transA, Transpose transB, ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView c, bool accumulate)
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

    public void AddBiasToRows(MatrixView z, ReadOnlySpan<float> bias)
    {
        Shape.Require(bias.Length == z.Cols, $"bias has {bias.Length} entries for {z.Cols} columns");
        for (int i = 0; i < z.Rows; i++) Map(new AddOperator(), z.Row(i), bias, z.Row(i));
    }

    public void ActivationForward(Activation activation, MatrixView z)
    {
        for (int i = 0; i < z.Rows; i++)
        {
            Span<float> row = z.Row(i);
            switch (activation)
            {
                case Activation.Identity: break;
                case Activation.Tanh: Map(new TanhOperator(), row, row); break;
                case Activation.Relu: Map(new ReluOperator(), row, row); break;
                case Activation.Sigmoid: Map(new SigmoidOperator(), row, row); break;
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
                case Activation.Tanh: Map(new TanhGradientOperator(), a, g, g); break;
                case Activation.Relu: Map(new ReluGradientOperator(), a, g, g); break;
                case Activation.Sigmoid: Map(new SigmoidGradientOperator(), a, g, g); break;
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
            Map(new ShiftedExpOperator(max), z, p);
            float sum = 0f;
            for (int j = 0; j < p.Length; j++) sum += p[j];
            Map(new DivideOperator(sum), p, p);
            // −log softmax(z)[y] = log Σ e^{z_j − max} − (z_y − max); exact even when p_y underflows.
            if (!labels.IsEmpty) lossSum += MathF.Log(sum) - (z[labels[i]] - max);
        }
        return lossSum;
    }

    public void SoftmaxCrossEntropyBackward(ReadOnlyMatrixView probabilities, ReadOnlySpan<int> labels, float scale, MatrixView dLogits)
    {
        Shape.Require(labels.Length == probabilities.Rows, $"{labels.Length} labels for {probabilities.Rows} rows");
        Shape.Require(dLogits.Rows == probabilities.Rows && dLogits.Cols == probabilities.Cols, "dLogits shape differs from probabilities");
        var op = new ScaleOperator(scale);
        for (int i = 0; i < probabilities.Rows; i++)
        {
            // ∂CE/∂z_j = (p_j − [j == y]) · scale; a label outside the row changes nothing (callers validate labels first).
            Map(op, probabilities.Row(i), dLogits.Row(i));
            int y = labels[i];
            if ((uint)y < (uint)probabilities.Cols) dLogits[i, y] = op.AtLabel(probabilities[i, y]);
        }
    }

    public void ColumnSums(ReadOnlyMatrixView m, Span<float> sums)
    {
        Shape.Require(sums.Length == m.Cols, $"{sums.Length} sums for {m.Cols} columns");
        sums.Clear();
        for (int i = 0; i < m.Rows; i++) Map(new AddOperator(), sums, m.Row(i), sums);
    }

    public void BytesToFloats(ReadOnlySpan<byte> source, Span<float> destination, float divisor)
    {
        Shape.Require(destination.Length == source.Length, "source and destination lengths differ");
        var op = new DivideOperator(divisor);
        for (int i = 0; i < source.Length; i++) destination[i] = op.Invoke(source[i]);
    }

    // The plain loops that run a formula's scalar Invoke element by element: the specification of every element-wise kernel.

    /// <summary>result[j] = op(x[j]); result may be x.</summary>
    static void Map<TOp>(TOp op, ReadOnlySpan<float> x, Span<float> result) where TOp : struct, IUnaryOperator
    {
        for (int j = 0; j < x.Length; j++) result[j] = op.Invoke(x[j]);
    }

    /// <summary>result[j] = op(x[j], y[j]); result may be x or y.</summary>
    static void Map<TOp>(TOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> result) where TOp : struct, IBinaryOperator
    {
        for (int j = 0; j < x.Length; j++) result[j] = op.Invoke(x[j], y[j]);
    }

    /// <summary>The rule on every parameter of a tensor and its state (empty spans for state the rule does not keep).</summary>
    public override void Update<TRule>(in TRule rule, Span<float> w, ReadOnlySpan<float> g, Span<float> s1, Span<float> s2)
    {
        RequireUpdateLengths<TRule>(w.Length, g.Length, s1.Length, s2.Length);
        float unused1 = 0, unused2 = 0;
        // One loop per state count (TRule.StateVectors is a constant of the instantiation), so each loop is plain.
        if (TRule.StateVectors == 0)
            for (int i = 0; i < w.Length; i++) rule.Invoke(ref w[i], g[i], ref unused1, ref unused2);
        else if (TRule.StateVectors == 1)
            for (int i = 0; i < w.Length; i++) rule.Invoke(ref w[i], g[i], ref s1[i], ref unused2);
        else
            for (int i = 0; i < w.Length; i++) rule.Invoke(ref w[i], g[i], ref s1[i], ref s2[i]);
    }
}
