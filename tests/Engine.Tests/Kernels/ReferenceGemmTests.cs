using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Numerics;
using Engine.Training;

namespace Engine.Tests.Kernels;

/// <summary>
/// The reference GEMM against (1) the numerics contract written as the literal i-j-k loop with one fma per
/// step, bit for bit, and (2) a double-precision triple loop, within the classic error bound
/// |ĉ − c| ≤ γ_K·Σ_p |a_ip·b_pj| (+ |c₀| when accumulating), γ_K = K·u/(1 − K·u), u = 2^-24.
/// Odd sizes, all four transpose combinations, padded strides, accumulate on and off.
/// </summary>
public class ReferenceGemmTests
{
    static readonly int[] Sizes = [1, 2, 7, 31, 33, 64, 65, 127];

    public static IEnumerable<object[]> Shapes()
    {
        var rng = new SplitMix64(42);
        foreach (var ta in new[] { Transpose.No, Transpose.Yes })
            foreach (var tb in new[] { Transpose.No, Transpose.Yes })
                for (int i = 0; i < 6; i++)
                    yield return [ta, tb, Sizes[rng.NextInt(Sizes.Length)], Sizes[rng.NextInt(Sizes.Length)], Sizes[rng.NextInt(Sizes.Length)], i % 2 == 1, i % 3];
        // The network's shapes: forward (B×784·784×N), weight gradient (784×B·B×N) and input gradient (B×N·N×784).
        yield return [Transpose.No, Transpose.No, 32, 128, 784, false, 0];
        yield return [Transpose.Yes, Transpose.No, 257, 10, 33, false, 1];
        yield return [Transpose.No, Transpose.Yes, 33, 257, 10, true, 2];
        yield return [Transpose.Yes, Transpose.Yes, 1, 1, 257, true, 1];
    }

    /// <summary>A stored operand for op(X) of shape rows×cols, with <paramref name="pad"/> extra columns of garbage.</summary>
    internal static (float[] Data, int Rows, int Cols, int Stride) Operand(SplitMix64 rng, Transpose t, int rows, int cols, int pad)
    {
        int storedRows = t == Transpose.No ? rows : cols, storedCols = t == Transpose.No ? cols : rows;
        int stride = storedCols + pad;
        var data = new float[storedRows * stride];
        for (int i = 0; i < data.Length; i++) data[i] = 2f * rng.NextFloat() - 1f;
        return (data, storedRows, storedCols, stride);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Reference_gemm_equals_the_contract_bit_for_bit_and_double_within_bound(Transpose ta, Transpose tb, int m, int n, int k, bool accumulate, int pad)
    {
        var rng = new SplitMix64((ulong)(m * 1_000_003 + n * 1009 + k) ^ (ulong)pad);
        var a = Operand(rng, ta, m, k, pad);
        var b = Operand(rng, tb, k, n, pad);
        int cStride = n + pad;
        var c0 = new float[m * cStride];
        for (int i = 0; i < c0.Length; i++) c0[i] = 2f * rng.NextFloat() - 1f;
        var c = (float[])c0.Clone();

        ReferenceKernels.Instance.Gemm(ta, tb, new ReadOnlyMatrixView(a.Data, a.Rows, a.Cols, a.Stride),
            new ReadOnlyMatrixView(b.Data, b.Rows, b.Cols, b.Stride), new MatrixView(c, m, n, cStride), accumulate);

        float A(int i, int p) => ta == Transpose.No ? a.Data[i * a.Stride + p] : a.Data[p * a.Stride + i];
        float B(int p, int j) => tb == Transpose.No ? b.Data[p * b.Stride + j] : b.Data[j * b.Stride + p];
        double u = Math.Pow(2, -24), gamma = k * u / (1 - k * u);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float start = accumulate ? c0[i * cStride + j] : 0f;
                float acc = start;
                double exact = start, magnitude = Math.Abs(start);
                for (int p = 0; p < k; p++)
                {
                    acc = MathF.FusedMultiplyAdd(A(i, p), B(p, j), acc);
                    exact += (double)A(i, p) * B(p, j);
                    magnitude += Math.Abs((double)A(i, p) * B(p, j));
                }
                float got = c[i * cStride + j];
                Assert.True(BitConverter.SingleToInt32Bits(got) == BitConverter.SingleToInt32Bits(acc),
                    $"c[{i},{j}] = {got:R}, the contract's fma sequence gives {acc:R}");
                Assert.True(Math.Abs(got - exact) <= (gamma + u) * magnitude, $"c[{i},{j}] = {got:R}, exact {exact:R}");
            }
        // Padding columns of C are never written.
        for (int i = 0; i < m; i++)
            for (int j = n; j < cStride; j++) Assert.Equal(c0[i * cStride + j], c[i * cStride + j]);
    }

    [Fact]
    public void Shape_mismatches_are_rejected()
    {
        var buf = new float[100];
        Assert.Throws<ArgumentException>(() => ReferenceKernels.Instance.Gemm(Transpose.No, Transpose.No,
            new ReadOnlyMatrixView(buf, 3, 4), new ReadOnlyMatrixView(buf, 5, 2), new MatrixView(new float[6], 3, 2), false));
        Assert.Throws<ArgumentException>(() => ReferenceKernels.Instance.Gemm(Transpose.No, Transpose.No,
            new ReadOnlyMatrixView(buf, 3, 4), new ReadOnlyMatrixView(buf, 4, 2), new MatrixView(new float[6], 2, 3), false));
        Assert.Throws<ArgumentException>(() => new MatrixView(new float[5], 2, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MatrixView(new float[10], 2, 3, 2));
    }

    [Fact]
    public void Empty_inner_dimension_gives_zero_or_keeps_c()
    {
        var c = new float[] { 1, 2, 3, 4 };
        ReferenceKernels.Instance.Gemm(Transpose.No, Transpose.No, new ReadOnlyMatrixView([], 2, 0), new ReadOnlyMatrixView([], 0, 2), new MatrixView(c, 2, 2), accumulate: true);
        Assert.Equal([1f, 2, 3, 4], c);
        ReferenceKernels.Instance.Gemm(Transpose.No, Transpose.No, new ReadOnlyMatrixView([], 2, 0), new ReadOnlyMatrixView([], 0, 2), new MatrixView(c, 2, 2), accumulate: false);
        Assert.Equal([0f, 0, 0, 0], c);
    }
}
