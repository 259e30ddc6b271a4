using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Engine.Numerics;

namespace Engine.Kernels.Simd;

/// <summary>
/// Block sizes per instruction set. MR×NR is the micro-kernel tile: NR = 2 vectors; MR = 8 rows with AVX-512's
/// 32 registers (16 accumulators), 6 with AVX2's 16. This machine (the project's CI/bench host) turned out to
/// be a Zen 4 EPYC: L1d 32 KiB, L2 1 MiB per core, L3 32 MiB shared, 512-bit FMA at one per cycle.
/// - AVX-512, chosen by measurement (engine bench, 1 thread; the sweep is in perf-results/2026-11-25-simd):
///   KC = 1024 makes K = 784 a single block, so each C tile is loaded and stored once; the B micro-panel
///   (KC×NR×4 B = 128 KiB) then streams from L2 with a constant stride the prefetcher follows, and the small
///   MC = 48 keeps the packed A block (48×1024×4 B = 192 KiB) in L2 beside it. NC = 2048: the packed B block
///   (1024×2048×4 B = 8 MiB) lives in L3. The classic L1-resident choice (KC = 256, B panel 32 KiB) measured
///   77–80 % of peak on 1024–2048 squares against 86–90 % for this one.
/// - AVX2 / Vector / scalar: the L1-resident textbook sizes (B micro-panel 256×16×4 B = 16 KiB in L1,
///   A block 144×256×4 B = 144 KiB in L2, B block 2 MiB in L3); these paths are for other machines and tests.
/// MC is a multiple of MR.
/// </summary>
internal readonly record struct BlockSizes(int MR, int NR, int KC, int MC, int NC)
{
    public static BlockSizes For(InstructionSet isa) => isa switch
    {
        InstructionSet.Avx512 => Of<V512>(1024, 48, 2048),
        InstructionSet.Avx2 => Of<V256>(256, 144, 2048),
        InstructionSet.Vector => Of<VPortable>(256, 144, 2048),
        _ => Of<VScalar>(256, 144, 2048),
    };

    /// <summary>MR and NR come from the micro-kernel's own type, so the packing can never disagree with the kernel.</summary>
    static BlockSizes Of<TVec>(int kc, int mc, int nc) where TVec : struct, IVec<TVec> =>
        new(TVec.MicroKernelRows, 2 * TVec.Count, kc, mc, nc);
}

/// <summary>
/// Blocked SGEMM in the BLIS structure: loops over NC (columns of C), KC (the shared dimension), MC (rows), then
/// NR×MR tiles computed by <see cref="MicroKernel{TVec}"/> from packed, zero-padded panels. Threads split the rows
/// or the columns of C, never K, so each element's fma sequence is the reference's. One instance per backend;
/// calls must not overlap.
/// </summary>
internal sealed unsafe class PackedGemm : IParallelWork
{
    /// <summary>Products smaller than this many flops run on one thread: waking a worker costs more.</summary>
    const long MinFlopsPerThread = 1L << 20;

    readonly InstructionSet _isa;
    readonly BlockSizes _bs;
    readonly WorkerPool _pool;
    // Per thread, pinned, with 16 floats of slack for 64-byte alignment; sized on first use to what the
    // products need (at most MC×KC and KC×NC), so a backend that only ever multiplies small matrices stays small.
    readonly float[][] _packedA;
    readonly float[][] _packedB;
    readonly float[][] _edgeTile;  // MR×NR

    // The call in progress (set by Multiply, read by the parts).
    float* _a, _b, _c;
    int _lda, _ldb, _ldc, _m, _n, _k;
    bool _transA, _transB, _accumulate, _splitColumns, _narrow;
    bool _sgd;                // C is a weight matrix: each product tile goes through _update instead of being stored
    UpdateTile<SgdRule> _update;
    readonly ExclusiveUse _busy = new("simd backend's GEMM");

    /// <param name="pool">The backend's worker pool (owned by the caller).</param>
    public PackedGemm(InstructionSet isa, WorkerPool pool)
    {
        int threads = pool.Threads;
        _isa = isa;
        _bs = BlockSizes.For(isa);
        _pool = pool;
        _packedA = new float[threads][];
        _packedB = new float[threads][];
        _edgeTile = new float[threads][];
        for (int t = 0; t < threads; t++)
        {
            _packedA[t] = [];
            _packedB[t] = [];
            _edgeTile[t] = GC.AllocateUninitializedArray<float>(_bs.MR * _bs.NR + 16, pinned: true);
        }
    }

    public void Multiply(Transpose transA, Transpose transB, ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView c, bool accumulate)
    {
        var (m, n, k) = GemmShape.Resolve(transA, transB, a, b, c);
        if (m == 0 || n == 0) return;
        using var _ = _busy.Enter(); // the fields below describe the one call in progress
        fixed (float* pa = a.Data, pb = b.Data, pc = c.Data)
        {
            if (k == 0)
            {
                if (!accumulate)
                    for (int i = 0; i < m; i++) new Span<float>(pc + (long)i * c.Stride, n).Clear();
                return;
            }
            // C at most one vector wide (the output layer's N = 10) with B's rows contiguous: the narrow kernel
            // reads both operands in place (engine bench, 1 thread: 128x10x32 TN 9.6 → 32.6 GFLOP/s, 32x10x128 NN 11.2 → 51.7).
            _narrow = _isa == InstructionSet.Avx512 && n <= Vector512<float>.Count && transB == Transpose.No;
            Run(transA, transB, pa, a.Stride, pb, b.Stride, pc, c.Stride, m, n, k, accumulate, sgd: false);
        }
    }

    /// <summary>
    /// <see cref="IKernels.GemmSgdUpdate"/>: each MR×NR tile of G = op(A)·op(B) goes from the micro-kernel to a scratch
    /// tile in L1 and straight into the SGD step of the same weights, so G is never stored and the weights are read
    /// and written once, by the thread that computed their gradient. Returns false, doing nothing, for the shapes it
    /// does not fuse: K past one KC block (G would have to be kept between blocks) and the narrow kernel's N ≤ 16.
    /// </summary>
    public bool MultiplyIntoSgdUpdate(Transpose transA, Transpose transB, ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView weights,
        float learningRate, float l2)
    {
        var (m, n, k) = GemmShape.Resolve(transA, transB, a, b, weights);
        if (k == 0 || k > _bs.KC || (_isa == InstructionSet.Avx512 && n <= Vector512<float>.Count && transB == Transpose.No)) return false;
        if (m == 0 || n == 0) return true;
        using var _ = _busy.Enter();
        fixed (float* pa = a.Data, pb = b.Data, pw = weights.Data)
        {
            _narrow = false;
            _update = new UpdateTile<SgdRule>(new SgdRule(learningRate, l2));
            Run(transA, transB, pa, a.Stride, pb, b.Stride, pw, weights.Stride, m, n, k, accumulate: false, sgd: true);
        }
        return true;
    }

    void Run(Transpose transA, Transpose transB, float* a, int lda, float* b, int ldb, float* c, int ldc, int m, int n, int k, bool accumulate, bool sgd)
    {
        _a = a; _b = b; _c = c;
        _lda = lda; _ldb = ldb; _ldc = ldc;
        _m = m; _n = n; _k = k;
        _transA = transA == Transpose.Yes; _transB = transB == Transpose.Yes; _accumulate = accumulate; _sgd = sgd;

        long flops = 2L * m * n * k;
        int parts = (int)Math.Clamp(flops / MinFlopsPerThread, 1, _pool.Threads);
        int columnTiles = (n + _bs.NR - 1) / _bs.NR, rowTiles = (m + _bs.MR - 1) / _bs.MR;
        // Split C in whole tiles, by columns whenever there are enough: then each thread packs only its own
        // part of B (the big, reused operand) and only A is packed twice. Measured on 2048²: 158 → 190 GFLOP/s.
        // An SGD step splits by columns whenever each thread gets some: the forward product X·W splits W's columns
        // the same way, so each thread then updates the weights it reads, and no cache line of W changes cores.
        _splitColumns = sgd ? columnTiles >= parts : columnTiles >= 4 * _pool.Threads || columnTiles >= rowTiles;
        int tiles = _splitColumns ? columnTiles : rowTiles;
        parts = Math.Min(parts, tiles);
        try
        {
            _pool.Run(this, parts);
        }
        finally
        {
            _a = _b = _c = null;
            _sgd = false;
        }
    }

    public void Execute(int part, int parts)
    {
        int rowStart = 0, rowEnd = _m, colStart = 0, colEnd = _n;
        if (_splitColumns) (colStart, colEnd) = Range(_n, _bs.NR, part, parts);
        else (rowStart, rowEnd) = Range(_m, _bs.MR, part, parts);
        if (rowStart >= rowEnd || colStart >= colEnd) return;
        if (_narrow) { Narrow512(rowStart, rowEnd); return; }
        // The epilogue is chosen here, once per part: inside Compute it is a type, so each (vector type, epilogue) pair is
        // compiled on its own and the tile loop has no branch on it.
        if (_sgd) Compute(part, rowStart, rowEnd, colStart, colEnd, _update);
        else Compute(part, rowStart, rowEnd, colStart, colEnd, default(StoreTile));
    }

    void Compute<TEpilogue>(int part, int rowStart, int rowEnd, int colStart, int colEnd, TEpilogue epilogue) where TEpilogue : struct, ITileEpilogue
    {
        switch (_isa)
        {
            case InstructionSet.Avx512: Compute<V512, TEpilogue>(part, rowStart, rowEnd, colStart, colEnd, epilogue); break;
            case InstructionSet.Avx2: Compute<V256, TEpilogue>(part, rowStart, rowEnd, colStart, colEnd, epilogue); break;
            case InstructionSet.Vector: Compute<VPortable, TEpilogue>(part, rowStart, rowEnd, colStart, colEnd, epilogue); break;
            default: Compute<VScalar, TEpilogue>(part, rowStart, rowEnd, colStart, colEnd, epilogue); break;
        }
    }

    /// <summary>Part p of [0, total) in whole units, as even as possible.</summary>
    static (int Start, int End) Range(int total, int unit, int part, int parts)
    {
        int units = (total + unit - 1) / unit;
        int start = (int)((long)units * part / parts) * unit;
        int end = (int)((long)units * (part + 1) / parts) * unit;
        return (Math.Min(start, total), Math.Min(end, total));
    }

    /// <summary>The buffer, replaced by a larger pinned one when it holds fewer than <paramref name="floats"/> (+ slack).</summary>
    static float[] Sized(ref float[] buffer, int floats)
    {
        if (buffer.Length < floats + 16) buffer = GC.AllocateUninitializedArray<float>(floats + 16, pinned: true);
        return buffer;
    }

    static float* Aligned(float[] pinned) => (float*)(((nint)Unsafe.AsPointer(ref pinned[0]) + 63) & ~(nint)63);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void Compute<TVec, TEpilogue>(int part, int rowStart, int rowEnd, int colStart, int colEnd, TEpilogue epilogue)
        where TVec : struct, IVec<TVec> where TEpilogue : struct, ITileEpilogue
    {
        int MR = _bs.MR, NR = _bs.NR, KC = _bs.KC, MC = _bs.MC, NC = _bs.NC;
        int rowSpan = Math.Min(MC, rowEnd - rowStart), colSpan = Math.Min(NC, colEnd - colStart), depth = Math.Min(KC, _k);
        float* packedA = Aligned(Sized(ref _packedA[part], ((rowSpan + MR - 1) / MR * MR) * depth));
        float* packedB = Aligned(Sized(ref _packedB[part], ((colSpan + NR - 1) / NR * NR) * depth));
        float* edge = Aligned(_edgeTile[part]);
        for (int jc = colStart; jc < colEnd; jc += NC)
        {
            int nc = Math.Min(NC, colEnd - jc);
            for (int pc = 0; pc < _k; pc += KC)
            {
                int kc = Math.Min(KC, _k - pc);
                // Small-M products (one MC block: the network's forward X·W) use each B panel once, so packing
                // it is a pure extra copy: full panels of an untransposed B are read in place instead.
                bool directB = !_transB && rowEnd - rowStart <= MC;
                if (directB) PackB(packedB, pc, kc, jc + nc / NR * NR, nc % NR, NR, offset: nc / NR * NR);
                else PackB(packedB, pc, kc, jc, nc, NR, offset: 0);
                bool loadC = pc > 0 || _accumulate;
                for (int ic = rowStart; ic < rowEnd; ic += MC)
                {
                    int mc = Math.Min(MC, rowEnd - ic);
                    // Few column panels (the network's N = 128) make a block's compute short next to fetching A's rows,
                    // which inference streams from DRAM: fetch ahead then. (engine bench, 1000x128x784 in the inference
                    // pass: 95–99 → 103–105 GFLOP/s. With many panels, as in large squares, A is reused long enough
                    // for the hardware, and the extra lines in L2 cost 2–3 %: no prefetch there.)
                    bool streamA = !_transA && nc <= 4 * NR;
                    PackA(packedA, ic, mc, pc, kc, MR, prefetchNext: streamA);
                    // While this block computes, its micro-kernel calls take turns fetching the next block's rows.
                    int nextRows = streamA ? Math.Min(MC, rowEnd - ic - mc) : 0, calls = (nc + NR - 1) / NR * ((mc + MR - 1) / MR), call = 0;
                    for (int jr = 0; jr < nc; jr += NR)
                    {
                        int nr = Math.Min(NR, nc - jr);
                        float* bPanel;
                        int ldb;
                        if (directB && nr == NR) { bPanel = _b + (long)pc * _ldb + jc + jr; ldb = _ldb; }
                        else { bPanel = packedB + jr * kc; ldb = NR; }
                        for (int ir = 0; ir < mc; ir += MR)
                        {
                            int mr = Math.Min(MR, mc - ir);
                            float* cTile = _c + (long)(ic + ir) * _ldc + jc + jr;
                            for (int r = call++; r < nextRows; r += calls)
                                Prefetch.Lines((byte*)(_a + (long)(ic + mc + r) * _lda + pc), kc * sizeof(float));
                            if (!TEpilogue.StoresProduct)
                            {
                                // One K block (checked by the caller), so the scratch tile holds the whole product.
                                TVec.MicroKernel(kc, packedA + ir * kc, bPanel, ldb, edge, NR, loadC: false);
                                epilogue.Apply<TVec>(edge, NR, cTile, _ldc, mr, nr);
                            }
                            else if (mr == MR && nr == NR)
                            {
                                TVec.MicroKernel(kc, packedA + ir * kc, bPanel, ldb, cTile, _ldc, loadC);
                            }
                            else
                            {
                                // Edge tile: run the full kernel on a scratch tile, copy the valid part in and out.
                                if (loadC)
                                    for (int r = 0; r < mr; r++)
                                        new ReadOnlySpan<float>(cTile + (long)r * _ldc, nr).CopyTo(new Span<float>(edge + r * NR, nr));
                                TVec.MicroKernel(kc, packedA + ir * kc, bPanel, ldb, edge, NR, loadC);
                                for (int r = 0; r < mr; r++)
                                    new ReadOnlySpan<float>(edge + r * NR, nr).CopyTo(new Span<float>(cTile + (long)r * _ldc, nr));
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// C rows [rowStart, rowEnd) for N ≤ 16 and an untransposed B, without packing: each row of C is one masked
    /// vector, and eight rows share every masked load of a B row. Every element still gets the reference's
    /// fma sequence over k = 0..K-1 from 0 (or from C), so the result is bit-identical.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void Narrow512(int rowStart, int rowEnd)
    {
        var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(_n)).AsSingle();
        // op(A)[i, k] = _a[i·rowStep + k·kStep]
        long rowStep = _transA ? 1 : _lda, kStep = _transA ? _lda : 1, ldb = _ldb, ldc = _ldc;
        int kEnd = _k, i = rowStart;
        for (; i + 8 <= rowEnd; i += 8)
        {
            float* c = _c + i * ldc;
            Vector512<float> c0, c1, c2, c3, c4, c5, c6, c7;
            if (_accumulate)
            {
                c0 = Avx512F.MaskLoad(c, mask, Vector512<float>.Zero); c1 = Avx512F.MaskLoad(c + ldc, mask, Vector512<float>.Zero);
                c2 = Avx512F.MaskLoad(c + 2 * ldc, mask, Vector512<float>.Zero); c3 = Avx512F.MaskLoad(c + 3 * ldc, mask, Vector512<float>.Zero);
                c4 = Avx512F.MaskLoad(c + 4 * ldc, mask, Vector512<float>.Zero); c5 = Avx512F.MaskLoad(c + 5 * ldc, mask, Vector512<float>.Zero);
                c6 = Avx512F.MaskLoad(c + 6 * ldc, mask, Vector512<float>.Zero); c7 = Avx512F.MaskLoad(c + 7 * ldc, mask, Vector512<float>.Zero);
            }
            else c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = Vector512<float>.Zero;
            float* a = _a + i * rowStep;
            for (int k = 0; k < kEnd; k++, a += kStep)
            {
                var b = Avx512F.MaskLoad(_b + k * ldb, mask, Vector512<float>.Zero);
                c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), b, c0);
                c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[rowStep]), b, c1);
                c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[2 * rowStep]), b, c2);
                c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[3 * rowStep]), b, c3);
                c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[4 * rowStep]), b, c4);
                c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[5 * rowStep]), b, c5);
                c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[6 * rowStep]), b, c6);
                c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[7 * rowStep]), b, c7);
            }
            Avx512F.MaskStore(c, mask, c0); Avx512F.MaskStore(c + ldc, mask, c1);
            Avx512F.MaskStore(c + 2 * ldc, mask, c2); Avx512F.MaskStore(c + 3 * ldc, mask, c3);
            Avx512F.MaskStore(c + 4 * ldc, mask, c4); Avx512F.MaskStore(c + 5 * ldc, mask, c5);
            Avx512F.MaskStore(c + 6 * ldc, mask, c6); Avx512F.MaskStore(c + 7 * ldc, mask, c7);
        }
        for (; i < rowEnd; i++)
        {
            float* c = _c + i * ldc;
            var acc = _accumulate ? Avx512F.MaskLoad(c, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            float* a = _a + i * rowStep;
            for (int k = 0; k < kEnd; k++, a += kStep)
                acc = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), Avx512F.MaskLoad(_b + k * ldb, mask, Vector512<float>.Zero), acc);
            Avx512F.MaskStore(c, mask, acc);
        }
    }

    /// <summary>op(A)[ic..ic+mc, pc..pc+kc] → micro-panels of MR rows: panel p holds kc steps of MR floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void PackA(float* dst, int ic, int mc, int pc, int kc, int MR, bool prefetchNext)
    {
        for (int ir = 0; ir < mc; ir += MR)
        {
            float* panel = dst + ir * kc;
            int rows = Math.Min(MR, mc - ir);
            if (!_transA && rows == 8 && MR == 8 && Transpose8x8.IsSupported)
            {
                // 8 rows × kc → kc steps of 8: whole 8×8 blocks by shuffles, the k tail one by one.
                int k = 0;
                float* src = _a + (long)(ic + ir) * _lda + pc;
                // The next 8 rows (in this block or the next), one cache line per row every 16 floats, one panel ahead
                // of use when A streams from DRAM: rows a few dozen lines long (49 for 784 inputs) give the hardware
                // prefetcher too little to lock on to.
                float* next = src + 8L * _lda;
                bool ahead = prefetchNext && Sse.IsSupported && ic + ir + 16 <= _m;
                for (; k + 8 <= kc; k += 8)
                {
                    if (ahead && (k & 15) == 0)
                        for (int r = 0; r < 8; r++) Sse.Prefetch1(next + r * _lda + k);
                    Transpose8x8.Copy(src + k, _lda, panel + k * 8, 8);
                }
                if (ahead)
                    for (int r = 0; r < 8; r++) Sse.Prefetch1(next + r * _lda + kc - 1); // a row's last line
                for (; k < kc; k++)
                    for (int r = 0; r < 8; r++) panel[k * 8 + r] = src[(long)r * _lda + k];
            }
            else if (!_transA)
            {
                for (int r = 0; r < MR; r++)
                {
                    if (r < rows)
                    {
                        float* src = _a + (long)(ic + ir + r) * _lda + pc;
                        for (int k = 0; k < kc; k++) panel[k * MR + r] = src[k];
                    }
                    else
                    {
                        for (int k = 0; k < kc; k++) panel[k * MR + r] = 0f;
                    }
                }
            }
            else if (rows == 8 && MR == 8)
            {
                // A stored transposed (the weight gradient's Xᵀ): each k step of the panel is 8 contiguous floats.
                float* src = _a + (long)pc * _lda + ic + ir;
                for (int k = 0; k < kc; k++, src += _lda) Vector256.Store(Vector256.Load(src), panel + k * 8);
            }
            else
            {
                for (int k = 0; k < kc; k++)
                {
                    float* src = _a + (long)(pc + k) * _lda + ic + ir;
                    float* d = panel + k * MR;
                    int r = 0;
                    for (; r < rows; r++) d[r] = src[r];
                    for (; r < MR; r++) d[r] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// op(B)[pc..pc+kc, jc..jc+nc] → micro-panels of NR columns: panel p holds kc steps of NR floats, at
    /// dst + (offset + p·NR)·kc (offset: where these columns sit in the block, so panel addresses stay uniform).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void PackB(float* dst, int pc, int kc, int jc, int nc, int NR, int offset)
    {
        for (int jr = 0; jr < nc; jr += NR)
        {
            float* panel = dst + (offset + jr) * kc;
            int cols = Math.Min(NR, nc - jr);
            if (!_transB)
            {
                for (int k = 0; k < kc; k++)
                {
                    float* src = _b + (long)(pc + k) * _ldb + jc + jr;
                    float* d = panel + k * NR;
                    new ReadOnlySpan<float>(src, cols).CopyTo(new Span<float>(d, cols));
                    if (cols < NR) new Span<float>(d + cols, NR - cols).Clear();
                }
            }
            else if (cols == NR && NR % 8 == 0 && Transpose8x8.IsSupported)
            {
                // B is stored transposed (row j holds column j of op(B)): 8 columns × 8 steps of k at a time.
                int k = 0;
                for (; k + 8 <= kc; k += 8)
                    for (int c0 = 0; c0 < NR; c0 += 8)
                        Transpose8x8.Copy(_b + (long)(jc + jr + c0) * _ldb + pc + k, _ldb, panel + k * NR + c0, NR);
                for (; k < kc; k++)
                    for (int col = 0; col < NR; col++) panel[k * NR + col] = _b[(long)(jc + jr + col) * _ldb + pc + k];
            }
            else
            {
                for (int col = 0; col < NR; col++)
                {
                    if (col < cols)
                    {
                        float* src = _b + (long)(jc + jr + col) * _ldb + pc;
                        for (int k = 0; k < kc; k++) panel[k * NR + col] = src[k];
                    }
                    else
                    {
                        for (int k = 0; k < kc; k++) panel[k * NR + col] = 0f;
                    }
                }
            }
        }
    }
}

/// <summary>
/// What happens to each finished MR×NR tile of a product (the BLIS/CUTLASS epilogue): a type parameter of the tile loop,
/// so every (vector type, epilogue) pair is compiled on its own. A new fusion is a new epilogue, never a flag in the loop.
/// </summary>
internal unsafe interface ITileEpilogue
{
    /// <summary>True: the micro-kernel stores (or accumulates) the product into C itself. False: the product of the whole
    /// K (one block) goes to a scratch tile and <see cref="Apply{TVec}"/> decides what C receives.</summary>
    static abstract bool StoresProduct { get; }

    /// <summary>Finishes an mr×nr tile: <paramref name="product"/> (row stride ldp) into C at <paramref name="c"/> (row stride ldc).</summary>
    void Apply<TVec>(float* product, int ldp, float* c, int ldc, int mr, int nr) where TVec : struct, IVec<TVec>;
}

/// <summary>C = product (or C += product when accumulating): the plain GEMM.</summary>
internal readonly unsafe struct StoreTile : ITileEpilogue
{
    public static bool StoresProduct => true;
    public void Apply<TVec>(float* product, int ldp, float* c, int ldc, int mr, int nr) where TVec : struct, IVec<TVec> =>
        throw new InvalidOperationException("the micro-kernel stores this product itself");
}

/// <summary>C is a weight matrix W and the product its gradient G: each tile becomes the rule's step of W, as the unfused
/// update would apply it to the stored G (state-free rules only: the rule's state would need W's layout too).</summary>
internal readonly unsafe struct UpdateTile<TRule>(TRule rule) : ITileEpilogue where TRule : struct, IUpdateRule
{
    public static bool StoresProduct => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Apply<TVec>(float* product, int ldp, float* c, int ldc, int mr, int nr) where TVec : struct, IVec<TVec>
    {
        for (int r = 0; r < mr; r++, product += ldp, c += ldc) ElementWise<TVec>.Update(rule, c, product, null, null, nr);
    }
}
