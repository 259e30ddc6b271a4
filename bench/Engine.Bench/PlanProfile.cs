using System.Diagnostics;
using Engine.Kernels;
using Engine.Kernels.Simd;
using Engine.Numerics;

namespace Engine.Bench;

/// <summary>
/// Several GEMM plans (block sizes and splits, in <c>ENGINE_GEMM_BLOCKS</c>'s syntax) on one product, alternating
/// inside one process over the same operands: on the 2-vCPU VMs a figure moves by 20–40 % between processes (where
/// the vCPUs and the pages land), far more than most plan changes, so separate processes cannot rank plans. Prints
/// each plan's median GFLOP/s and, per plan, the median over rounds of its ratio to the first plan in the same round.
/// Run with: dotnet run -c Release --project bench/Engine.Bench -- profile-plans SHAPE THREADS ROUNDS PLAN [PLAN…]
/// (SHAPE as in engine bench, e.g. 128x512x784, 784x128x32TN or 784x128x32T; PLAN e.g. auto, split=rows, mc=96,kc=392).
/// Every plan runs on one worker pool (<see cref="PlanRounds"/>); on 2 threads, list the first plan twice as a control.
/// </summary>
static class PlanProfile
{
    public static void Run(string[] args)
    {
        if (args.Length < 4)
        {
            Console.Error.WriteLine("usage: profile-plans SHAPE THREADS ROUNDS PLAN [PLAN...]");
            return;
        }
        var (m, n, k, ta, tb) = ParseShape(args[0]);
        int threads = int.Parse(args[1]), rounds = int.Parse(args[2]);
        // --aligned: the operands start on 64-byte lines (else where the allocator puts them, as a caller's arrays would).
        bool aligned = args[3] == "--aligned";
        string[] plans = args[(aligned ? 4 : 3)..];
        var isa = InstructionSets.Best;
        var derived = BlockSizes.For(isa, CpuCaches.Current, threads);
        using var pool = new WorkerPool(threads);
        var backends = PlanRounds.Gemms(pool, isa, derived, plans);
        var random = new Random(7);
        int? past = aligned ? 0 : null;
        Memory<float> a = LineSlices.Allocate(m * k, past), b = LineSlices.Allocate(k * n, past), c = LineSlices.Allocate(m * n, past);
        for (int i = 0; i < a.Length; i++) a.Span[i] = random.NextSingle() - 0.5f;
        for (int i = 0; i < b.Length; i++) b.Span[i] = random.NextSingle() - 0.5f;
        double flops = 2.0 * m * n * k;

        void Once(int p) => backends[p].Multiply(ta, tb,
            ta == Transpose.No ? new ReadOnlyMatrixView(a.Span, m, k) : new ReadOnlyMatrixView(a.Span, k, m),
            tb == Transpose.No ? new ReadOnlyMatrixView(b.Span, k, n) : new ReadOnlyMatrixView(b.Span, n, k),
            new MatrixView(c.Span, m, n), new StoreProduct());
        PlanRounds.WarmUp(plans.Length, Once);
        long single = Stopwatch.GetTimestamp();
        Once(0);
        int reps = (int)Math.Clamp(0.03 * Stopwatch.Frequency / Math.Max(1, Stopwatch.GetTimestamp() - single), 3, 100_000);
        var gflops = PlanRounds.Measure(plans.Length, rounds, reps, Once).Select(run => run.Select(s => flops / s / 1e9).ToArray()).ToArray();

        Console.WriteLine($"{args[0]} on {threads} thread(s), {rounds} rounds of {reps} products per plan; derived blocks {derived}; " +
                          $"A, B, C start {LineSlices.BytesPastLine(a)}, {LineSlices.BytesPastLine(b)}, {LineSlices.BytesPastLine(c)} bytes past a 64-byte line");
        Console.WriteLine($"{"plan",-32} {"median GFLOP/s",15} {"range",15} {"vs first, median",17}");
        for (int p = 0; p < plans.Length; p++)
        {
            var ratios = Enumerable.Range(0, rounds).Select(r => gflops[p][r] / gflops[0][r]).ToArray();
            Console.WriteLine($"{plans[p],-32} {Stats.Median(gflops[p]),15:F1} {$"{gflops[p].Min():F0}–{gflops[p].Max():F0}",15} {Stats.Median(ratios),17:F3}");
        }
    }

    static (int M, int N, int K, Transpose A, Transpose B) ParseShape(string text)
    {
        string t = text.ToUpperInvariant(), op = "NN";
        if (char.IsLetter(t[^1]) && char.IsLetter(t[^2])) (t, op) = (t[..^2], t[^2..]);
        else if (char.IsLetter(t[^1])) (t, op) = (t[..^1], "TN"); // the CLI's one-letter form: 784x128x32T = TN
        string[] dims = t.Split('X');
        return (int.Parse(dims[0]), int.Parse(dims[1]), int.Parse(dims[2]),
                op[0] == 'T' ? Transpose.Yes : Transpose.No, op[1] == 'T' ? Transpose.Yes : Transpose.No);
    }
}
