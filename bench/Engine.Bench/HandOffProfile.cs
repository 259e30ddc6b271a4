using System.Diagnostics;
using Engine.Kernels;
using Engine.Kernels.Simd;

namespace Engine.Bench;

/// <summary>
/// What handing work to the pool's worker costs on this host: each Run has two parts of fixed busy work (the caller
/// runs one, the worker the other), separated by a stretch of serial work on the caller, as a training step's small
/// kernels separate its products. Prints, per gap, how late the worker starts its part after Run begins and how much
/// longer the Run takes than one part alone.
/// Run with: dotnet run -c Release --project bench/Engine.Bench -- profile-handoff [work µs] [runs]
/// </summary>
static class HandOffProfile
{
    public static void Run(string[] args)
    {
        double workMicros = args.Length > 0 ? double.Parse(args[0]) : 50;
        int runs = args.Length > 1 ? int.Parse(args[1]) : 2000;
        using var pool = new WorkerPool(2);
        long workTicks = (long)(workMicros * 1e-6 * Stopwatch.Frequency);
        var work = new BusyParts(workTicks);
        Console.WriteLine($"2 parts of {workMicros} µs busy work each; {runs} Runs per gap; µs, medians (p90)");
        SerialSlowdown(pool, work);
        foreach (int kib in new[] { 16, 100, 400 }) Migration(pool, kib);
        Console.WriteLine($"{"serial gap µs",14} {"worker starts after",20} {"Run takes",16} {"one part alone",16} {"hand-off cost",14}");
        foreach (double gapMicros in new[] { 0.0, 5, 20, 100, 1000, 5000 })
        {
            long gapTicks = (long)(gapMicros * 1e-6 * Stopwatch.Frequency);
            var late = new double[runs];
            var total = new double[runs];
            for (int r = -runs / 10; r < runs; r++) // the first tenth warms up
            {
                Spin(gapTicks);
                long start = Stopwatch.GetTimestamp();
                work.RunStart = start;
                pool.Run(work, 2);
                long end = Stopwatch.GetTimestamp();
                if (r < 0) continue;
                late[r] = Micros(work.WorkerStart - start);
                total[r] = Micros(end - start);
            }
            double alone = workMicros;
            Console.WriteLine($"{gapMicros,14:F0} {Stats.Median(late),11:F2} ({Stats.P90(late),6:F2}) {Stats.Median(total),7:F2} ({Stats.P90(total),6:F2}) {alone,16:F2} {Stats.Median(total) - alone,14:F2}");
        }
    }

    /// <summary>The caller's serial work (sums over an L1-resident array) timed right after a Run, while the worker still polls for the next one, and long after, when it sleeps: does the polling worker slow the caller?</summary>
    static void SerialSlowdown(WorkerPool pool, BusyParts work)
    {
        var data = new float[4096];
        for (int i = 0; i < data.Length; i++) data[i] = i;
        const int reps = 2000;
        float sink = 0;
        // Half a second of both loops first: until the tiered JIT has optimised Sum, the first loop timed would run its
        // unoptimised code (measured: 45 µs against 2.6, whichever loop came first).
        for (var warm = Stopwatch.StartNew(); warm.Elapsed.TotalSeconds < 0.5;)
        {
            pool.Run(work, 2);
            sink += System.Numerics.Tensors.TensorPrimitives.Sum<float>(data);
        }
        // The serial work itself: 20 sums of the array, timed in µs.
        double TwentySums()
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int j = 0; j < 20; j++) sink += System.Numerics.Tensors.TensorPrimitives.Sum<float>(data);
            return Micros(Stopwatch.GetTimestamp() - t0);
        }
        var afterRun = new double[reps];
        var afterSolo = new double[reps];
        var quiet = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            pool.Run(work, 1);
            afterSolo[r] = TwentySums();
        }
        for (int r = 0; r < reps; r++)
        {
            pool.Run(work, 2);
            afterRun[r] = TwentySums();
        }
        Thread.Sleep(200); // the worker has long stopped polling and blocks
        for (int r = 0; r < reps; r++) quiet[r] = TwentySums();
        Console.WriteLine($"caller's serial work (20 sums of 16 KiB): {Stats.Median(afterSolo):F2} µs after a one-part Run, {Stats.Median(afterRun):F2} µs after a two-part Run (the worker polls), {Stats.Median(quiet):F2} µs when it sleeps{(sink > 0 ? "" : " ")}");
    }

    /// <summary>
    /// Reading data the other core just wrote: the caller sums a buffer after the worker wrote it (its lines move from the
    /// worker's cache) and after the caller itself wrote it, as a kernel reads what the previous parallel kernel produced.
    /// </summary>
    static void Migration(WorkerPool pool, int kib)
    {
        var buffer = new float[kib * 256];
        var writer = new Writer(buffer);
        const int reps = 400;
        var remote = new double[reps];
        var local = new double[reps];
        float sink = 0;
        for (int r = 0; r < reps; r++)
        {
            writer.Part = 1; // only the worker's part writes
            pool.Run(writer, 2);
            long t0 = Stopwatch.GetTimestamp();
            sink += System.Numerics.Tensors.TensorPrimitives.Sum<float>(buffer);
            remote[r] = Micros(Stopwatch.GetTimestamp() - t0);
            writer.Part = 0; // only the caller's part writes
            pool.Run(writer, 2);
            t0 = Stopwatch.GetTimestamp();
            sink += System.Numerics.Tensors.TensorPrimitives.Sum<float>(buffer);
            local[r] = Micros(Stopwatch.GetTimestamp() - t0);
        }
        Console.WriteLine($"reading {kib,4} KiB: {Stats.Median(remote),7:F2} µs written by the other core, {Stats.Median(local),7:F2} µs by this one ({(sink != 0 ? "" : " ")}{kib * 1024 / 64 / Math.Max(0.01, Stats.Median(remote) - Stats.Median(local)):F0} lines/µs moved)");
    }

    sealed class Writer(float[] buffer) : IParallelWork
    {
        public int Part;
        public void Execute(int part, int parts)
        {
            if (part == Part) buffer.AsSpan().Fill(part + 1);
            else if (part == 0) Spin(Stopwatch.Frequency / 50_000); // the caller waits 20 µs so that the worker, not it, claims part 1
        }
    }

    static double Micros(long ticks) => ticks * 1e6 / Stopwatch.Frequency;

    static void Spin(long ticks)
    {
        long until = Stopwatch.GetTimestamp() + ticks;
        while (Stopwatch.GetTimestamp() < until) { }
    }

    sealed class BusyParts(long ticks) : IParallelWork
    {
        public long RunStart, WorkerStart;

        public void Execute(int part, int parts)
        {
            long start = Stopwatch.GetTimestamp();
            // The part the caller does not take is the worker's (with two parts the caller claims first).
            if (part == 1) WorkerStart = start;
            while (Stopwatch.GetTimestamp() - start < ticks) { }
        }
    }
}
