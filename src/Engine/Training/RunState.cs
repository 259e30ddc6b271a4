using Engine.Nn;

namespace Engine.Training;

/// <summary>Where a training run stands: <see cref="Step"/> batches of epoch <see cref="Epoch"/> are done, their
/// cross-entropy summed in <see cref="LossSum"/> and <see cref="Correct"/> of their rows classified right by the
/// forward pass. (Epoch e+1, step 0) is "epoch e finished and reported".</summary>
internal readonly record struct TrainingCursor(int Epoch, int Step, double LossSum, int Correct)
{
    public static TrainingCursor Start => EpochStart(1);
    public static TrainingCursor EpochStart(int epoch) => new(epoch, 0, 0, 0);
}

/// <summary>The optimizer's state vectors (see <see cref="OptimizerState"/>) and its step count.</summary>
internal sealed record OptimizerSnapshot(float[] First, float[] Second, long Steps);

/// <summary>Early stopping's memory: the epoch with the lowest evaluation loss so far (0: none yet) and its weights.</summary>
internal sealed record BestWeights(int Epoch, double Loss, float[] Parameters);

/// <summary>A run's state at a point, as the trainer hands it to the checkpointer (arrays are the live ones: write them out at once).</summary>
internal sealed record TrainingState(Network Network, TrainingOptions Options, TrainingCursor Cursor, IReadOnlyList<EpochReport> Reports,
                                     OptimizerSnapshot Optimizer, BestWeights? Best);
