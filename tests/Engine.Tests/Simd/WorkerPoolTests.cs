using Engine.Kernels;
using Engine.Kernels.Simd;

namespace Engine.Tests.Simd;

/// <summary>The worker pool runs every part of every Run exactly once, whichever thread claims it.</summary>
public class WorkerPoolTests
{
    sealed class Recorder : IParallelWork
    {
        public int[] Counts = new int[8];
        public int Parts;
        public int Wrong;

        public void Execute(int part, int parts)
        {
            if (parts != Parts) Interlocked.Increment(ref Wrong);
            Interlocked.Increment(ref Counts[part]);
            if (part % 2 == 1) Thread.SpinWait(50 * part); // uneven parts: some Runs end while a worker is still waking
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Every_part_of_every_run_executes_exactly_once(int threads)
    {
        // 300,000 Runs (about a second): the two races fixed in the pool showed up about once in 20,000–100,000.
        using var pool = new WorkerPool(threads);
        var rng = new Random(threads);
        int run = 0;
        var runs = Task.Run(() =>
        {
            for (; run < 300_000; run++)
            {
                int parts = 1 + rng.Next(threads);
                var work = new Recorder { Parts = parts == 1 ? 1 : parts };
                pool.Run(work, parts);
                Assert.Equal(0, work.Wrong);
                for (int p = 0; p < 8; p++)
                    Assert.True(work.Counts[p] == (p < Math.Max(1, parts) ? 1 : 0), $"run {run}, {parts} parts: part {p} ran {work.Counts[p]} times");
            }
        });
        // A miscounted completion hangs a Run: fail instead of hanging the test run.
        var finished = await Task.WhenAny(runs, Task.Delay(TimeSpan.FromMinutes(3)));
        Assert.True(finished == runs, $"run {Volatile.Read(ref run)} never returned");
        await runs; // its assertion failures
    }

    sealed class Failing(int failingPart) : IParallelWork
    {
        public void Execute(int part, int parts)
        {
            if (part == failingPart) throw new InvalidOperationException($"part {part} failed");
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void A_failing_part_rethrows_its_own_exception_and_the_pool_stays_usable(int failingPart)
    {
        using var pool = new WorkerPool(2);
        var e = Assert.Throws<InvalidOperationException>(() => pool.Run(new Failing(failingPart), 2));
        Assert.Equal($"part {failingPart} failed", e.Message);
        var work = new Recorder { Parts = 2 };
        pool.Run(work, 2);
        Assert.Equal([1, 1], work.Counts[..2]);
    }
}
