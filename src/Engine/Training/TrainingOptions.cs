namespace Engine.Training;

/// <summary>Mini-batch SGD settings. The update is W −= lr·(mean ∂CE/∂W + l2·W), b −= lr·mean ∂CE/∂b.</summary>
/// <param name="Epochs">Passes over the training set (≥ 1).</param>
/// <param name="BatchSize">Examples per step (≥ 1); the last batch of an epoch may be smaller.</param>
/// <param name="LearningRate">The step size lr (positive, finite).</param>
/// <param name="L2">The weight-decay factor l2 on weights, not biases (finite, ≥ 0).</param>
/// <param name="Seed">Seed of the shuffling order (weight initialization is seeded separately).</param>
/// <param name="Shuffle">Visit examples in a fresh random order each epoch; otherwise in file order.</param>
public sealed record TrainingOptions(int Epochs, int BatchSize, float LearningRate, float L2, ulong Seed, bool Shuffle)
{
    /// <summary>Checks the ranges above.</summary>
    /// <exception cref="EngineException">A setting is out of range; the message names its command-line option.</exception>
    public void Validate()
    {
        if (Epochs < 1) throw new EngineException($"--epochs must be at least 1, got {Epochs}");
        if (BatchSize < 1) throw new EngineException($"--batch must be at least 1, got {BatchSize}");
        if (!(LearningRate > 0) || !float.IsFinite(LearningRate)) throw new EngineException($"--lr must be a positive finite number, got {LearningRate}");
        if (!(L2 >= 0) || !float.IsFinite(L2)) throw new EngineException($"--l2 must be a finite number ≥ 0, got {L2}");
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
