namespace Engine.Training;

/// <summary>Training was asked to stop (SIGINT, SIGTERM, a cancellation token); the step in progress finished.</summary>
public sealed class TrainingInterruptedException : OperationCanceledException
{
    /// <summary>The checkpoint written at the stop, or null when the run had no checkpoint directory.</summary>
    public string? CheckpointPath { get; }
    /// <summary>The epoch that was in progress (from 1).</summary>
    public int Epoch { get; }
    /// <summary>Steps of that epoch completed.</summary>
    public int Step { get; }

    /// <summary>Records where training stopped.</summary>
    public TrainingInterruptedException(string? checkpointPath, int epoch, int step)
        : base(checkpointPath is null
            ? $"training interrupted in epoch {epoch} after step {step}; no checkpoint directory, nothing saved"
            : $"training interrupted in epoch {epoch} after step {step}; checkpoint written to {checkpointPath}")
    {
        CheckpointPath = checkpointPath;
        Epoch = epoch;
        Step = step;
    }
}
