using System.Globalization;

namespace Engine.Kernels.Simd;

/// <summary>
/// BLIS's block sizes for one micro-kernel on one machine: MR×NR is the register tile (from the kernel's own type, so the
/// packing can never disagree with the kernel), KC the depth of a packed panel, MC the rows of a packed A block, NC the
/// columns of a packed B block. Blocking never changes an element's fma order (K blocks store, reload and go on), so
/// any block sizes give the same bits: they only decide speed. <paramref name="Split"/> forces how threads split a
/// product (<see cref="GemmPlan.For"/> chooses when it is <see cref="GemmSplit.Auto"/>; a few rows through prepacked
/// weights always split the panels), for experiments: it too only decides speed. <paramref name="L2"/> is the L2 size in bytes
/// the sizes were derived for (0: unknown), for <see cref="GemmPlan.PanelStaysInL2"/>.
/// </summary>
internal readonly record struct BlockSizes(int MR, int NR, int KC, int MC, int NC, GemmSplit Split = GemmSplit.Auto, long L2 = 0)
{
    /// <summary>Overrides the derived KC, MC and/or NC, or the split, for experiments, e.g. <c>kc=256,mc=144,split=rows</c>
    /// (results stay bit-identical).</summary>
    public const string EnvironmentVariable = "ENGINE_GEMM_BLOCKS";

    /// <summary>The block sizes of <paramref name="isa"/>'s micro-kernel for this machine's caches and threads.</summary>
    public static BlockSizes For(InstructionSet isa, CpuCaches caches, int threads) => isa switch
    {
        InstructionSet.Avx512 => Of<V512>(caches, threads),
        InstructionSet.Avx2 => Of<V256>(caches, threads),
        InstructionSet.Vector => Of<VPortable>(caches, threads),
        _ => Of<VScalar>(caches, threads),
    };

    static BlockSizes Of<TVec>(CpuCaches caches, int threads) where TVec : struct, IVec<TVec> =>
        Override(Derive(TVec.MicroKernelRows, 2 * TVec.Count, caches, threads), Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>
    /// The cache arithmetic, in one place (floats are 4 bytes):
    /// - KC: the B micro-panel (KC×NR) streams from L2 with a constant stride the hardware prefetcher follows, and takes
    ///   at most an eighth of it; capped at 1,024, which makes the network's K = 784 one block, so each C tile is loaded
    ///   and stored once. (Zen 4, L2 1 MiB, NR 32: 1,024. Measured there against the L1-resident textbook choice,
    ///   KC = 256 with a 32 KiB panel: 86–90 % against 77–80 % of peak on 1024²–2048², perf-results/2026-11-25-simd.)
    /// - MC: the packed A block (MC×KC) and the B micro-panel together fill at most a third of L2; the rest holds the C
    ///   tiles, the next A rows fetched ahead and what the other ways evict. (L2 1 MiB: 48 rows of 8; 2 MiB: 136.)
    /// - NC: each thread packs its own B block (KC×NC) in its share of half the last-level cache, leaving the other half
    ///   to A and C, and at most 8 MiB, the largest block measured: CPUID reports the last level of the whole socket
    ///   (508 MiB on the Zen 5 VMs, 260 MiB on the Xeon), far more than one core's share reaches. (L3 32 MiB, 2 threads:
    ///   2,048 columns; no L3: half of L2.)
    /// Every size is a whole number of its unit (MC of MR, NC of NR, KC of 8 for the 8×8 packing transposes).
    /// </summary>
    const long MaxPackedB = 8 << 20;

    public static BlockSizes Derive(int mr, int nr, CpuCaches caches, int threads)
    {
        const long floatBytes = sizeof(float);
        long kc = Math.Clamp(caches.L2 / 8 / (nr * floatBytes), 64, 1024) / 8 * 8;
        long mc = Math.Max(mr, (caches.L2 / 3 / (kc * floatBytes) - nr) / mr * mr);
        long lastLevelShare = caches.L3 > 0 ? caches.L3 / 2 / Math.Max(1, threads) : caches.L2 / 2;
        long nc = Math.Clamp(Math.Min(lastLevelShare, MaxPackedB) / (kc * floatBytes) / nr * nr, 4L * nr, 1 << 16);
        return new BlockSizes(mr, nr, (int)kc, (int)mc, (int)nc, L2: caches.L2);
    }

    /// <summary>The sizes with those named in <paramref name="text"/> (<c>kc=256,mc=144,nc=2048</c>) replaced, rounded to their units.</summary>
    /// <exception cref="EngineException">The text is not of that form.</exception>
    public static BlockSizes Override(BlockSizes derived, string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return derived;
        var sizes = derived;
        foreach (string item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] kv = item.Split('=', 2, StringSplitOptions.TrimEntries);
            if (kv.Length == 2 && kv[0].Equals("split", StringComparison.OrdinalIgnoreCase))
            {
                sizes = sizes with
                {
                    Split = kv[1].ToLowerInvariant() switch
                    {
                        "rows" => GemmSplit.Rows,
                        "columns" => GemmSplit.Columns,
                        "auto" => GemmSplit.Auto,
                        _ => throw new EngineException($"{EnvironmentVariable}: '{item}' is not split=rows, split=columns or split=auto"),
                    },
                };
                continue;
            }
            if (kv.Length != 2 || !int.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < 1 || v > 1 << 16)
                throw new EngineException($"{EnvironmentVariable}: '{item}' is not name=number (kc, mc or nc, 1..65536) or split=rows|columns|auto");
            sizes = kv[0].ToLowerInvariant() switch
            {
                "kc" => sizes with { KC = Math.Max(8, v / 8 * 8) },
                "mc" => sizes with { MC = Math.Max(sizes.MR, v / sizes.MR * sizes.MR) },
                "nc" => sizes with { NC = Math.Max(sizes.NR, v / sizes.NR * sizes.NR) },
                _ => throw new EngineException($"{EnvironmentVariable}: unknown block size '{kv[0]}' (kc, mc, nc, split)"),
            };
        }
        return sizes;
    }

    public override string ToString() =>
        $"MR {MR}, NR {NR}, KC {KC}, MC {MC}, NC {NC}" + (Split == GemmSplit.Auto ? "" : $", split by {Split.ToString().ToLowerInvariant()}");
}

/// <summary>How threads split a product's C: chosen per shape (<see cref="Auto"/>), or forced for experiments.</summary>
internal enum GemmSplit { Auto, Rows, Columns }

/// <summary>
/// How one product is computed: a pure function of its shape, the thread count and the block sizes (tested on its own).
/// Threads split the rows or the columns of C in whole tiles, never K, so each element's fma sequence is the reference's.
/// </summary>
/// <param name="Parts">How many threads take part.</param>
/// <param name="SplitColumns">Parts take column ranges of C (else row ranges).</param>
/// <param name="Narrow">The product runs on the narrow kernel (C at most one vector wide, B read in place).</param>
/// <param name="RowByRow">The product runs on the row kernel (fewer rows than MR, B read in place).</param>
internal readonly record struct GemmPlan(BlockSizes Blocks, int Parts, bool SplitColumns, bool Narrow, bool RowByRow = false)
{
    /// <summary>Products smaller than this many flops run on one thread: waking a worker costs more.</summary>
    public const long MinFlopsPerThread = 1L << 20;

    /// <summary>
    /// A few rows through prepacked weights stream the weights once and do 2 flops per float: threads split the panels
    /// when each gets at least this many bytes of them (the hand-off costs about 2 µs; Zen 5, one image: 784×512 in
    /// panels 19.3 µs on 1 thread, 10.7 on 2; 784×256 5.3 and 5.8).
    /// </summary>
    public const long MinPackedBytesPerThread = 512 << 10;

    /// <summary>
    /// Packing a float (a load, a store and the later reload) costs about as much time as this many flops at a core's FMA
    /// peak: the split's cost model weighs packing against arithmetic with it. Zen 5: packing A took 7.7 % of 32×128×784,
    /// 25,000 floats in 2.5 µs, about 20 flops each from L2; more from L3. The splits measured on 2 threads (see
    /// <see cref="ColumnSplitCostsLess"/>) choose alike for any weight from 22 to 64.
    /// </summary>
    public const long PackFlopsPerFloat = 32;

    /// <param name="ldb">B's row stride in floats (whether B can be read in place, <see cref="ReadsBInPlace"/>).</param>
    /// <param name="narrowWidth">The widest C the narrow kernel takes (0: this ISA has none).</param>
    /// <param name="packedB">B is read from prepacked panels (<see cref="PackedWeights"/>).</param>
    public static GemmPlan For(BlockSizes blocks, int m, int n, int k, bool transB, int ldb, int threads, int narrowWidth, bool packedB = false)
    {
        // C at most one vector wide (the output layer's N = 10) with B's rows contiguous: the narrow kernel reads both
        // operands in place (engine bench, 1 thread: 128x10x32 TN 9.6 → 32.6 GFLOP/s, 32x10x128 NN 11.2 → 51.7).
        bool narrow = n <= narrowWidth && !transB;
        // Fewer rows than the register tile (one image, or a few): a tile would compute MR − m rows of zeros, and B is
        // used once, so the row kernel reads B in place (one image, 784 → 128 on AVX-512: 8× less arithmetic).
        bool rowByRow = !narrow && m < blocks.MR && !transB;
        long flops = 2L * m * n * k;
        int parts = (int)Math.Clamp(flops / MinFlopsPerThread, 1, threads);
        int columnTiles = (n + blocks.NR - 1) / blocks.NR, rowTiles = (m + blocks.MR - 1) / blocks.MR;
        if (rowByRow && packedB)
        {
            // Bound by streaming the panels, not by flops: each thread takes whole panels of its own.
            parts = (int)Math.Clamp(4L * n * k / MinPackedBytesPerThread, 1, Math.Min(threads, columnTiles));
            return new GemmPlan(blocks, parts, SplitColumns: true, narrow, rowByRow);
        }
        var plan = new GemmPlan(blocks, parts, SplitColumns: false, narrow, rowByRow);
        bool splitColumns = blocks.Split switch
        {
            GemmSplit.Rows => false,
            GemmSplit.Columns => true,
            _ when rowTiles < parts || columnTiles < parts => columnTiles > rowTiles,
            _ => plan.ColumnSplitCostsLess(m, n, k, transB, ldb, packedB),
        };
        return plan with { Parts = Math.Min(parts, splitColumns ? columnTiles : rowTiles), SplitColumns = splitColumns };
    }

    /// <summary>
    /// Either split makes every thread pack one operand in full: split by rows, each thread packs all of B (unless it reads
    /// B in place); split by columns, all of A (unless it reads A in place), and each part's column boundary usually moves
    /// off the tile grid onto C's cache lines (<see cref="LineShift"/>), which costs every part one more, partial, column
    /// of tiles. Columns only when that costs less, in flops (<see cref="PackFlopsPerFloat"/>); rows on a tie, as their
    /// parts share no line of C. Zen 5, 2 threads, GFLOP/s by rows against by columns: 32x128x784 315–344 / 202–218,
    /// 128x512x784 305–382 / 322–333, 512x512x784 414 / 359–371, 2048³ 393–406 / 377–392, the weight gradient
    /// 784x128x32 TN 342–347 / 242; but 128x1024x784 253–282 / 339–358 and 256x1024x784 203–323 / 342–343, where rows
    /// would pack all of B in every thread (perf-results/2026-12-07-split).
    /// </summary>
    bool ColumnSplitCostsLess(int m, int n, int k, bool transB, int ldb, bool packedB)
    {
        int rowsPerPart = (m + Blocks.MR - 1) / Blocks.MR * Blocks.MR / Parts;
        int columnsPerPart = (n + Blocks.NR - 1) / Blocks.NR * Blocks.NR / Parts;
        long rowsExtra = packedB || ReadsBInPlace(transB, rowsPerPart, ldb, k) ? 0 : PackFlopsPerFloat * k * n;
        long columnsExtra = 2L * m * Blocks.NR * k + (ReadsAInPlace(Math.Min(columnsPerPart, Blocks.NC)) ? 0 : PackFlopsPerFloat * m * k);
        return columnsExtra < rowsExtra;
    }

    /// <summary>
    /// A product with a transposed B (the input gradient dZ·Wᵀ) and few rows is computed as Cᵀ = B·Aᵀ, written to C
    /// transposed: W's rows are then read in place (<see cref="ReadsAInPlace"/>) and only Aᵀ and the C tiles are moved
    /// transposed (m·(k + n) floats) instead of packing all of Bᵀ (n·k). Not for finishing epilogues, whose tiles must
    /// be C's own. Zen 5, 1 thread, alternating runs: 32x784x128 NT 128–134 → 152–157 GFLOP/s, 64x784x128 152–155 →
    /// 162–164, 128x784x512 173–177 → 180–187.
    /// </summary>
    public static bool TransposesC(BlockSizes blocks, int m, int n, int k, bool transA, bool transB) =>
        transB && !transA && m <= 4 * blocks.NR && (long)m * (k + n) < (long)n * k;

    /// <summary>
    /// Part <paramref name="part"/>'s rows and columns of an m×n product. Split by columns, the boundaries between parts
    /// move <paramref name="lineShift"/> columns left (see <see cref="LineShift"/>) so that no cache line of C is written
    /// by two threads; the parts then start off the tile grid, which the loops handle as edge tiles.
    /// </summary>
    public (int RowStart, int RowEnd, int ColStart, int ColEnd) PartOf(int part, int m, int n, int lineShift = 0)
    {
        if (SplitColumns)
        {
            var (c0, c1) = Range(n, Blocks.NR, part, Parts);
            if (c0 > 0 && c0 < n) c0 = Math.Max(0, c0 - lineShift);
            if (c1 > 0 && c1 < n) c1 = Math.Max(0, c1 - lineShift);
            return (0, m, c0, c1);
        }
        var (r0, r1) = Range(m, Blocks.MR, part, Parts); // the narrow kernel takes rows in groups of 8 = AVX-512's MR
        return (r0, r1, 0, n);
    }

    /// <summary>
    /// Products with few rows a part read full panels of an untransposed B in place instead of packing it (the
    /// network's forward X·W), unless B's rows are a multiple of <see cref="SetAliasingStride"/> apart:
    /// - up to two MC blocks (96 rows on a 1 MiB L2), each panel is used by a few row tiles, and packing it would be
    ///   mostly an extra copy (Zen 5, 1 thread: 64x128x784 at one block's limit 157–161 GFLOP/s, at two blocks' 191–194;
    ///   64x512x784 in place 194–198, packed 179–180, although that panel streams from L3);
    /// - up to <see cref="MaxInPlaceRowTiles"/> row tiles (256 rows on AVX-512) when the panel stays in L2 at B's row
    ///   stride (<see cref="PanelStaysInL2"/>): the row tiles then re-read it from L2, which costs less than copying it
    ///   first, above all when threads split the rows and each would pack all of B. Zen 5, engine bench, three runs
    ///   alternating with the rule before, GFLOP/s: 1 thread 128x128x784 198–203 → 213–217; 2 threads 256x128x784
    ///   348–380 → 397–415 (159–160 → 397–402 while the VM's vCPUs were far apart). Where the panel does not stay in L2
    ///   (rows 2 KiB apart on a 1 MiB L2), in place lost on 1 thread: 128x512x784 172–199 → 138–186
    ///   (perf-results/2026-12-07-limits).
    /// </summary>
    public bool ReadsBInPlace(bool transB, int partRows, int ldb, int k) =>
        !transB && (long)ldb * sizeof(float) % SetAliasingStride != 0
        && (partRows <= 2 * Blocks.MC || partRows <= MaxInPlaceRowTiles * Blocks.MR && PanelStaysInL2(ldb, Math.Min(k, Blocks.KC)));

    /// <summary>The most row tiles a part reads B in place for (<see cref="ReadsBInPlace"/>).</summary>
    public const int MaxInPlaceRowTiles = 32;

    /// <summary>
    /// Whether a B panel of <paramref name="kc"/> rows read in place, <paramref name="ldb"/> floats apart, fits in L2: rows
    /// s = ldb·4/64 lines apart put each of the panel's line columns in every 2^v-th set only (2^v the largest power of
    /// two dividing s), so it can hold L2 / 64 / 2^v of its lines whatever the associativity. Rows 2 KiB apart reach 512
    /// lines of a 1 MiB L2 (a 784-row panel does not fit) and 1,024 of a 2 MiB one (it fits); rows not a whole number of
    /// lines apart spread over every set. Unknown L2 size: false.
    /// </summary>
    public bool PanelStaysInL2(int ldb, int kc)
    {
        if (Blocks.L2 <= 0) return false;
        long strideBytes = (long)ldb * sizeof(float);
        if (strideBytes % 64 != 0) return true;
        long lines = strideBytes / 64;
        return kc <= Blocks.L2 / 64 / (lines & -lines);
    }

    /// <summary>
    /// Rows this many bytes apart (or a multiple) fall into the same sets of L1, which x86 cores index within a 4 KiB page
    /// (size / ways: 32 KiB 8-way, 48 KiB 12-way), and of L2 (1–2 MiB 16-way: a set every 64–128 KiB): a B panel read in
    /// place at such a stride has its 2·KC lines crowd a sixteenth or less of L2's sets, and is fetched from L3 again for every
    /// row tile. Zen 5, 1 thread, GFLOP/s in place against packed: 64x1024x784 117–145 / 169–181, 64x2048x784 120–123 /
    /// 176–181, but 64x1056x784 203–209 / 171–178 and 64x768x784 191–198 / 173–181.
    /// </summary>
    public const int SetAliasingStride = 4096;

    /// <summary>
    /// Few column panels (the network's N = 128) reuse a packed A block only a few times, so packing it is mostly an
    /// extra copy: the kernel broadcasts A's elements from where they are instead (<see cref="RowsAPanel"/>, or
    /// <see cref="ColumnsAPanel"/> for a transposed A). Zen 5, 1 thread, N = 128: 32x128x784 185 → 193–204 GFLOP/s
    /// (oneDNN 209–213), 1000x128x784 189 → 199–205, the weight gradient 784x128x32 TN 184–188 → 188–197.
    /// </summary>
    public bool ReadsAInPlace(int blockColumns) => blockColumns <= 4 * Blocks.NR;

    /// <summary>
    /// Few column panels (the network's N = 128) make a block's compute short next to fetching A's rows, which inference
    /// streams from DRAM: fetch ahead then (1000x128x784 in the inference pass: 95–99 → 103–105 GFLOP/s). With many
    /// panels, as in large squares, A is reused long enough for the hardware, and the extra lines in L2 cost 2–3 %.
    /// </summary>
    public bool StreamsA(bool transA, int blockColumns) => !transA && blockColumns <= 4 * Blocks.NR;

    /// <summary>
    /// How many columns the boundaries between column parts move left so that they fall on 64-byte lines of C, whose
    /// first element sits at <paramref name="c"/> with row stride <paramref name="ldc"/> floats: 0 when rows do not all
    /// share one alignment (ldc not a multiple of 16 floats) or tiles are narrower than a line. Two threads writing one
    /// line of every row (a weight step split by columns: 784 rows) pass it back and forth between their cores.
    /// </summary>
    public static unsafe int LineShift(float* c, int ldc, int nr) =>
        ldc % 16 == 0 && nr % 16 == 0 ? (int)(((nint)c >> 2) & 15) : 0;

    /// <summary>Part p of [0, total) in whole units, as even as possible.</summary>
    static (int Start, int End) Range(int total, int unit, int part, int parts)
    {
        int units = (total + unit - 1) / unit;
        int start = (int)((long)units * part / parts) * unit;
        int end = (int)((long)units * (part + 1) / parts) * unit;
        return (Math.Min(start, total), Math.Min(end, total));
    }
}
