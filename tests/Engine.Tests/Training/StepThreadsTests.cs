using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Kernels.Simd;
using Engine.Training;

namespace Engine.Tests.Training;

/// <summary>
/// The choice between all threads and one for an epoch's steps: made from the medians of steps timed in runs on each way
/// after a warm-up (the first step of a run not timed), partial batches not counted, tried again at growing intervals, and
/// never offered where there is only one way (the reference, one thread).
/// </summary>
public class StepThreadsTests
{
    /// <summary>Feeds steps timed by <paramref name="ticks"/> (all threads, one thread) until the choice is made.</summary>
    static (IKernels Chosen, int Steps) Run(StepThreads threads, IKernels all, Func<bool, long> ticks)
    {
        int steps = 0;
        while (threads.Chosen is null && steps < 1000)
        {
            IKernels next = threads.Next;
            threads.Record(ticks(ReferenceEquals(next, all)), fullBatch: true);
            steps++;
        }
        return (threads.Chosen!, steps);
    }

    [Theory]
    [InlineData(100, 60, false)]
    [InlineData(60, 100, true)]
    public void The_faster_median_wins(long allTicks, long oneTicks, bool expectAll)
    {
        using var simd = new SimdKernels(InstructionSets.Best, 2);
        var threads = new StepThreads(simd);
        var (chosen, steps) = Run(threads, simd, onAll => onAll ? allTicks : oneTicks);
        Assert.Equal(expectAll, ReferenceEquals(chosen, simd));
        Assert.Equal(expectAll ? simd : simd.PartKernels(0), chosen);
        Assert.Equal(4 + 32, steps);
    }

    [Fact]
    public void Outliers_do_not_decide_and_partial_batches_do_not_count()
    {
        using var simd = new SimdKernels(InstructionSets.Best, 2);
        var threads = new StepThreads(simd);
        int call = 0;
        // All threads are faster except for three huge outliers (a page fault, a descheduled vCPU): the median ignores them.
        threads.Record(1, fullBatch: false);
        var (chosen, _) = Run(threads, simd, onAll => onAll ? (++call % 5 == 0 ? 10_000 : 50) : 80);
        Assert.Same(simd, chosen);
    }

    [Fact]
    public void Later_trials_follow_a_change_of_speed()
    {
        using var simd = new SimdKernels(InstructionSets.Best, 2);
        var threads = new StepThreads(simd);
        // As when the first trial ran on not yet optimised code: one thread looked faster, all threads really are.
        var (first, steps) = Run(threads, simd, onAll => onAll ? 100 : 60);
        Assert.Same(simd.PartKernels(0), first);
        Assert.Equal(4 + 32, steps);
        int untilSwitch = 0;
        while (ReferenceEquals(threads.Chosen, first) && untilSwitch < 1000)
        {
            threads.Record(ReferenceEquals(threads.Next, simd) ? 40 : 80, fullBatch: true);
            untilSwitch++;
        }
        Assert.Same(simd, threads.Chosen);
        Assert.Equal(64 + 32, untilSwitch); // the chosen way for the first interval, then a trial without a warm-up
        // The chosen way holds for the next, doubled interval: no step in it runs the other way.
        for (int s = 0; s < 128; s++)
        {
            Assert.Same(simd, threads.Next);
            threads.Record(40, fullBatch: true);
        }
        // The next trial has begun: a run of steps on all threads, then one on one thread.
        for (int s = 0; s < StepThreads.RunLength; s++)
        {
            Assert.Same(simd, threads.Next);
            threads.Record(40, fullBatch: true);
        }
        Assert.Same(simd.PartKernels(0), threads.Next);
    }

    [Fact]
    public void The_first_step_after_the_other_way_is_not_timed()
    {
        using var simd = new SimdKernels(InstructionSets.Best, 2);
        var threads = new StepThreads(simd);
        // One thread is faster in a steady run, but its first step after a step on all threads first fetches the weights
        // half of which the other core wrote: timed, that step would make all threads look faster.
        bool lastOnAll = true;
        var (chosen, _) = Run(threads, simd, onAll =>
        {
            long ticks = onAll ? 80 : lastOnAll ? 160 : 60;
            lastOnAll = onAll;
            return ticks;
        });
        Assert.Same(simd.PartKernels(0), chosen);
    }

    [Fact]
    public void One_way_only_is_chosen_at_once()
    {
        Assert.Same(ReferenceKernels.Instance, new StepThreads(ReferenceKernels.Instance).Chosen);
        using var simd = new SimdKernels(InstructionSets.Best, 1);
        Assert.Same(simd, new StepThreads(simd).Chosen);
    }
}
