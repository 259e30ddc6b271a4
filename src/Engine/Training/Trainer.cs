using System.Diagnostics;
using Engine.Data;
using Engine.Evaluation;
using Engine.Kernels;
using Engine.Nn;
using Engine.Numerics;

namespace Engine.Training;

/// <summary>
/// Mini-batch gradient descent. An epoch visits every training example once: in file order with shuffling
/// off, else in a Fisher–Yates permutation drawn from SplitMix64.ForStream(seed, Shuffle, epoch). The last
/// batch may be smaller and is averaged over its own size; nothing is dropped.
/// </summary>
internal sealed class Trainer
{
    readonly Network _network;
    readonly IKernels _kernels;
    readonly StepThreads _threads;   // all threads or one for the epochs' steps, timed on the first steps
    readonly TrainingOptions _options;
    public TrainingOptions Options => _options;
    readonly Workspace _workspace;
    readonly float[] _batchInput;   // (B, inputWidth): gathered rows of a shuffled batch
    readonly int[] _batchLabels;    // (B)
    readonly BatchGather _gather;
    readonly OptimizerState _optimizer;
    float _learningRate;            // this epoch's rate, from the schedule

    public Trainer(Network network, IKernels kernels, TrainingOptions options) : this(network, kernels, options, null) { }

    /// <summary>A trainer that continues <paramref name="optimizerState"/> (same optimizer, same network) instead of starting one.</summary>
    public Trainer(Network network, IKernels kernels, TrainingOptions options, OptimizerState? optimizerState)
    {
        options.Validate();
        _network = network;
        _kernels = kernels;
        _threads = new StepThreads(kernels);
        _options = options;
        _workspace = new Workspace(network, options.BatchSize);
        _batchInput = new float[checked(options.BatchSize * network.InputWidth)];
        _batchLabels = new int[options.BatchSize];
        _gather = new BatchGather(_batchInput, _batchLabels);
        _optimizer = optimizerState ?? new OptimizerState(options.Optimizer, network.Parameters.Length);
        if (_optimizer.Optimizer != options.Optimizer) throw new ArgumentException("the optimizer state belongs to another optimizer", nameof(optimizerState));
        _learningRate = options.LearningRate;
    }

    /// <summary>Trains for all epochs; <paramref name="onEpoch"/> sees each epoch's report as it ends.</summary>
    public List<EpochReport> Train(Dataset train, Dataset? test, Action<EpochReport>? onEpoch = null) =>
        Train(train, test, onEpoch, RunControl.Plain);

    /// <summary>
    /// Trains from <paramref name="control"/>'s cursor (and optimizer state) up to <see cref="TrainingOptions.Epochs"/>,
    /// writing checkpoints as it asks. Cancellation is checked after every step: the step finishes, a checkpoint is
    /// written (when there is a checkpointer), and <see cref="TrainingInterruptedException"/> says where. A non-finite
    /// loss or weight stops training with an <see cref="EngineException"/> before any checkpoint is written from the
    /// diverged weights. With early stopping, training ends once the evaluation loss has not improved for the patience,
    /// and the network is left with the best epoch's weights.
    /// </summary>
    internal List<EpochReport> Train(Dataset train, Dataset? test, Action<EpochReport>? onEpoch, RunControl control)
    {
        _network.CheckLabelled(train);
        if (test is not null) _network.CheckLabelled(test);
        int patience = _options.EarlyStoppingPatience;
        if (patience > 0 && test is null) throw new EngineException("early stopping needs an evaluation set to watch (a test set or a validation split)");
        var reports = new List<EpochReport>(control.Reports);
        if (control.Optimizer is { } saved) _optimizer.Restore(saved.First, saved.Second, saved.Steps);
        BestWeights? best = patience > 0 ? control.Best ?? new BestWeights(0, double.PositiveInfinity, []) : null;
        TrainingCursor from = control.From;
        int stepsPerEpoch = (train.Count + _options.BatchSize - 1) / _options.BatchSize;
        for (int epoch = from.Epoch; epoch <= _options.Epochs && !(best is not null && epoch - 1 - best.Epoch >= patience); epoch++)
        {
            _learningRate = _options.Schedule.RateAt(epoch, _options.Epochs, _options.LearningRate);
            var start = epoch == from.Epoch ? from : TrainingCursor.EpochStart(epoch);
            var (done, seconds) = RunEpoch(train, start, (here, elapsed) =>
            {
                if (!double.IsFinite(here.LossSum)) throw Diverged(epoch, here.Step, here.LossSum);
                int samples = Math.Min(here.Step * _options.BatchSize, train.Count);
                control.OnProgress?.Invoke(new TrainingProgress(epoch, _options.Epochs, here.Step, stepsPerEpoch, samples, here.LossSum / samples, elapsed));
                if (control.Cancellation.IsCancellationRequested)
                    throw new TrainingInterruptedException(control.Checkpointer?.Save(State(here, reports, best)), epoch, here.Step);
                if (control.Checkpointer is { EverySteps: > 0 } c && here.Step % c.EverySteps == 0 && here.Step < stepsPerEpoch)
                    c.Save(State(here, reports, best));
            });
            if (!Network.AllFinite(_network.Parameters)) throw Diverged(epoch, stepsPerEpoch, double.NaN);
            EvaluationResult? eval = test is null ? null : Evaluator.Evaluate(_network, _kernels, test);
            var report = new EpochReport(epoch, done.LossSum / train.Count, (double)done.Correct / train.Count, eval?.Accuracy, eval?.Loss, seconds, _learningRate);
            reports.Add(report);
            if (best is not null && eval!.Loss < best.Loss) best = new BestWeights(epoch, eval.Loss, _network.Parameters.ToArray());
            control.Checkpointer?.Save(State(TrainingCursor.EpochStart(epoch + 1), reports, best));
            onEpoch?.Invoke(report);
        }
        if (best is { Epoch: > 0 }) best.Parameters.CopyTo(_network.Parameters);
        return reports;
    }

    TrainingState State(TrainingCursor cursor, IReadOnlyList<EpochReport> reports, BestWeights? best) =>
        new(_network, _options, cursor, reports, new OptimizerSnapshot(_optimizer.First, _optimizer.Second, _optimizer.Steps), best);

    EngineException Diverged(int epoch, int step, double lossSum) => new(
        $"training diverged in epoch {epoch} at step {step} (summed loss {lossSum}); nothing was saved from it. " +
        $"Try a lower learning rate than {_options.LearningRate} (e.g. {_options.LearningRate / 10})");

    /// <summary>One pass over the training set; returns the mean cross-entropy seen and the seconds spent (benchmarks).</summary>
    public (double MeanLoss, double Seconds) RunEpoch(Dataset train, int epoch)
    {
        var (done, seconds) = RunEpoch(train, TrainingCursor.EpochStart(epoch), null);
        return (done.LossSum / train.Count, seconds);
    }

    /// <summary>
    /// The epoch from <paramref name="from"/>'s step on. Its permutation depends only on seed and epoch, so a resumed
    /// epoch visits the same batches. <paramref name="afterStep"/> sees the position after every step and the seconds
    /// spent so far. Returns the position at the end of the epoch (loss and correct count summed over the whole epoch)
    /// and the seconds of this call.
    /// </summary>
    (TrainingCursor Done, double Seconds) RunEpoch(Dataset train, TrainingCursor from, Action<TrainingCursor, double>? afterStep)
    {
        int n = train.Count, d = train.Width, batch = _options.BatchSize;
        int[]? order = null;
        if (_options.Shuffle)
        {
            order = new int[n];
            for (int i = 0; i < n; i++) order[i] = i;
            SplitMix64.ForStream(_options.Seed, RandomStreams.Shuffle, (ulong)from.Epoch).Shuffle(order);
        }
        TrainingCursor here = from;
        var clock = Stopwatch.StartNew();
        for (int start = here.Step * batch; start < n; start += batch)
        {
            int rows = Math.Min(batch, n - start);
            IKernels kernels = _threads.Next;
            long started = StepThreads.Now; // the gather runs on the step's threads too, so it counts in their timing
            ReadOnlyMatrixView x;
            ReadOnlySpan<int> y;
            if (order is null)
            {
                x = new ReadOnlyMatrixView(train.Features.AsSpan(start * d, rows * d), rows, d);
                y = train.Labels.AsSpan(start, rows);
            }
            else
            {
                _gather.Run(kernels, train, order, start, rows);
                x = new ReadOnlyMatrixView(_batchInput.AsSpan(0, rows * d), rows, d);
                y = _batchLabels.AsSpan(0, rows);
            }
            // The next batch's rows are scattered over the whole set: the step fetches them while it runs.
            var next = order is null ? default
                : new BatchPrefetch(train, order.AsSpan(Math.Min(n, start + batch), Math.Min(n, start + 2 * batch) - Math.Min(n, start + batch)));
            StepResult step = Step(kernels, x, y, next);
            _threads.Record(StepThreads.Now - started, rows == batch);
            here = new TrainingCursor(here.Epoch, here.Step + 1, here.LossSum + step.LossSum, here.Correct + step.Correct);
            afterStep?.Invoke(here, clock.Elapsed.TotalSeconds);
        }
        return (here, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Forward, backward and the optimizer's update on one batch (the update fused into the backward pass: each layer's
    /// weights step as their gradient product is made). <paramref name="next"/> names the rows of the batch that follows,
    /// fetched into cache after the forward pass: late enough that the step's own working set (weights, packed panels)
    /// does not push them out of L2 again, early enough that the gather finds them there.
    /// </summary>
    /// <returns>The batch's summed cross-entropy and how many of its rows the forward pass classified right.</returns>
    public StepResult Step(ReadOnlyMatrixView x, ReadOnlySpan<int> y, BatchPrefetch next = default) => Step(_kernels, x, y, next);

    /// <summary>The threads the last trial chose for the epochs' steps (all of the backend's, or one: <see cref="StepThreads"/>); null before it ends.</summary>
    public IKernels? StepKernels => _threads.Chosen;

    StepResult Step(IKernels kernels, ReadOnlyMatrixView x, ReadOnlySpan<int> y, BatchPrefetch next)
    {
        double loss = _network.Forward(kernels, x, y, _workspace);
        int correct = Evaluator.CountCorrect(_workspace.Probabilities(x.Rows), y);
        next.Fetch();
        _network.Backward(kernels, x, y, _workspace, _optimizer.Begin(_learningRate, _options.L2));
        return new StepResult(loss, correct);
    }
}

/// <summary>What one training step saw, from its forward pass (before its update).</summary>
/// <param name="LossSum">The batch's summed cross-entropy.</param>
/// <param name="Correct">Rows whose arg-max prediction was their label.</param>
internal readonly record struct StepResult(double LossSum, int Correct);

/// <summary>The rows of the next shuffled batch, for a step to fetch into cache while it computes (a hint: never changes results).</summary>
internal readonly ref struct BatchPrefetch(Dataset train, ReadOnlySpan<int> rows)
{
    readonly ReadOnlySpan<int> _rows = rows;

    public void Fetch()
    {
        if (train?.Bytes is not null)
            foreach (int row in _rows) Prefetch.Bytes(train.ByteRow(row));
        else if (train is not null)
            foreach (int row in _rows) Prefetch.Row(train.Row(row));
    }
}
