namespace Engine.Training;

/// <summary>What a run starts from and what it may be asked to do while it runs.</summary>
internal sealed record RunControl(Checkpointer? Checkpointer, TrainingCursor From, IReadOnlyList<EpochReport> Reports,
                                  CancellationToken Cancellation, Action<TrainingProgress>? OnProgress,
                                  OptimizerSnapshot? Optimizer = null, BestWeights? Best = null)
{
    public static RunControl Plain { get; } = new(null, TrainingCursor.Start, [], CancellationToken.None, null);
}
