namespace Engine.Kernels.Simd;

/// <summary>
/// A persistent pool with an explicit degree of parallelism: threads − 1 workers that live as long as the
/// backend. <see cref="Run"/> splits work into numbered parts that the caller and the woken workers claim one at a
/// time, so a worker the OS has not scheduled yet (a busy or descheduled vCPU) delays nothing: the caller takes its
/// parts. Which thread runs a part never matters: a part's results and scratch buffers depend on its number only.
/// No Task, no allocation per call, no nesting (a part never calls Run). Not re-entrant: one Run at a time per pool.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    /// <summary>Catches two threads using one backend at once (a misuse that would otherwise corrupt shared state).</summary>
    public readonly ExclusiveUse Busy = new("simd backend worker pool");

    readonly Thread[] _workers;
    readonly ManualResetEventSlim[] _start;
    readonly ManualResetEventSlim _done = new(false, spinCount: 2000);
    IParallelWork? _work;
    // (generation << 32) | (parts << 16) | parts claimed so far, read and claimed as one word: a worker that wakes late
    // claims with the generation it saw, so it can never take a part of a later Run, and a Run cannot end while one of
    // its parts is claimed but unfinished. The part count lives in the same word because a separate field could be
    // read from the next Run while the claim word still held this one (measured: a part of the next Run's work ran
    // twice, one in ~100,000 Runs).
    long _claims;
    int _completed;
    Exception? _failure;
    volatile bool _disposed;

    public int Threads { get; }

    public WorkerPool(int threads)
    {
        if (threads is < 1 or > 0xFFFF) throw new ArgumentOutOfRangeException(nameof(threads), threads, "1 to 65535 threads");
        Threads = threads;
        _workers = new Thread[threads - 1];
        _start = new ManualResetEventSlim[threads - 1];
        for (int w = 0; w < _workers.Length; w++)
        {
            _start[w] = new ManualResetEventSlim(false, spinCount: 2000);
            int index = w;
            _workers[w] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"engine-worker-{w + 1}" };
            _workers[w].Start();
        }
    }

    /// <summary>Runs parts 0..parts−1 (parts ≤ Threads) and returns when all are done.</summary>
    public void Run(IParallelWork work, int parts)
    {
        using var _ = Busy.Enter();
        if (parts <= 1 || _workers.Length == 0)
        {
            work.Execute(0, 1);
            return;
        }
        parts = Math.Min(parts, Threads);
        _work = work;
        _failure = null;
        _completed = 0;
        _done.Reset();
        long generation = (Volatile.Read(ref _claims) >> 32) + 1;
        Interlocked.Exchange(ref _claims, generation << 32 | (long)parts << 16); // publishes the fields above to the claimers
        for (int w = 0; w < parts - 1; w++) _start[w].Set();
        try
        {
            ClaimAndExecute(generation);
        }
        finally
        {
            // _done only wakes: the completion count decides. The previous Run's last finisher may set _done after
            // that Run already saw its count complete and returned, i.e. during this Run.
            while (Volatile.Read(ref _completed) != parts)
            {
                SpinThenWait(_done);
                _done.Reset(); // a real finisher counts before it signals: the next check sees it even if this clears its signal
            }
            _work = null;
        }
        if (_failure is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure); // as thrown, on whichever thread
    }

    /// <summary>Runs unclaimed parts of the given Run until none is left.</summary>
    void ClaimAndExecute(long generation)
    {
        while (true)
        {
            long claims = Volatile.Read(ref _claims);
            if (claims >> 32 != generation) return;            // that Run is over
            int parts = (int)(claims >> 16) & 0xFFFF, part = (int)claims & 0xFFFF;
            if (part >= parts) return;                          // all parts taken
            if (Interlocked.CompareExchange(ref _claims, claims + 1, claims) != claims) continue;
            try
            {
                _work!.Execute(part, parts);
            }
            catch (Exception e)
            {
                _failure = e;
            }
            if (Interlocked.Increment(ref _completed) == parts) _done.Set();
        }
    }

    /// <summary>
    /// Poll (yielding the CPU each time) a while before blocking: a training step calls Run several times
    /// with short gaps, and waking a blocked thread costs tens of µs on this VM. Measured on the 2-vCPU host:
    /// a pause-based spin slowed the main thread's serial work 3–4×; yielding does not, and a batch-32 step
    /// on 2 threads fell from ~162 to ~120 µs (perf-results/2026-11-25-simd).
    /// </summary>
    const int SpinIterations = 4_000;

    static void SpinThenWait(ManualResetEventSlim signal)
    {
        for (int i = 0; i < SpinIterations && !signal.IsSet; i++) Thread.Yield();
        signal.Wait();
    }

    void WorkerLoop(int index)
    {
        while (true)
        {
            SpinThenWait(_start[index]);
            _start[index].Reset();
            if (_disposed) return;
            ClaimAndExecute(Volatile.Read(ref _claims) >> 32);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var s in _start) s.Set();
        foreach (var t in _workers) t.Join();
        foreach (var s in _start) s.Dispose();
        _done.Dispose();
    }
}

/// <summary>
/// A flag that turns overlapping use of a single-threaded object into a clear exception instead of corrupted shared
/// state. One interlocked exchange per call: nothing next to a kernel call.
/// </summary>
internal sealed class ExclusiveUse(string what)
{
    int _busy;

    public Scope Enter()
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
            throw new InvalidOperationException($"the {what} is already in use on another thread: give each thread its own backend (or Classifier), or lock around the calls");
        return new Scope(this);
    }

    public readonly struct Scope(ExclusiveUse owner) : IDisposable
    {
        public void Dispose() => Volatile.Write(ref owner._busy, 0);
    }
}
