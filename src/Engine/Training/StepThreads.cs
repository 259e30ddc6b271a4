using System.Diagnostics;
using Engine.Kernels;

namespace Engine.Training;

/// <summary>
/// Whether a trainer's steps run on all of the backend's threads or on one, chosen by timing real steps. Small batches
/// can run slower on two threads than on one: the split saves less than the second core's cost, which on the 2-vCPU
/// hosts is mostly operands moving between the cores' caches, not the hand-off (about 2 µs a Run: perf-results/
/// 2026-12-07-threads). Both ways compute the same bits (threads never split K), so the choice changes speed only.
/// Trials run full-size steps in runs of <see cref="RunLength"/> on each way in turn, and time all but the first step of
/// each run: that step pays for moving the weights from where the other way left them, which a steady run on its way
/// never does (timing alternating single steps charged it to every one-thread sample, and kept 2 threads at batch 32
/// while their epochs took 168–211 ms against 164 on one: perf-results/2026-12-07-limits). The faster median wins until
/// the next trial. Trials repeat at growing intervals (64, 128, … up to 4,096 steps): the first ones run while the tiered
/// JIT is still compiling the step's methods (a choice made on that code alone was measured wrong: 2 threads 35 % slower
/// than 1 at batch 32), and the machine's load can change under a long run. A trial costs at most 16 steps on the
/// slower way.
/// </summary>
internal sealed class StepThreads
{
    const int WarmUp = 4, SamplesEach = 12, FirstInterval = 64, LongestInterval = 4096;

    /// <summary>Steps a trial runs on one way before it turns to the other; the first of each is not timed.</summary>
    public const int RunLength = 4;

    readonly IKernels _all, _one;
    readonly long[] _ticks = new long[2 * SamplesEach]; // [0, SamplesEach): all threads; the rest: one
    int _warmUp = WarmUp, _position, _timedAll, _timedOne, _interval = FirstInterval, _untilTrial;
    IKernels? _chosen;
    bool _trial = true;

    public StepThreads(IKernels kernels)
    {
        _all = kernels;
        _one = kernels.Parallelism > 1 ? kernels.PartKernels(0) : kernels;
        if (ReferenceEquals(_one, _all)) { _chosen = _all; _trial = false; _untilTrial = int.MaxValue; }
    }

    /// <summary>The kernels the next step runs on.</summary>
    public IKernels Next => !_trial ? _chosen! : _warmUp > 0 || OnAll ? _all : _one;

    bool OnAll => _position / RunLength % 2 == 0;

    /// <summary>The kernels chosen by the last trial, or null before the first has ended.</summary>
    public IKernels? Chosen => _chosen;

    /// <summary>Records a step that ran on <see cref="Next"/> and took <paramref name="ticks"/> (only full-size batches count).</summary>
    public void Record(long ticks, bool fullBatch)
    {
        if (!fullBatch) return;
        if (!_trial)
        {
            if (--_untilTrial <= 0) (_trial, _position, _timedAll, _timedOne) = (true, 0, 0, 0);
            return;
        }
        if (_warmUp > 0) { _warmUp--; return; }
        if (_position % RunLength != 0)
        {
            if (OnAll) _ticks[_timedAll++] = ticks;
            else _ticks[SamplesEach + _timedOne++] = ticks;
        }
        _position++;
        if (_timedAll < SamplesEach || _timedOne < SamplesEach) return;
        _chosen = Median(1) < Median(0) ? _one : _all;
        _trial = false;
        _untilTrial = _interval;
        _interval = Math.Min(2 * _interval, LongestInterval);
    }

    long Median(int side)
    {
        Span<long> values = stackalloc long[SamplesEach];
        _ticks.AsSpan(side * SamplesEach, SamplesEach).CopyTo(values);
        values.Sort();
        return values[SamplesEach / 2];
    }

    public static long Now => Stopwatch.GetTimestamp();
}
