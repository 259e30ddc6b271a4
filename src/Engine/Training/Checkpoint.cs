using Engine.Nn;
using Engine.Serialization;

namespace Engine.Training;

/// <summary>Everything needed to continue a run exactly: weights and scaling, settings, cursor, the epochs so far, the
/// optimizer's state and early stopping's best weights. The bytes are <see cref="CheckpointFile"/>'s; this type
/// translates between its records and the trainer's and checks what only the trainer knows.</summary>
internal sealed record Checkpoint(Model Model, TrainingOptions Options, TrainingCursor Cursor, IReadOnlyList<EpochReport> Reports,
                                  OptimizerSnapshot Optimizer, BestWeights? Best)
{
    public void Save(string path)
    {
        var o = Options;
        var settings = new CheckpointSettings(o.Epochs, o.BatchSize, o.LearningRate, o.L2, o.Seed, o.Shuffle,
                                              (byte)o.Optimizer.Kind, o.Optimizer.Momentum, o.Optimizer.Beta1, o.Optimizer.Beta2, o.Optimizer.Epsilon,
                                              (byte)o.Schedule.Kind, o.Schedule.StepEpochs, o.Schedule.Gamma, o.Schedule.MinLearningRate,
                                              o.EarlyStoppingPatience);
        var epochs = Reports.Select(r => new CheckpointEpoch(r.Epoch, r.TrainLoss, r.TrainAccuracy, r.TestAccuracy, r.TestLoss, r.Seconds, r.LearningRate)).ToList();
        CheckpointFile.Save(path, new CheckpointContent(Model, settings, new CheckpointCursor(Cursor.Epoch, Cursor.Step, Cursor.LossSum, Cursor.Correct), epochs,
                                                        new CheckpointOptimizer(Optimizer.Steps, Optimizer.First, Optimizer.Second),
                                                        Best is null ? null : new CheckpointBest(Best.Epoch, Best.Loss, Best.Parameters)));
    }

    public static Checkpoint Load(string path)
    {
        CheckpointContent c = CheckpointFile.Load(path);
        var s = c.Settings;
        var options = new TrainingOptions(s.Epochs, s.BatchSize, s.LearningRate, s.L2, s.Seed, s.Shuffle)
        {
            Optimizer = new Optimizer((OptimizerKind)s.Optimizer, s.Momentum, s.Beta1, s.Beta2, s.Epsilon),
            Schedule = new LearningRateSchedule((ScheduleKind)s.Schedule, s.StepEpochs, s.Gamma, s.MinLearningRate),
            EarlyStoppingPatience = s.EarlyStoppingPatience,
        };
        try { options.Validate(); }
        catch (EngineException e) { throw new EngineException($"{path}: invalid settings in the checkpoint ({e.Message})"); }
        int parameters = c.Model.Network.Parameters.Length, stateVectors = options.Optimizer.StateVectors;
        RequireLength(c.Optimizer.First, stateVectors >= 1 ? parameters : 0, path, "optimizer state");
        RequireLength(c.Optimizer.Second, stateVectors >= 2 ? parameters : 0, path, "optimizer state");
        RequireLength(c.Best?.Parameters ?? [], c.Best?.Epoch > 0 ? parameters : 0, path, "best weights");
        if ((c.Best is null) != (options.EarlyStoppingPatience == 0))
            throw new EngineException($"{path}: inconsistent optimizer or early-stopping state");
        var reports = c.Epochs.Select(e => new EpochReport(e.Epoch, e.TrainLoss, e.TrainAccuracy, e.TestAccuracy, e.TestLoss, e.Seconds, e.LearningRate)).ToList();
        return new Checkpoint(c.Model, options, new TrainingCursor(c.Cursor.Epoch, c.Cursor.Step, c.Cursor.LossSum, c.Cursor.Correct), reports,
                              new OptimizerSnapshot(c.Optimizer.First, c.Optimizer.Second, c.Optimizer.Steps),
                              c.Best is null ? null : new BestWeights(c.Best.Epoch, c.Best.Loss, c.Best.Parameters));
    }

    static void RequireLength(float[] values, int expected, string path, string what)
    {
        if (values.Length != expected) throw new EngineException($"{path}: {what} holds {values.Length} values, expected {expected}");
    }
}
