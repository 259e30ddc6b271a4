namespace Engine.Training;

/// <summary>Mini-batch SGD settings. The update is W −= lr·(mean ∂CE/∂W + l2·W), b −= lr·mean ∂CE/∂b.</summary>
public sealed record TrainingOptions(int Epochs, int BatchSize, float LearningRate, float L2, ulong Seed, bool Shuffle)
{
    public void Validate()
    {
        if (Epochs < 1) throw new EngineException($"--epochs must be at least 1, got {Epochs}");
        if (BatchSize < 1) throw new EngineException($"--batch must be at least 1, got {BatchSize}");
        if (!(LearningRate > 0) || !float.IsFinite(LearningRate)) throw new EngineException($"--lr must be a positive finite number, got {LearningRate}");
        if (!(L2 >= 0) || !float.IsFinite(L2)) throw new EngineException($"--l2 must be a finite number ≥ 0, got {L2}");
    }
}

/// <summary>What one epoch did: mean training cross-entropy, test metrics when a test set is given, and the
/// wall time of its training steps alone (evaluation excluded).</summary>
public sealed record EpochReport(int Epoch, double TrainLoss, double? TestAccuracy, double? TestLoss, double Seconds);
