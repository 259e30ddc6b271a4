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
        if (call.PackedB is { } packed) { RunPacked<TVec, TEpilogue>(call, packed, rowStart, rowEnd, colStart, colEnd, epilogue, scratch); return; }
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

    /// <summary>
    /// The same rows from a prepacked B (<see cref="PackedWeights"/>): two NR-wide panels (four vectors) at a time, each
    /// read as one contiguous stream, K block after K block into the same accumulators, so every element's fma chain
    /// over k = 0..K−1 is the one above. Columns past the part's end (a panel's zero padding) are computed in the scratch
    /// row and not stored. colStart is a multiple of NR (parts of a packed B start on panels).
    /// </summary>
    /// <param name="scratch">At least 2·NR floats.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RunPacked<TVec, TEpilogue>(in GemmCall call, PackedWeights packed, int rowStart, int rowEnd, int colStart, int colEnd, in TEpilogue epilogue, float* scratch)
        where TVec : struct, IVec<TVec> where TEpilogue : struct, IGemmEpilogue
    {
        int w = TVec.Count, nr = packed.NR, kcMax = packed.KC, k = call.K;
        bool finish = TEpilogue.Use == ProductUse.Finish, accumulate = TEpilogue.Use == ProductUse.Accumulate;
        long rowStep = call.TransA ? 1 : call.Lda, kStep = call.TransA ? call.Lda : 1;
        for (int i = rowStart; i < rowEnd; i++)
        {
            float* a = call.A + i * rowStep, c = call.C + (long)i * call.Ldc;
            for (int j = colStart; j < colEnd; j += 2 * nr)
            {
                int cols = Math.Min(2 * nr, colEnd - j);
                bool twoPanels = j + nr < packed.PaddedCols;
                // The chunk's C values start the chains when accumulating: through the scratch row where it is partial.
                TVec c0 = TVec.Zero, c1 = TVec.Zero, c2 = TVec.Zero, c3 = TVec.Zero;
                if (accumulate)
                {
                    new Span<float>(scratch, 2 * nr).Clear();
                    new ReadOnlySpan<float>(c + j, cols).CopyTo(new Span<float>(scratch, cols));
                    c0 = TVec.Load(scratch); c1 = TVec.Load(scratch + w); c2 = TVec.Load(scratch + 2 * w); c3 = TVec.Load(scratch + 3 * w);
                }
                for (int pc = 0; pc < k; pc += kcMax)
                {
                    int kc = Math.Min(kcMax, k - pc);
                    float* b0 = packed.Panel(pc, j), ak = a + pc * kStep;
                    if (twoPanels)
                    {
                        float* b1 = b0 + (long)nr * kc;
                        for (int p = 0; p < kc; p++, b0 += nr, b1 += nr, ak += kStep)
                        {
                            TVec ai = TVec.Broadcast(*ak);
                            c0 = TVec.Fma(ai, TVec.Load(b0), c0);
                            c1 = TVec.Fma(ai, TVec.Load(b0 + w), c1);
                            c2 = TVec.Fma(ai, TVec.Load(b1), c2);
                            c3 = TVec.Fma(ai, TVec.Load(b1 + w), c3);
                        }
                    }
                    else
                    {
                        for (int p = 0; p < kc; p++, b0 += nr, ak += kStep)
                        {
                            TVec ai = TVec.Broadcast(*ak);
                            c0 = TVec.Fma(ai, TVec.Load(b0), c0);
                            c1 = TVec.Fma(ai, TVec.Load(b0 + w), c1);
                        }
                    }
                }
                if (!finish && cols == 2 * nr)
                {
                    TVec.Store(c0, c + j); TVec.Store(c1, c + j + w); TVec.Store(c2, c + j + 2 * w); TVec.Store(c3, c + j + 3 * w);
                    continue;
                }
                TVec.Store(c0, scratch); TVec.Store(c1, scratch + w);
                if (twoPanels) { TVec.Store(c2, scratch + 2 * w); TVec.Store(c3, scratch + 3 * w); }
                if (finish) epilogue.Finish<TVec>(i, j, scratch, 2 * nr, c + j, call.Ldc, 1, cols);
                else new ReadOnlySpan<float>(scratch, cols).CopyTo(new Span<float>(c + j, cols));
            }
        }
    }
}
