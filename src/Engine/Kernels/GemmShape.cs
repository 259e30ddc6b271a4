using Engine.Numerics;

namespace Engine.Kernels;

/// <summary>The dimensions of C = op(A)·op(B), checked once for every backend.</summary>
internal static class GemmShape
{
    /// <summary>Returns (M, N, K) where op(A) is M×K, op(B) is K×N and C must be M×N; throws on a mismatch.</summary>
    public static (int M, int N, int K) Resolve(Transpose transA, Transpose transB, ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView c)
    {
        int m = transA == Transpose.No ? a.Rows : a.Cols;
        int k = transA == Transpose.No ? a.Cols : a.Rows;
        int kb = transB == Transpose.No ? b.Rows : b.Cols;
        int n = transB == Transpose.No ? b.Cols : b.Rows;
        Shape.Require(k == kb, $"GEMM inner dimensions differ: op(A) is {m}x{k}, op(B) is {kb}x{n}");
        Shape.Require(c.Rows == m && c.Cols == n, $"GEMM output is {c.Rows}x{c.Cols}, expected {m}x{n}");
        return (m, n, k);
    }
}
