using System.Runtime.CompilerServices;
using Engine.Kernels.Simd;
using Engine.Numerics;

namespace Engine.Kernels;

// What a GEMM does with its product (the BLIS/oneDNN post-op, the CUTLASS epilogue): the epilogue is a type parameter
// of IKernels.Gemm, so each (backend, vector type, epilogue) combination compiles on its own and the tile loop never
// branches on it. The reference defines every epilogue as "the plain product, then the plain element-wise step":
// Finish's scalar form on each whole row of the product. The simd backend runs the vector form on each finished tile
// while it is still in L1, so the product is never stored; both run the same formula structs, so the bits agree.
// A new fusion is a new struct here, never a flag in the tile loop or a new IKernels member.

/// <summary>How C receives the product P = op(A)·op(B).</summary>
internal enum ProductUse
{
    /// <summary>C = P.</summary>
    Store,
    /// <summary>C += P (each element's fma chain starts from C).</summary>
    Accumulate,
    /// <summary>C = Finish(P, C): the epilogue decides (P itself starts from 0, as with Store).</summary>
    Finish,
}

/// <summary>An epilogue: what the product's elements become in C.</summary>
internal unsafe interface IGemmEpilogue
{
    static abstract ProductUse Use { get; }

    /// <summary>
    /// The definition (reference, and the simd tails): C[row, col + j] from P[row, col + j] for j &lt; product.Length,
    /// where row and col are positions in C (epilogues with per-column or per-element data index it with them).
    /// </summary>
    void Finish(int row, int col, ReadOnlySpan<float> product, Span<float> c);

    /// <summary>The same on an r×n tile at (row, col) of C, with the vector type's formulas: P at product (row stride ldp), C at c (ldc).</summary>
    void Finish<TVec>(int row, int col, float* product, int ldp, float* c, int ldc, int rows, int n) where TVec : struct, IVec<TVec>;
}

/// <summary>C = op(A)·op(B).</summary>
internal readonly unsafe struct StoreProduct : IGemmEpilogue
{
    public static ProductUse Use => ProductUse.Store;
    public void Finish(int row, int col, ReadOnlySpan<float> product, Span<float> c) => throw new InvalidOperationException("the product is stored as it is");
    public void Finish<TVec>(int row, int col, float* product, int ldp, float* c, int ldc, int rows, int n) where TVec : struct, IVec<TVec> =>
        throw new InvalidOperationException("the product is stored as it is");
}

/// <summary>C += op(A)·op(B).</summary>
internal readonly unsafe struct AccumulateProduct : IGemmEpilogue
{
    public static ProductUse Use => ProductUse.Accumulate;
    public void Finish(int row, int col, ReadOnlySpan<float> product, Span<float> c) => throw new InvalidOperationException("the product is accumulated as it is");
    public void Finish<TVec>(int row, int col, float* product, int ldp, float* c, int ldc, int rows, int n) where TVec : struct, IVec<TVec> =>
        throw new InvalidOperationException("the product is accumulated as it is");
}

/// <summary>
/// A dense layer's forward pass: C = f(P + bias) row by row, i.e. z = x·W + b; a = f(z), with f the activation
/// formula <typeparamref name="TActivation"/>: the same bits as Gemm, AddBiasToRows and ActivationForward in a row.
/// </summary>
/// <param name="bias">The bias row (C's columns), pinned by the caller for the call.</param>
internal readonly unsafe struct BiasActivation<TActivation>(float* bias) : IGemmEpilogue where TActivation : struct, IUnaryOperator
{
    public static ProductUse Use => ProductUse.Finish;

    public void Finish(int row, int col, ReadOnlySpan<float> product, Span<float> c)
    {
        var op = new BiasThenActivation<TActivation>();
        for (int j = 0; j < product.Length; j++) c[j] = op.Invoke(product[j], bias[col + j]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Finish<TVec>(int row, int col, float* product, int ldp, float* c, int ldc, int rows, int n) where TVec : struct, IVec<TVec>
    {
        for (int r = 0; r < rows; r++, product += ldp, c += ldc)
            ElementWise<TVec>.Map(new BiasThenActivation<TActivation>(), product, bias + col, c, n);
    }
}

/// <summary>f(z + b): AddOperator's sum, then the activation (z + b rounds once, as AddBiasToRows does).</summary>
internal readonly struct BiasThenActivation<TActivation> : IBinaryOperator where TActivation : struct, IUnaryOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Invoke(float z, float b) => default(TActivation).Invoke(z + b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public TVec Invoke<TVec>(TVec z, TVec b) where TVec : struct, IVec<TVec> =>
        default(TActivation).Invoke(TVec.Add(z, b));
}

/// <summary>
/// An optimizer step of a weight matrix from its gradient: C is W and the product is G = dW; every element gets the
/// rule's step w ← rule(w, g, state) as the unfused update of a stored G would give it, so G is never stored. The
/// rule's state values (velocity, moments) are laid out like W: element (i, j) at i·stateStride + j.
/// </summary>
/// <param name="first">The rule's first state matrix (unused when the rule keeps none), pinned by the caller.</param>
/// <param name="second">Its second state matrix (Adam's v), pinned by the caller.</param>
internal readonly unsafe struct UpdateWeights<TRule>(TRule rule, float* first, float* second, int stateStride) : IGemmEpilogue
    where TRule : struct, IUpdateRule
{
    public static ProductUse Use => ProductUse.Finish;

    public void Finish(int row, int col, ReadOnlySpan<float> product, Span<float> c)
    {
        long at = (long)row * stateStride + col;
        float unused1 = 0, unused2 = 0;
        for (int j = 0; j < product.Length; j++)
            rule.Invoke(ref c[j], product[j], ref TRule.StateVectors >= 1 ? ref first[at + j] : ref unused1,
                        ref TRule.StateVectors >= 2 ? ref second[at + j] : ref unused2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Finish<TVec>(int row, int col, float* product, int ldp, float* c, int ldc, int rows, int n) where TVec : struct, IVec<TVec>
    {
        long at = (long)row * stateStride + col;
        // Rows that follow each other in all three (a whole narrow W, such as the output layer's 128×10, finished from a
        // stored product) are one run: whole vectors instead of a scalar tail in every short row. Element-wise, so the same bits.
        if (ldp == n && ldc == n && (TRule.StateVectors == 0 || stateStride == n)) (rows, n) = (1, rows * n);
        for (int r = 0; r < rows; r++, product += ldp, c += ldc, at += stateStride)
            ElementWise<TVec>.Update(rule, c, product, TRule.StateVectors >= 1 ? first + at : null, TRule.StateVectors >= 2 ? second + at : null, n);
    }
}

/// <summary>The fused epilogues by their runtime choices: one switch here, so callers name an activation, not a type.</summary>
internal static class Epilogues
{
    /// <summary>z = f(x·W + b) in one GEMM: the bias and the activation finish each tile of the product.</summary>
    public static unsafe void DenseForward(IKernels kernels, ReadOnlyMatrixView x, ReadOnlyMatrixView w, PackedWeights? packedW, ReadOnlySpan<float> bias, Activation activation, MatrixView z)
    {
        Shape.Require(bias.Length == z.Cols, $"bias has {bias.Length} entries for {z.Cols} columns");
        fixed (float* b = bias)
        {
            switch (activation)
            {
                case Activation.Identity: kernels.Gemm(Transpose.No, x, w, packedW, z, new BiasActivation<IdentityOperator>(b)); break;
                case Activation.Tanh: kernels.Gemm(Transpose.No, x, w, packedW, z, new BiasActivation<TanhOperator>(b)); break;
                case Activation.Relu: kernels.Gemm(Transpose.No, x, w, packedW, z, new BiasActivation<ReluOperator>(b)); break;
                case Activation.Sigmoid: kernels.Gemm(Transpose.No, x, w, packedW, z, new BiasActivation<SigmoidOperator>(b)); break;
                default: throw new ArgumentOutOfRangeException(nameof(activation));
            }
        }
    }
}
