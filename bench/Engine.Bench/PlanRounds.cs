using System.Diagnostics;
using Engine.Kernels;
using Engine.Kernels.Simd;

namespace Engine.Bench;

/// <summary>
/// What the in-process plan tools (profile-plans, profile-alignment) share: one GEMM per plan on a single worker pool, and
/// rounds that run every variant in rotating order. With a pool per plan the OS placed each pool's worker on its own, and
/// a plan whose worker shared the caller's vCPU ran at 1-thread speed (identical plans differed by up to 1.8× on 2 threads).
/// </summary>
static class PlanRounds
{
    /// <summary>One GEMM per plan in <c>ENGINE_GEMM_BLOCKS</c>'s syntax (<c>auto</c>: the derived sizes), all on <paramref name="pool"/>.</summary>
    public static PackedGemm[] Gemms(WorkerPool pool, InstructionSet isa, BlockSizes derived, IEnumerable<string> plans) =>
        plans.Select(p => new PackedGemm(isa, pool, BlockSizes.Override(derived, p == "auto" ? null : p))).ToArray();

    /// <summary>Every variant for half a second in turn: the tiered JIT, packing buffers, page faults.</summary>
    public static void WarmUp(int variants, Action<int> once)
    {
        for (int v = 0; v < variants; v++)
            for (var warm = Stopwatch.StartNew(); warm.Elapsed.TotalSeconds < 0.5;) once(v);
    }

    /// <summary>
    /// <paramref name="rounds"/> rounds of every variant, <paramref name="repetitions"/> calls each, in an order that rotates
    /// so no variant always follows the same one, each after a pause in which the last one's worker stops polling.
    /// Returns the seconds per call, [variant][round].
    /// </summary>
    public static double[][] Measure(int variants, int rounds, int repetitions, Action<int> once)
    {
        var seconds = new double[variants][];
        for (int v = 0; v < variants; v++) seconds[v] = new double[rounds];
        for (int r = 0; r < rounds; r++)
            for (int i = 0; i < variants; i++)
            {
                int v = (i + r) % variants;
                Thread.Sleep(20);
                long t0 = Stopwatch.GetTimestamp();
                for (int rep = 0; rep < repetitions; rep++) once(v);
                seconds[v][r] = Stopwatch.GetElapsedTime(t0).TotalSeconds / repetitions;
            }
        return seconds;
    }
}
