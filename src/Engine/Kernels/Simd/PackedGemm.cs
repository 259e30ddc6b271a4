using System.Runtime.CompilerServices;
using Engine.Numerics;

namespace Engine.Kernels.Simd;

/// <summary>
/// The operands and plan of one product, as the parts read them (op(A)[i, k] is A[i·lda + k], or A[k·lda + i] when
/// transposed; likewise B). Set once per call and never changed while the parts run.
/// </summary>
internal readonly unsafe struct GemmCall(float* a, int lda, bool transA, float* b, int ldb, bool transB, float* c, int ldc,
                                         int m, int n, int k, bool accumulate, GemmPlan plan, PackedWeights? packedB = null,
                                         bool transposedC = false)
{
    public readonly float* A = a, B = b, C = c;
    public readonly int Lda = lda, Ldb = ldb, Ldc = ldc, M = m, N = n, K = k;
    public readonly bool TransA = transA, TransB = transB, Accumulate = accumulate;
    public readonly GemmPlan Plan = plan;
    /// <summary>B already in panels (then every B panel is read from it and nothing of B is packed), or null.</summary>
    public readonly PackedWeights? PackedB = packedB;
    /// <summary>The call computes the transpose of the caller's product (A and B swapped, see <see cref="GemmPlan.TransposesC"/>):
    /// its element (i, j) is stored at C[j·ldc + i].</summary>
    public readonly bool TransposedC = transposedC;
}

/// <summary>
/// Blocked SGEMM in the BLIS structure: loops over NC (columns of C), KC (the shared dimension), MC (rows), then
/// NR×MR tiles computed by the micro-kernel of the vector type's own (<see cref="IVec{TSelf}.MicroKernel"/>) from packed, zero-padded panels
/// (<see cref="Packing"/>); what happens to each finished tile is the epilogue's (<see cref="IGemmEpilogue"/>). The
/// split between threads and the block sizes are <see cref="GemmPlan"/>'s. One instance per backend; calls must not overlap.
/// </summary>
internal sealed unsafe class PackedGemm
{
    readonly InstructionSet _isa;
    readonly WorkerPool _pool;
    // Per thread, pinned, with 16 floats of slack for 64-byte alignment; sized on first use to what the
    // products need (at most MC×KC and KC×NC), so a backend that only ever multiplies small matrices stays small.
    readonly float[][] _packedA;
    readonly float[][] _packedB;
    readonly float[][] _edgeTile;  // MR×NR
    readonly Dictionary<Type, object> _works = [];
    readonly ExclusiveUse _busy = new("simd backend's GEMM");

    /// <summary>The block sizes of this backend's micro-kernel on this machine.</summary>
    public BlockSizes Blocks { get; }

    /// <param name="pool">The backend's worker pool (owned by the caller).</param>
    /// <param name="blocks">Block sizes for <paramref name="isa"/>'s micro-kernel (its MR and NR).</param>
    public PackedGemm(InstructionSet isa, WorkerPool pool, BlockSizes blocks)
    {
        int threads = pool.Threads;
        _isa = isa;
        Blocks = blocks;
        _pool = pool;
        _packedA = new float[threads][];
        _packedB = new float[threads][];
        _edgeTile = new float[threads][];
        for (int t = 0; t < threads; t++)
        {
            _packedA[t] = [];
            _packedB[t] = [];
            _edgeTile[t] = GC.AllocateUninitializedArray<float>(Blocks.MR * Blocks.NR + 16, pinned: true);
        }
    }

    int NarrowWidth => _isa == InstructionSet.Avx512 ? NarrowKernel512.Width : 0;

    /// <summary>
    /// C ← epilogue(op(A)·op(B)). Returns false, doing nothing, for an epilogue that finishes tiles (<see cref="ProductUse.Finish"/>)
    /// on a product it cannot finish tile by tile: K past one KC block (no tile holds a whole product; the narrow
    /// kernel has no K blocks) and K = 0; the caller then stores the product and finishes it itself. A finishing epilogue gets each MR×NR
    /// tile from the micro-kernel in a scratch tile in L1, so the product is never stored and C is read and written
    /// once, by the thread that computed that part of the product.
    /// </summary>
    /// <param name="packedB">B in this GEMM's panel layout (<see cref="Pack"/>), or null; a pack of another shape or
    /// layout is not used.</param>
    public bool Multiply<TEpilogue>(Transpose transA, Transpose transB, ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView c, in TEpilogue epilogue,
                                    PackedWeights? packedB = null)
        where TEpilogue : struct, IGemmEpilogue
    {
        var (m, n, k) = GemmShape.Resolve(transA, transB, a, b, c);
        if (packedB is not null && !Fits(packedB, transB, n, k)) packedB = null;
        bool finish = TEpilogue.Use == ProductUse.Finish, accumulate = TEpilogue.Use == ProductUse.Accumulate;
        bool narrow = n <= NarrowWidth && transB == Transpose.No; // no K blocks: finishes any K
        if (finish && (k == 0 || (k > Blocks.KC && !narrow))) return false;
        if (m == 0 || n == 0) return true;
        using var _ = _busy.Enter();
        fixed (float* pa = a.Data, pb = b.Data, pc = c.Data)
        {
            if (k == 0)
            {
                if (!accumulate)
                    for (int i = 0; i < m; i++) new Span<float>(pc + (long)i * c.Stride, n).Clear();
                return true;
            }
            bool ta = transA == Transpose.Yes, tb = transB == Transpose.Yes;
            if (!finish && packedB is null && GemmPlan.TransposesC(Blocks, m, n, k, ta, tb))
            {
                // Cᵀ = op(B)ᵀ·op(A)ᵀ: the same products, each element's chain unchanged, written to C transposed.
                var swapped = GemmPlan.For(Blocks, n, m, k, !ta, a.Stride, _pool.Threads, NarrowWidth);
                Run(new GemmCall(pb, b.Stride, !tb, pa, a.Stride, !ta, pc, c.Stride, n, m, k, accumulate, swapped, transposedC: true), epilogue);
                return true;
            }
            var plan = GemmPlan.For(Blocks, m, n, k, tb, b.Stride, _pool.Threads, NarrowWidth, packedB is not null);
            if (plan.Narrow) packedB = null; // the narrow kernel reads B in place
            Run(new GemmCall(pa, a.Stride, ta, pb, b.Stride, tb, pc, c.Stride, m, n, k, accumulate, plan, packedB), epilogue);
        }
        return true;
    }

    bool Fits(PackedWeights packed, Transpose transB, int n, int k) =>
        transB == Transpose.No && packed.Rows == k && packed.Cols == n && packed.NR == Blocks.NR && packed.KC == Blocks.KC;

    /// <summary>
    /// <paramref name="w"/> (K×N, an untransposed B) in this GEMM's panels, K block by K block, or null for a B the narrow
    /// kernel reads in place (N at most one vector). Packed once, read by every later product with these weights.
    /// </summary>
    public PackedWeights? Pack(ReadOnlyMatrixView w)
    {
        if (w.Cols <= NarrowWidth || w.Rows == 0 || w.Cols == 0) return null;
        var packed = new PackedWeights(w.Rows, w.Cols, Blocks.NR, Blocks.KC);
        fixed (float* pw = w.Data)
        {
            var source = new GemmCall(null, 0, false, pw, w.Stride, false, null, 0, 0, w.Cols, w.Rows, false, default);
            for (int pc = 0; pc < w.Rows; pc += Blocks.KC)
                Packing.PackB(source, packed.Panel(pc, 0), pc, Math.Min(Blocks.KC, w.Rows - pc), 0, w.Cols, Blocks.NR, offset: 0);
        }
        return packed;
    }

    /// <summary>Runs the call's parts on the pool: one work object per epilogue type, made once, so a call allocates nothing.</summary>
    void Run<TEpilogue>(in GemmCall call, in TEpilogue epilogue) where TEpilogue : struct, IGemmEpilogue
    {
        if (!_works.TryGetValue(typeof(TEpilogue), out object? work)) _works[typeof(TEpilogue)] = work = new Work<TEpilogue>(this);
        var typed = (Work<TEpilogue>)work;
        typed.Call = call;
        typed.Epilogue = epilogue;
        try { _pool.Run(typed, call.Plan.Parts); }
        finally { typed.Call = default; }
    }

    sealed class Work<TEpilogue>(PackedGemm gemm) : IParallelWork where TEpilogue : struct, IGemmEpilogue
    {
        public GemmCall Call;
        public TEpilogue Epilogue;
        public void Execute(int part, int parts) => gemm.Execute(part, Call, Epilogue);
    }

    void Execute<TEpilogue>(int part, in GemmCall call, in TEpilogue epilogue) where TEpilogue : struct, IGemmEpilogue
    {
        // Parts of a packed B start on whole panels: no shift of the boundaries to C's cache lines.
        int lineShift = call.PackedB is null && !call.TransposedC ? GemmPlan.LineShift(call.C, call.Ldc, call.Plan.Blocks.NR) : 0;
        var (rowStart, rowEnd, colStart, colEnd) = call.Plan.PartOf(part, call.M, call.N, lineShift);
        if (rowStart >= rowEnd || colStart >= colEnd) return;
        if (call.Plan.Narrow) { NarrowKernel512.Run(call, rowStart, rowEnd, epilogue, Aligned(_edgeTile[part])); return; }
        if (call.Plan.RowByRow)
        {
            float* scratch = Aligned(_edgeTile[part]);
            switch (_isa)
            {
                case InstructionSet.Avx512: RowKernel.Run<V512, TEpilogue>(call, rowStart, rowEnd, colStart, colEnd, epilogue, scratch); break;
                case InstructionSet.Avx2: RowKernel.Run<V256, TEpilogue>(call, rowStart, rowEnd, colStart, colEnd, epilogue, scratch); break;
                case InstructionSet.Vector: RowKernel.Run<VPortable, TEpilogue>(call, rowStart, rowEnd, colStart, colEnd, epilogue, scratch); break;
                default: RowKernel.Run<VScalar, TEpilogue>(call, rowStart, rowEnd, colStart, colEnd, epilogue, scratch); break;
            }
            return;
        }
        switch (_isa)
        {
            case InstructionSet.Avx512: Compute<V512, TEpilogue>(part, call, rowStart, rowEnd, colStart, colEnd, epilogue); break;
            case InstructionSet.Avx2: Compute<V256, TEpilogue>(part, call, rowStart, rowEnd, colStart, colEnd, epilogue); break;
            case InstructionSet.Vector: Compute<VPortable, TEpilogue>(part, call, rowStart, rowEnd, colStart, colEnd, epilogue); break;
            default: Compute<VScalar, TEpilogue>(part, call, rowStart, rowEnd, colStart, colEnd, epilogue); break;
        }
    }

    /// <summary>The buffer, replaced by a larger pinned one when it holds fewer than <paramref name="floats"/> (+ slack).</summary>
    static float[] Sized(ref float[] buffer, int floats)
    {
        if (buffer.Length < floats + 16) buffer = GC.AllocateUninitializedArray<float>(floats + 16, pinned: true);
        return buffer;
    }

    static float* Aligned(float[] pinned) => (float*)(((nint)Unsafe.AsPointer(ref pinned[0]) + 63) & ~(nint)63);

    /// <summary>The five loops around the micro-kernel for C rows [rowStart, rowEnd) and columns [colStart, colEnd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void Compute<TVec, TEpilogue>(int part, in GemmCall call, int rowStart, int rowEnd, int colStart, int colEnd, TEpilogue epilogue)
        where TVec : struct, IVec<TVec> where TEpilogue : struct, IGemmEpilogue
    {
        var bs = call.Plan.Blocks;
        int MR = bs.MR, NR = bs.NR, KC = bs.KC, MC = bs.MC, NC = bs.NC;
        float* a = call.A, b = call.B, c = call.C;
        int lda = call.Lda, ldb = call.Ldb, ldc = call.Ldc, k = call.K;
        int rowSpan = Math.Min(MC, rowEnd - rowStart), colSpan = Math.Min(NC, colEnd - colStart), depth = Math.Min(KC, k);
        float* packedA = Aligned(Sized(ref _packedA[part], ((rowSpan + MR - 1) / MR * MR) * depth));
        PackedWeights? prepacked = call.PackedB;
        float* packedB = prepacked is null ? Aligned(Sized(ref _packedB[part], ((colSpan + NR - 1) / NR * NR) * depth)) : null;
        float* edge = Aligned(_edgeTile[part]);
        bool directB = prepacked is null && call.Plan.ReadsBInPlace(call.TransB, rowEnd - rowStart, call.Ldb, call.K);
        for (int jc = colStart; jc < colEnd; jc += NC)
        {
            int nc = Math.Min(NC, colEnd - jc);
            bool streamA = call.Plan.StreamsA(call.TransA, nc);
            // A read in place: its full row tiles go to the kernel as they are (only a last partial tile is packed, zero-padded),
            // and each row tile runs across all column panels while its rows are still in the near caches.
            bool directA = call.Plan.ReadsAInPlace(nc);
            for (int pc = 0; pc < k; pc += KC)
            {
                int kc = Math.Min(KC, k - pc);
                if (directB) Packing.PackB(call, packedB, pc, kc, jc + nc / NR * NR, nc % NR, NR, offset: nc / NR * NR);
                else if (prepacked is null) Packing.PackB(call, packedB, pc, kc, jc, nc, NR, offset: 0);
                bool loadC = pc > 0 || call.Accumulate;
                for (int ic = rowStart; ic < rowEnd; ic += MC)
                {
                    int mc = Math.Min(MC, rowEnd - ic);
                    int packedFrom = directA ? mc / MR * MR : 0;
                    if (packedFrom < mc)
                        Packing.PackA(call, packedA + packedFrom * kc, ic + packedFrom, mc - packedFrom, pc, kc, MR, prefetchNext: streamA && !directA);
                    // While this block computes, its micro-kernel calls take turns fetching the next block's rows.
                    int nextRows = streamA ? Math.Min(MC, rowEnd - ic - mc) : 0, turn = 0;
                    int colTiles = (nc + NR - 1) / NR, rowTiles = (mc + MR - 1) / MR, calls = colTiles * rowTiles;
                    for (int tile = 0; tile < calls; tile++)
                    {
                        int jr = (directA ? tile % colTiles : tile / rowTiles) * NR;
                        int ir = (directA ? tile / colTiles : tile % rowTiles) * MR;
                        int nr = Math.Min(NR, nc - jr), mr = Math.Min(MR, mc - ir);
                        float* bPanel;
                        int ldbPanel;
                        if (prepacked is not null) { bPanel = prepacked.Panel(pc, jc + jr); ldbPanel = NR; }
                        else if (directB && nr == NR) { bPanel = b + (long)pc * ldb + jc + jr; ldbPanel = ldb; }
                        else { bPanel = packedB + jr * kc; ldbPanel = NR; }
                        for (int r = turn++; r < nextRows; r += calls)
                            Prefetch.Lines((byte*)(a + (long)(ic + mc + r) * lda + pc), kc * sizeof(float));
                        float* cTile = call.TransposedC ? c + (long)(jc + jr) * ldc + ic + ir : c + (long)(ic + ir) * ldc + jc + jr;
                        var tileCall = new Tile(kc, bPanel, ldbPanel, cTile, ldc, call.TransposedC, edge, NR, ic + ir, jc + jr, mr, nr, loadC);
                        if (ir < packedFrom && call.TransA)
                            tileCall.Run<TVec, TEpilogue, ColumnsAPanel>(new ColumnsAPanel(a + (long)pc * lda + ic + ir, lda), epilogue);
                        else if (ir < packedFrom)
                            tileCall.Run<TVec, TEpilogue, RowsAPanel>(new RowsAPanel(a + (long)(ic + ir) * lda + pc, lda), epilogue);
                        else
                            tileCall.Run<TVec, TEpilogue, PackedAPanel>(new PackedAPanel(packedA + ir * kc), epilogue);
                    }
                }
            }
        }
    }

    /// <summary>One MR×NR tile of C at (Row, Col), mr×nr of it inside C, from its A rows and B micro-panel.</summary>
    /// <remarks>C transposed (<see cref="GemmCall.TransposedC"/>): <c>c</c> points at the tile's first element, the tile is
    /// computed in the scratch tile and moved in and out transposed. Finishing epilogues never see a transposed C.</remarks>
    readonly ref struct Tile(int kc, float* b, int ldb, float* c, int ldc, bool transposedC, float* edge, int NR, int row, int col, int mr, int nr, bool loadC)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Run<TVec, TEpilogue, TA>(TA a, in TEpilogue epilogue)
            where TVec : struct, IVec<TVec> where TEpilogue : struct, IGemmEpilogue where TA : struct, IAPanel<TA>
        {
            if (TEpilogue.Use == ProductUse.Finish)
            {
                // One K block (checked by Multiply), so the scratch tile holds the whole product.
                TVec.MicroKernel(kc, a, b, ldb, edge, NR, loadC: false);
                epilogue.Finish<TVec>(row, col, edge, NR, c, ldc, mr, nr);
            }
            else if (transposedC)
            {
                if (loadC) Transpose8x8.CopyBlock(c, ldc, edge, NR, nr, mr);
                TVec.MicroKernel(kc, a, b, ldb, edge, NR, loadC);
                Transpose8x8.CopyBlock(edge, NR, c, ldc, mr, nr);
            }
            else if (mr == TVec.MicroKernelRows && nr == NR)
            {
                TVec.MicroKernel(kc, a, b, ldb, c, ldc, loadC);
            }
            else
            {
                // Edge tile: run the full kernel on a scratch tile, copy the valid part in and out.
                if (loadC)
                    for (int r = 0; r < mr; r++)
                        new ReadOnlySpan<float>(c + (long)r * ldc, nr).CopyTo(new Span<float>(edge + r * NR, nr));
                TVec.MicroKernel(kc, a, b, ldb, edge, NR, loadC);
                for (int r = 0; r < mr; r++)
                    new ReadOnlySpan<float>(edge + r * NR, nr).CopyTo(new Span<float>(c + (long)r * ldc, nr));
            }
        }
    }
}
