namespace Engine.Training;

/// <summary>Mini-batch training settings. With the default optimizer (plain SGD) the update is
/// W −= lr·(mean ∂CE/∂W + l2·W), b −= lr·mean ∂CE/∂b; <see cref="Optimizer"/>, <see cref="Schedule"/> and
/// <see cref="EarlyStoppingPatience"/> choose momentum or Adam, a per-epoch learning-rate schedule and early stopping.</summary>
/// <param name="Epochs">Passes over the training set (1 to <see cref="Limits.MaxEpochs"/>).</param>
/// <param name="BatchSize">Examples per step (1 to <see cref="Limits.MaxBatch"/>); the last batch of an epoch may be smaller.</param>
/// <param name="LearningRate">The step size lr (positive, finite).</param>
/// <param name="L2">The weight-decay factor l2 on weights, not biases (finite, ≥ 0): added to the gradient as l2·W, except
/// with AdamW, where it is the decoupled decay W −= lr·l2·W.</param>
/// <param name="Seed">Seed of the shuffling order (weight initialization is seeded separately).</param>
/// <param name="Shuffle">Visit examples in a fresh random order each epoch; otherwise in file order.</param>
public sealed record TrainingOptions(int Epochs, int BatchSize, float LearningRate, float L2, ulong Seed, bool Shuffle)
{
    /// <summary>The update rule and its hyperparameters (default: plain SGD).</summary>
    public Optimizer Optimizer { get; init; } = Optimizer.Sgd;

    /// <summary>The learning rate per epoch, from <see cref="LearningRate"/> (default: constant).</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;

    /// <summary>
    /// Stop when the evaluation loss has not improved for this many epochs, and end with the weights of the epoch with
    /// the lowest evaluation loss (the first, on ties); 0 turns early stopping off. Needs an evaluation set.
    /// </summary>
    public int EarlyStoppingPatience { get; init; }

    /// <summary>Checks the ranges above.</summary>
    /// <exception cref="EngineException">A setting is out of range; <see cref="EngineException.Parameter"/> names it.</exception>
    public void Validate()
    {
        if (Optimizer is null) throw new EngineException("no optimizer given");
        if (Schedule is null) throw new EngineException("no learning-rate schedule given");
        if (EarlyStoppingPatience < 0) throw EngineException.ForParameter("early-stopping patience", $"must be 0 (off) or a number of epochs, got {EarlyStoppingPatience}");
        if (Epochs < 1 || Epochs > Limits.MaxEpochs) throw EngineException.ForParameter("epochs", $"must be 1 to {Limits.MaxEpochs:N0} (the limit), got {Epochs:N0}");
        if (BatchSize < 1 || BatchSize > Limits.MaxBatch) throw EngineException.ForParameter("batch size", $"must be 1 to {Limits.MaxBatch:N0} (the limit), got {BatchSize:N0}");
        if (!(LearningRate > 0) || !float.IsFinite(LearningRate)) throw EngineException.ForParameter("learning rate", $"must be a positive finite number, got {LearningRate}");
        if (!(L2 >= 0) || !float.IsFinite(L2)) throw EngineException.ForParameter("L2 factor", $"must be a finite number ≥ 0, got {L2}");
        Optimizer.Validate();
        Schedule.Validate(LearningRate);
    }
}

/// <summary>What one epoch did: mean training cross-entropy and accuracy, test metrics when a test set is given, and the
/// wall time of its training steps alone (evaluation excluded).</summary>
/// <param name="Epoch">The epoch number, from 1.</param>
/// <param name="TrainLoss">Mean cross-entropy over the epoch's training batches, as seen during training.</param>
/// <param name="TrainAccuracy">Fraction of the epoch's training examples classified right by the forward pass of their step
/// (before that step's update), in [0, 1].</param>
/// <param name="TestAccuracy">Accuracy on the test set after the epoch, in [0, 1]; null without a test set.</param>
/// <param name="TestLoss">Mean cross-entropy on the test set after the epoch; null without a test set.</param>
/// <param name="Seconds">Wall time of the epoch's training steps, in seconds.</param>
/// <param name="LearningRate">The learning rate the epoch's steps used.</param>
public sealed record EpochReport(int Epoch, double TrainLoss, double TrainAccuracy, double? TestAccuracy, double? TestLoss, double Seconds, float LearningRate);

/// <summary>Where training stands after a step, for progress displays (a value type: reporting allocates nothing).</summary>
/// <param name="Epoch">The epoch in progress, from 1.</param>
/// <param name="Epochs">The run's last epoch.</param>
/// <param name="Step">Steps of this epoch done.</param>
/// <param name="StepsPerEpoch">Steps in a whole epoch.</param>
/// <param name="Samples">Training examples this epoch has seen so far.</param>
/// <param name="MeanLoss">Mean cross-entropy over those examples.</param>
/// <param name="Seconds">Wall time of this epoch's steps so far (in this process, when resumed).</param>
public readonly record struct TrainingProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch, int Samples, double MeanLoss, double Seconds);
