using System.Runtime.CompilerServices;

namespace Engine.Kernels.Simd;

/// <summary>
/// Products with fewer rows than the micro-kernel's MR and an untransposed B (a single image's forward pass, the last
/// rows of a batch split between threads): each row of C in chunks of four vectors, straight from A and from B's rows
/// in place, with no packing and none of the MR − M zero rows the tiled path would compute (at M = 1 that is 8× the
/// work on AVX-512). Every element still gets the reference's sequence acc = fma(a[i,k], b[k,j], acc) over k = 0..K−1
/// from 0 (or from C), so the bits are the same. A finishing epilogue gets each chunk from a scratch row.
/// </summary>
internal static unsafe class RowKernel
{
    /// <param name="scratch">At least 4 vectors of floats, for a finishing epilogue's chunk.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TVec, TEpilogue>(in GemmCall call, int rowStart, int rowEnd, int colStart, int colEnd, in TEpilogue epilogue, float* scratch)
        where TVec : struct, IVec<TVec> where TEpilogue : struct, IGemmEpilogue
    {
        int w = TVec.Count, chunk = 4 * w, k = call.K;
        bool finish = TEpilogue.Use == ProductUse.Finish, accumulate = TEpilogue.Use == ProductUse.Accumulate;
        // op(A)[i, k] = A[i·rowStep + k·kStep]
        long rowStep = call.TransA ? 1 : call.Lda, kStep = call.TransA ? call.Lda : 1, ldb = call.Ldb;
        for (int i = rowStart; i < rowEnd; i++)
        {
            float* a = call.A + i * rowStep, c = call.C + (long)i * call.Ldc;
            int j = colStart;
            for (; j + chunk <= colEnd; j += chunk)
            {
                TVec c0, c1, c2, c3;
                if (accumulate) { c0 = TVec.Load(c + j); c1 = TVec.Load(c + j + w); c2 = TVec.Load(c + j + 2 * w); c3 = TVec.Load(c + j + 3 * w); }
                else c0 = c1 = c2 = c3 = TVec.Zero;
                float* b = call.B + j, ak = a;
                for (int p = 0; p < k; p++, b += ldb, ak += kStep)
                {
                    TVec ai = TVec.Broadcast(*ak);
                    c0 = TVec.Fma(ai, TVec.Load(b), c0);
                    c1 = TVec.Fma(ai, TVec.Load(b + w), c1);
                    c2 = TVec.Fma(ai, TVec.Load(b + 2 * w), c2);
                    c3 = TVec.Fma(ai, TVec.Load(b + 3 * w), c3);
                }
                float* target = finish ? scratch : c + j;
                TVec.Store(c0, target); TVec.Store(c1, target + w); TVec.Store(c2, target + 2 * w); TVec.Store(c3, target + 3 * w);
                if (finish) epilogue.Finish<TVec>(i, j, scratch, chunk, c + j, call.Ldc, 1, chunk);
            }
            for (; j + w <= colEnd; j += w)
            {
                TVec acc = accumulate ? TVec.Load(c + j) : TVec.Zero;
                float* b = call.B + j, ak = a;
                for (int p = 0; p < k; p++, b += ldb, ak += kStep) acc = TVec.Fma(TVec.Broadcast(*ak), TVec.Load(b), acc);
                TVec.Store(acc, finish ? scratch : c + j);
                if (finish) epilogue.Finish<TVec>(i, j, scratch, w, c + j, call.Ldc, 1, w);
            }
            if (j < colEnd)
            {
                // Fewer columns than a vector: one scalar fma chain each, the reference's own operation.
                int n = colEnd - j;
                for (int col = 0; col < n; col++)
                {
                    float acc = accumulate ? c[j + col] : 0f;
                    float* b = call.B + j + col, ak = a;
                    for (int p = 0; p < k; p++, b += ldb, ak += kStep) acc = MathF.FusedMultiplyAdd(*ak, *b, acc);
                    if (finish) scratch[col] = acc; else c[j + col] = acc;
                }
                if (finish) epilogue.Finish<TVec>(i, j, scratch, n, c + j, call.Ldc, 1, n);
            }
        }
    }
}
