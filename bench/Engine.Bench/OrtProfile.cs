using System.Diagnostics;

namespace Engine.Bench;

/// <summary>
/// The engine and ONNX Runtime on <see cref="InferenceBenchmarks"/>' workload (same model, rows, threads and calls),
/// alternating inside one process: BenchmarkDotNet runs each in its own process, and on the 2-vCPU VMs processes differ
/// by 20–40 % (where the vCPUs and pages land), enough to flip a ratio near 1. Prints each side's median time per
/// 10,000 images and the median over rounds of the engine's time over ONNX Runtime's in the same round.
/// Run with: dotnet run -c Release --project bench/Engine.Bench -- profile-ort THREADS BATCH ROUNDS [HIDDEN]
/// </summary>
static class OrtProfile
{
    public static void Run(string[] args)
    {
        int threads = args.Length > 0 ? int.Parse(args[0]) : 1;
        int batch = args.Length > 1 ? int.Parse(args[1]) : 32;
        int rounds = args.Length > 2 ? int.Parse(args[2]) : 21;
        string hidden = args.Length > 3 ? args[3] : "128";
        var bench = new InferenceBenchmarks { Threads = threads, Batch = batch, Hidden = hidden };
        bench.Setup(); // checks the probabilities agree to 1e-5 first
        try
        {
            // Two seconds of both first: the tiered JIT, ONNX Runtime's arenas, page faults.
            for (var warm = Stopwatch.StartNew(); warm.Elapsed.TotalSeconds < 2;) { bench.Engine(); bench.OnnxRuntime(); }
            var engine = new double[rounds];
            var ort = new double[rounds];
            for (int r = 0; r < rounds; r++)
            {
                // Alternate which goes first, so neither always runs on the caches the other left.
                if (r % 2 == 0) { engine[r] = Time(bench.Engine); ort[r] = Time(bench.OnnxRuntime); }
                else { ort[r] = Time(bench.OnnxRuntime); engine[r] = Time(bench.Engine); }
            }
            var ratios = Enumerable.Range(0, rounds).Select(r => engine[r] / ort[r]).ToArray();
            Console.WriteLine($"784-{hidden.Replace(',', '-')}-10, batch {batch}, {threads} thread(s), {rounds} alternating rounds; ms per 10,000 images, medians (range)");
            Console.WriteLine($"engine       {Stats.Median(engine),8:F2} ({engine.Min():F2}–{engine.Max():F2})");
            Console.WriteLine($"ONNX Runtime {Stats.Median(ort),8:F2} ({ort.Min():F2}–{ort.Max():F2})");
            Console.WriteLine($"engine / ONNX Runtime, same round: median {Stats.Median(ratios):F3} ({ratios.Min():F3}–{ratios.Max():F3})");
        }
        finally
        {
            bench.Cleanup();
        }
    }

    static double Time(Func<float> pass)
    {
        // Both keep polling for work a while after a call (the engine's worker yields for ~4,000 polls, ONNX Runtime's
        // pool spins): on 2 vCPUs the other side's poller would take the second core. Let it go quiet first.
        Thread.Sleep(50);
        long t0 = Stopwatch.GetTimestamp();
        pass();
        return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }
}
