using System.Diagnostics;
using Engine.Kernels;

namespace Engine.Training;

/// <summary>
/// Whether an epoch's steps run on all of the backend's threads or on one, chosen by timing real steps. Small batches
/// can run slower on two threads than on one: the split saves less than the hand-offs and the second core's
/// interference cost (Zen 5, 784-128-10, batch 32: 83 µs a step on 1 thread, 144 µs on 2; batch 128: 318 against 279).
/// Both ways compute the same bits (threads never split K), so the choice changes speed only. The first full-size
/// steps a trainer runs alternate between the two after a warm-up; then the faster median wins for the trainer's life.
/// </summary>
internal sealed class StepThreads
{
    const int WarmUp = 4, SamplesEach = 12;

    readonly IKernels _all, _one;
    readonly long[] _ticks = new long[2 * SamplesEach]; // even: all threads, odd: one
    int _timed, _seen;
    IKernels? _chosen;

    public StepThreads(IKernels kernels)
    {
        _all = kernels;
        _one = kernels.Parallelism > 1 ? kernels.PartKernels(0) : kernels;
        if (ReferenceEquals(_one, _all)) _chosen = _all;
    }

    /// <summary>The kernels the next step runs on.</summary>
    public IKernels Next => _chosen ?? (_seen < WarmUp || _timed % 2 == 0 ? _all : _one);

    /// <summary>The kernels chosen, or null while still timing.</summary>
    public IKernels? Chosen => _chosen;

    /// <summary>Records a step that ran on <see cref="Next"/> and took <paramref name="ticks"/> (only full-size batches count).</summary>
    public void Record(long ticks, bool fullBatch)
    {
        if (_chosen is not null || !fullBatch) return;
        if (_seen++ < WarmUp) return;
        _ticks[_timed++] = ticks;
        if (_timed < _ticks.Length) return;
        long all = Median(0), one = Median(1);
        _chosen = one < all ? _one : _all;
    }

    long Median(int side)
    {
        Span<long> values = stackalloc long[SamplesEach];
        for (int i = 0; i < SamplesEach; i++) values[i] = _ticks[2 * i + side];
        values.Sort();
        return values[SamplesEach / 2];
    }

    public static long Now => Stopwatch.GetTimestamp();
}
