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
                // The chains start from C when accumulating, else from 0 in C itself or, to be finished, in the scratch row.
                float* acc = finish ? scratch : c + j;
                if (!accumulate) new Span<float>(acc, chunk).Clear();
                FourVectors<TVec>(a, kStep, call.B + j, call.B + j + 2 * w, k, ldb, acc);
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
    /// read as one contiguous stream, K block after K block into the same chains (kept in the scratch row between
    /// blocks), so every element's fma chain over k = 0..K−1 is the one above. Columns past the part's end (a panel's zero
    /// padding) are computed in the scratch row and not stored. colStart is a multiple of NR (parts start on panels).
    /// </summary>
    /// <param name="scratch">At least 2·NR floats.</param>
    static void RunPacked<TVec, TEpilogue>(in GemmCall call, PackedWeights packed, int rowStart, int rowEnd, int colStart, int colEnd, in TEpilogue epilogue, float* scratch)
        where TVec : struct, IVec<TVec> where TEpilogue : struct, IGemmEpilogue
    {
        int nr = packed.NR, kcMax = packed.KC, k = call.K;
        bool finish = TEpilogue.Use == ProductUse.Finish, accumulate = TEpilogue.Use == ProductUse.Accumulate;
        long rowStep = call.TransA ? 1 : call.Lda, kStep = call.TransA ? call.Lda : 1;
        for (int i = rowStart; i < rowEnd; i++)
        {
            float* a = call.A + i * rowStep, c = call.C + (long)i * call.Ldc;
            for (int j = colStart; j < colEnd; j += 2 * nr)
            {
                int cols = Math.Min(2 * nr, colEnd - j);
                bool twoPanels = j + nr < packed.PaddedCols;
                // The chains start from 0, or from C's values when accumulating.
                new Span<float>(scratch, 2 * nr).Clear();
                if (accumulate) new ReadOnlySpan<float>(c + j, cols).CopyTo(new Span<float>(scratch, cols));
                for (int pc = 0; pc < k; pc += kcMax)
                {
                    int kc = Math.Min(kcMax, k - pc);
                    float* b0 = packed.Panel(pc, j);
                    if (twoPanels) FourVectors<TVec>(a + pc * kStep, kStep, b0, b0 + (long)nr * kc, kc, nr, scratch);
                    else TwoVectors<TVec>(a + pc * kStep, kStep, b0, kc, nr, scratch);
                }
                if (finish) epilogue.Finish<TVec>(i, j, scratch, 2 * nr, c + j, call.Ldc, 1, cols);
                else new ReadOnlySpan<float>(scratch, cols).CopyTo(new Span<float>(c + j, cols));
            }
        }
    }

    /// <summary>
    /// The chains of four vectors of one row of C: acc[0..4w) = fma(a[p·kStep], (b0 | b1)[p·stride ..], acc) for p = 0..kc−1
    /// in order, two vectors from b0 and two from b1 (two panels, or b1 = b0 + 2w in a row-major B). The chains live in
    /// registers for the whole loop: a method of its own, because inside the callers' loops the JIT spilled them
    /// (784×512 from one image, 1 thread: 31 against 17 µs). Optimised at once, like its caller: tier-0 code here would
    /// slow the first calls of every process.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void FourVectors<TVec>(float* a, long kStep, float* b0, float* b1, int kc, long stride, float* acc) where TVec : struct, IVec<TVec>
    {
        int w = TVec.Count;
        TVec c0 = TVec.Load(acc), c1 = TVec.Load(acc + w), c2 = TVec.Load(acc + 2 * w), c3 = TVec.Load(acc + 3 * w);
        for (int p = 0; p < kc; p++, b0 += stride, b1 += stride, a += kStep)
        {
            TVec ai = TVec.Broadcast(*a);
            c0 = TVec.Fma(ai, TVec.Load(b0), c0);
            c1 = TVec.Fma(ai, TVec.Load(b0 + w), c1);
            c2 = TVec.Fma(ai, TVec.Load(b1), c2);
            c3 = TVec.Fma(ai, TVec.Load(b1 + w), c3);
        }
        TVec.Store(c0, acc); TVec.Store(c1, acc + w); TVec.Store(c2, acc + 2 * w); TVec.Store(c3, acc + 3 * w);
    }

    /// <summary>The same for two vectors (the last panel alone).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void TwoVectors<TVec>(float* a, long kStep, float* b0, int kc, long stride, float* acc) where TVec : struct, IVec<TVec>
    {
        int w = TVec.Count;
        TVec c0 = TVec.Load(acc), c1 = TVec.Load(acc + w);
        for (int p = 0; p < kc; p++, b0 += stride, a += kStep)
        {
            TVec ai = TVec.Broadcast(*a);
            c0 = TVec.Fma(ai, TVec.Load(b0), c0);
            c1 = TVec.Fma(ai, TVec.Load(b0 + w), c1);
        }
        TVec.Store(c0, acc); TVec.Store(c1, acc + w);
    }
}
