using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Kernels.Simd;
using Engine.Numerics;
using static Engine.Tests.Simd.SimdTestSupport;

namespace Engine.Tests.Simd;

/// <summary>
/// The GEMM's plan on its own (block sizes from the caches, the split between threads) and the claim that makes it
/// safe to derive at run time: whatever the blocking, every element gets the reference's fma sequence, so the bits
/// never depend on the machine's caches.
/// </summary>
public class GemmPlanTests
{
    // The project's machines so far, as their CPUID reports them.
    static readonly CpuCaches Zen4 = new(32 << 10, 1 << 20, 32 << 20, "test");
    static readonly CpuCaches Zen5 = new(48 << 10, 1 << 20, 508L << 20, "test");
    static readonly CpuCaches Xeon = new(48 << 10, 2 << 20, 260L << 20, "test");
    static readonly CpuCaches Tiny = new(16 << 10, 256 << 10, 0, "test");

    public static IEnumerable<object[]> Machines() =>
        from caches in new[] { Zen4, Zen5, Xeon, Tiny }
        from tile in new[] { (8, 32), (6, 16), (6, 8), (6, 2) }
        from threads in new[] { 1, 2, 8 }
        select new object[] { caches, tile.Item1, tile.Item2, threads };

    [Theory]
    [MemberData(nameof(Machines))]
    public void Derived_block_sizes_keep_their_units_and_fit_the_caches(CpuCaches caches, int mr, int nr, int threads)
    {
        var b = BlockSizes.Derive(mr, nr, caches, threads);
        Assert.Equal((mr, nr), (b.MR, b.NR));
        Assert.True(b.KC % 8 == 0 && b.KC >= 64 && b.KC <= 1024, $"KC {b.KC}");
        Assert.True(b.MC % mr == 0 && b.MC >= mr, $"MC {b.MC}");
        Assert.True(b.NC % nr == 0 && b.NC >= 4 * nr, $"NC {b.NC}");
        Assert.True((long)b.KC * nr * 4 <= caches.L2 / 8, "the B micro-panel takes at most an eighth of L2");
        if (b.MC > mr) Assert.True((long)(b.MC + nr) * b.KC * 4 <= caches.L2 / 3, "A block and B panel fill at most a third of L2");
        if (b.NC > 4 * nr) Assert.True((long)b.KC * b.NC * 4 <= 8 << 20, "the packed B block stays within 8 MiB");
    }

    [Fact]
    public void The_zen4_host_gets_the_block_sizes_measured_there()
    {
        // perf-results/2026-11-25-simd: KC 1024, MC 48, NC 2048 measured best for AVX-512 on Zen 4 (2 threads).
        Assert.Equal(new BlockSizes(8, 32, 1024, 48, 2048, L2: 1 << 20), BlockSizes.Derive(8, 32, Zen4, 2));
        Assert.Equal(new BlockSizes(8, 32, 1024, 48, 2048, L2: 1 << 20), BlockSizes.Derive(8, 32, Zen5, 2));
        // The Xeon's 2 MiB L2 holds a taller A block.
        Assert.Equal(136, BlockSizes.Derive(8, 32, Xeon, 2).MC);
    }

    [Fact]
    public void Overrides_replace_named_sizes_rounded_to_their_units_and_reject_malformed_text()
    {
        var derived = BlockSizes.Derive(8, 32, Zen4, 1);
        Assert.Equal(derived, BlockSizes.Override(derived, null));
        Assert.Equal(derived with { KC = 256, MC = 136, NC = 96 }, BlockSizes.Override(derived, "kc=259, MC=143,nc=100"));
        Assert.Equal(derived with { KC = 256, Split = GemmSplit.Rows }, BlockSizes.Override(derived, "split=ROWS,kc=256"));
        Assert.Equal(derived, BlockSizes.Override(derived, "split=columns,split=auto"));
        foreach (string bad in new[] { "kc", "kc=", "kc=-1", "kc=0", "kc=1e3", "xc=8", "kc=99999999", "split=", "split=diagonal" })
            Assert.Throws<EngineException>(() => BlockSizes.Override(derived, bad));
    }

    [Theory]
    [InlineData(32, 128, 784, false)]          // the forward product at batch 32: nothing to pack either way
    [InlineData(128, 512, 784, false)]         // rows read B in place; columns would pack all of A twice
    [InlineData(512, 512, 784, false)]         // a tie: rows share no line of C
    [InlineData(2048, 2048, 2048, false)]
    [InlineData(784, 128, 32, false)]          // the weight gradient: a shifted boundary would cost a column of 98 tiles
    [InlineData(128, 1024, 784, true)]         // rows would pack all of B (its rows 4 KiB apart) in both threads
    [InlineData(256, 1024, 784, true)]         // rows would pack all of B in both threads: 3 MiB each
    public void Two_threads_split_the_way_that_packs_and_computes_less(int m, int n, int k, bool byColumns)
    {
        var blocks = BlockSizes.Derive(8, 32, Zen5, 2);
        var plan = GemmPlan.For(blocks, m, n, k, transB: false, ldb: n, threads: 2, narrowWidth: 16);
        Assert.Equal((2, byColumns), (plan.Parts, plan.SplitColumns));
        Assert.Equal((2, true), (GemmPlan.For(blocks with { Split = GemmSplit.Columns }, m, n, k, false, n, 2, 16).Parts, true));
        Assert.False(GemmPlan.For(blocks with { Split = GemmSplit.Rows }, m, n, k, false, n, 2, 16).SplitColumns);
    }

    [Fact]
    public void A_split_with_too_few_tiles_one_way_takes_the_other()
    {
        var blocks = BlockSizes.Derive(8, 32, Zen5, 2);
        Assert.True(GemmPlan.For(blocks, 8, 4096, 784, false, 4096, 2, 16).SplitColumns);   // one row tile
        Assert.False(GemmPlan.For(blocks, 4096, 32, 784, false, 32, 2, 16).SplitColumns);   // one column panel
    }

    [Theory]
    [InlineData(128, true, true)]     // 512 B apart: the panel spreads over 2,048 lines of L2
    [InlineData(512, true, false)]    // 2 KiB apart: in place for a few row tiles; for many, it does not stay in a 1 MiB L2
    [InlineData(768, true, true)]     // 3 KiB apart: 1,024 lines
    [InlineData(1056, true, true)]
    [InlineData(1024, false, false)]  // 4 KiB apart: every row in the same cache sets
    [InlineData(2048, false, false)]
    public void B_is_read_in_place_only_where_its_rows_do_not_share_cache_sets(int ldb, bool fewRows, bool manyRows)
    {
        var plan = GemmPlan.For(BlockSizes.Derive(8, 32, Zen5, 1), 64, ldb, 784, transB: false, ldb, 1, narrowWidth: 16);
        Assert.Equal(fewRows, plan.ReadsBInPlace(transB: false, partRows: 64, ldb, k: 784));
        Assert.False(plan.ReadsBInPlace(transB: true, partRows: 64, ldb, k: 784));
        Assert.Equal(manyRows, plan.ReadsBInPlace(transB: false, partRows: GemmPlan.MaxInPlaceRowTiles * plan.Blocks.MR, ldb, k: 784));
        Assert.False(plan.ReadsBInPlace(transB: false, partRows: GemmPlan.MaxInPlaceRowTiles * plan.Blocks.MR + 8, ldb, k: 784));
    }

    [Fact]
    public void A_panel_read_in_place_stays_in_L2_when_its_row_stride_reaches_enough_sets()
    {
        GemmPlan On(CpuCaches caches) => GemmPlan.For(BlockSizes.Derive(8, 32, caches, 1), 256, 512, 784, false, 512, 1, 16);
        Assert.False(On(Zen5).PanelStaysInL2(ldb: 512, kc: 784));  // 2 KiB apart: 512 lines of a 1 MiB L2
        Assert.True(On(Zen5).PanelStaysInL2(ldb: 512, kc: 512));
        Assert.True(On(Xeon).PanelStaysInL2(ldb: 512, kc: 784));   // 1,024 lines of a 2 MiB L2
        Assert.True(On(Zen5).PanelStaysInL2(ldb: 768, kc: 784));   // 3 KiB apart: every 16th set, 1,024 lines
        Assert.True(On(Zen5).PanelStaysInL2(ldb: 100, kc: 1024));  // 400 B apart: not whole lines, every set
        Assert.False(On(Zen5).PanelStaysInL2(ldb: 1024, kc: 784)); // 4 KiB apart: 256 lines
        var unknown = GemmPlan.For(new BlockSizes(8, 32, 1024, 48, 2048), 256, 512, 784, false, 512, 1, 16);
        Assert.False(unknown.PanelStaysInL2(ldb: 128, kc: 784));
    }

    [Fact]
    public void Cache_sizes_from_the_environment_parse_units_and_reject_malformed_text()
    {
        Assert.Null(CpuCaches.FromEnvironment(" "));
        var c = CpuCaches.FromEnvironment("l1d=48K, l2=2M,l3=33554432")!;
        Assert.Equal((48L << 10, 2L << 20, 32L << 20, "environment"), (c.L1Data, c.L2, c.L3, c.Source));
        foreach (string bad in new[] { "l2", "l2=", "l2=0", "l2=-1M", "l2=2G", "l4=1M", "l2=1.5M", "l2=99999999999M" })
            Assert.Throws<EngineException>(() => CpuCaches.FromEnvironment(bad));
    }

    [Fact]
    public void This_machines_caches_are_plausible()
    {
        var c = CpuCaches.Current;
        Assert.InRange(c.L1Data, 4 << 10, 4 << 20);
        Assert.InRange(c.L2, c.L1Data, 1L << 32);
    }

    public static IEnumerable<object[]> Shapes() =>
        from shape in new[] { (1, 1, 1), (1, 512, 784), (3, 128, 784), (32, 128, 784), (784, 128, 32), (32, 784, 128), (128, 10, 32), (2048, 2048, 2048), (7, 4133, 9), (300, 5, 600) }
        from threads in new[] { 1, 2, 3, 8 }
        from transB in new[] { false, true }
        select new object[] { shape.Item1, shape.Item2, shape.Item3, threads, transB };

    [Theory]
    [InlineData(1, 512, 784, 2, 2)]   // 1.6 MB of panels: each thread streams its half
    [InlineData(1, 256, 784, 2, 1)]   // 0.8 MB: one thread, the hand-off would cost what the split saves
    [InlineData(3, 1024, 784, 2, 2)]
    [InlineData(1, 4096, 784, 3, 3)]
    [InlineData(1, 40, 65536, 3, 2)]  // 10 MB, but only two panels: two parts
    public void Rows_through_packed_weights_split_their_panels_by_bytes(int m, int n, int k, int threads, int parts)
    {
        var blocks = BlockSizes.Derive(8, 32, Zen4, threads);
        var plan = GemmPlan.For(blocks, m, n, k, transB: false, ldb: n, threads, narrowWidth: 16, packedB: true);
        Assert.True(plan.RowByRow);
        Assert.Equal(parts, plan.Parts);
        Assert.True(plan.SplitColumns);
        for (int p = 0; p < plan.Parts; p++) Assert.Equal(0, plan.PartOf(p, m, n).ColStart % blocks.NR); // whole panels
    }

    [Fact]
    public void A_is_read_in_place_only_across_few_column_panels()
    {
        var plan = GemmPlan.For(BlockSizes.Derive(8, 32, Zen5, 1), 32, 128, 784, transB: false, ldb: 128, 1, narrowWidth: 16);
        Assert.True(plan.ReadsAInPlace(blockColumns: 128));  // the products of 784-128-10
        Assert.False(plan.ReadsAInPlace(blockColumns: 160)); // five panels reuse a pack enough
    }

    [Theory]
    [InlineData(32, 784, 128, false, true, true)]    // the input gradient dZ·Wᵀ from batch 32: Cᵀ = W·dZᵀ
    [InlineData(128, 784, 512, false, true, true)]
    [InlineData(32, 128, 10, false, true, false)]    // K = 10: transposing C would move more than packing Bᵀ
    [InlineData(256, 784, 512, false, true, false)]  // too many rows to read W in place
    [InlineData(32, 784, 128, false, false, false)]  // B not transposed
    [InlineData(32, 784, 128, true, true, false)]    // a transposed A would become a transposed B
    public void C_is_computed_transposed_only_where_that_moves_less(int m, int n, int k, bool transA, bool transB, bool expected) =>
        Assert.Equal(expected, GemmPlan.TransposesC(BlockSizes.Derive(8, 32, Zen5, 1), m, n, k, transA, transB));

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Parts_cover_C_once_in_whole_tiles(int m, int n, int k, int threads, bool transB)
    {
        var blocks = BlockSizes.Derive(8, 32, Zen4, threads);
        var plan = GemmPlan.For(blocks, m, n, k, transB, ldb: transB ? k : n, threads, narrowWidth: 16);
        Assert.InRange(plan.Parts, 1, threads);
        if (2L * m * n * k < GemmPlan.MinFlopsPerThread) Assert.Equal(1, plan.Parts);
        if (plan.Narrow) Assert.True(n <= 16 && !transB);
        var covered = new int[m, n];
        for (int p = 0; p < plan.Parts; p++)
        {
            var (r0, r1, c0, c1) = plan.PartOf(p, m, n);
            if (r0 < r1 && c0 < c1)
            {
                Assert.True(plan.SplitColumns ? c0 % blocks.NR == 0 : r0 % blocks.MR == 0, "parts start on a tile edge");
                for (int i = r0; i < r1; i++) for (int j = c0; j < c1; j++) covered[i, j]++;
            }
        }
        foreach (int count in covered) Assert.Equal(1, count);
    }

    /// <summary>Block sizes far from any machine's: every loop runs many blocks and every edge case of the packing.</summary>
    public static IEnumerable<object[]> Blockings() =>
        from isa in SupportedIsas
        from sizes in new[] { (8, 1, 1, "auto"), (24, 3, 5, "rows"), (64, 7, 2, "columns"), (1024, 1000, 1000, "auto"), (1024, 1000, 1000, "columns") }
        from threads in new[] { 1, 3 }
        select new object[] { isa, sizes.Item1, sizes.Item2, sizes.Item3, sizes.Item4, threads };

    [Theory]
    [MemberData(nameof(Blockings))]
    public void Any_blocking_gives_the_reference_bits(InstructionSet isa, int kc, int mcTiles, int ncTiles, string split, int threads)
    {
        var derived = BlockSizes.For(isa, CpuCaches.Current, threads);
        var blocks = BlockSizes.Override(derived, $"split={split}") with { KC = kc, MC = mcTiles * derived.MR, NC = ncTiles * derived.NR };
        using var simd = new SimdKernels(isa, threads, blocks);
        var rng = new SplitMix64((ulong)(kc * 131 + mcTiles * 17 + ncTiles + threads * 7));
        foreach (var (m, n, k) in new[] { (1, 1, 1), (13, 37, 29), (61, 127, 200), (32, 128, 100), (100, 10, 33), (9, 70, 0), (3, 600, 784) })
        foreach (var ta in new[] { Transpose.No, Transpose.Yes })
        foreach (var tb in new[] { Transpose.No, Transpose.Yes })
        foreach (bool accumulate in new[] { false, true })
        {
            var a = SimdGemmEqualityTests.Operand(ref rng, ta, m, k, pad: 3);
            var b = SimdGemmEqualityTests.Operand(ref rng, tb, k, n, pad: 2);
            var c0 = SimdGemmEqualityTests.InitialC(ref rng, m, n, pad: 1, accumulate);
            var expected = c0.Clone();
            var got = c0.Clone();
            ReferenceKernels.Instance.Gemm(ta, tb, a.ReadOnly, b.ReadOnly, expected.View, accumulate);
            simd.Gemm(ta, tb, a.ReadOnly, b.ReadOnly, got.View, accumulate);
            string? diff = GuardedMatrix.FirstDifference(got, expected, anyNaN: false);
            Assert.True(diff is null, $"{blocks} {ta}/{tb} {m}x{n}x{k} accumulate={accumulate}: {diff}");

            var wExpected = c0.Clone();
            var wGot = c0.Clone();
            ReferenceKernels.Instance.GemmSgdUpdate(ta, tb, a.ReadOnly, b.ReadOnly, wExpected.View, 0.05f, 1e-3f);
            simd.GemmSgdUpdate(ta, tb, a.ReadOnly, b.ReadOnly, wGot.View, 0.05f, 1e-3f);
            diff = GuardedMatrix.FirstDifference(wGot, wExpected, anyNaN: true);
            Assert.True(diff is null, $"SGD step {blocks} {ta}/{tb} {m}x{n}x{k}: {diff}");
        }
    }
}
