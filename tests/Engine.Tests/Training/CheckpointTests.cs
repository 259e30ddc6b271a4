using Engine.Data;
using Engine.Kernels;
using Engine.Tests.Data;
using Engine.Training;
using Xunit;

namespace Engine.Tests.Training;

/// <summary>Checkpoints, exact resume, interruption and the divergence guard, on both backends.</summary>
public sealed class CheckpointTests : IDisposable
{
    readonly ScratchDirectory _dir = new();
    public void Dispose() => _dir.Dispose();

    static readonly Lazy<(Dataset Train, Dataset Test)> Digits = new(() =>
    {
        var all = DataSource.Load(RepoPaths.BundledData);
        return (all.Train.Subset(Enumerable.Range(0, 1500).ToArray(), "train 1500"), all.Test!.Subset(Enumerable.Range(0, 300).ToArray(), "test 300"));
    });

    static Classifier NewModel(string backend) =>
        Classifier.Create(784, [24], 10, Activation.Tanh, InputScaling.Divide(255f), seed: 7, new ComputeOptions(backend, backend == "simd" ? 2 : 1));

    static TrainingOptions Options(int epochs, string variant = "sgd") => variant switch
    {
        "adam early-stopping" => new(epochs, 32, 0.002f, 1e-4f, 11, true) { Optimizer = new(OptimizerKind.Adam), EarlyStoppingPatience = 5 },
        "adamw step early-stopping" => new(epochs, 32, 0.003f, 1e-2f, 11, true)
            { Optimizer = new(OptimizerKind.AdamW), Schedule = new(ScheduleKind.Step, StepEpochs: 1, Gamma: 0.5f), EarlyStoppingPatience = 1 },
        "nesterov cosine" => new(epochs, 32, 0.02f, 1e-4f, 11, true) { Optimizer = new(OptimizerKind.Nesterov), Schedule = new(ScheduleKind.Cosine) },
        _ => new(epochs, 32, 0.1f, 1e-4f, 11, true),
    };

    static byte[] Weights(Classifier model, string path)
    {
        model.ExportWeights(path);
        return File.ReadAllBytes(path);
    }

    [Theory]
    [InlineData("simd", "sgd")]
    [InlineData("reference", "sgd")]
    [InlineData("simd", "adam early-stopping")]
    [InlineData("reference", "adamw step early-stopping")]
    [InlineData("simd", "nesterov cosine")]
    public void An_interrupted_run_resumed_from_its_checkpoint_ends_with_the_uninterrupted_weights(string backend, string variant)
    {
        var (train, test) = Digits.Value;
        TrainingOptions options = Options(3, variant);
        using var straight = NewModel(backend);
        var straightReports = straight.Train(train, options, test);

        // Interrupt in the middle of epoch 2 (the token is cancelled in epoch 1's report), with step checkpoints too.
        string dir = _dir.File("ckpt");
        using var cts = new CancellationTokenSource();
        using (var first = NewModel(backend))
        {
            var stop = Assert.Throws<TrainingInterruptedException>(() =>
                first.Train(train, options, test, r => { if (r.Epoch == 1) cts.Cancel(); }, new CheckpointOptions(dir, EverySteps: 10, Keep: 2), cts.Token));
            Assert.Equal(2, stop.Epoch);
            Assert.Equal(1, stop.Step);
            Assert.True(File.Exists(stop.CheckpointPath), stop.Message);
        }
        Assert.Equal(2, Directory.GetFiles(dir, "*.ckpt").Length); // Keep: 2

        using var resumed = NewModel(backend);
        var reports = resumed.Train(train, options, test, checkpoints: new CheckpointOptions(dir, Resume: true));
        Assert.Equal(Weights(straight, _dir.File("a.npz")), Weights(resumed, _dir.File("b.npz")));
        Assert.Equal(straightReports.Select(r => (r.Epoch, r.TrainLoss, r.TrainAccuracy, r.TestAccuracy, r.TestLoss, r.LearningRate)),
                     reports.Select(r => (r.Epoch, r.TrainLoss, r.TrainAccuracy, r.TestAccuracy, r.TestLoss, r.LearningRate)));
    }

    [Fact]
    public void Resume_continues_up_to_a_larger_epoch_count_and_rejects_changed_settings()
    {
        var (train, _) = Digits.Value;
        string dir = _dir.File("ckpt");
        using var straight = NewModel("simd");
        straight.Train(train, Options(3));

        using var partial = NewModel("simd");
        partial.Train(train, Options(2), checkpoints: new CheckpointOptions(dir));
        using var more = NewModel("simd");
        var reports = more.Train(train, Options(3), checkpoints: new CheckpointOptions(dir, Resume: true));
        Assert.Equal([1, 2, 3], reports.Select(r => r.Epoch));
        Assert.Equal(Weights(straight, _dir.File("a.npz")), Weights(more, _dir.File("b.npz")));

        using var other = NewModel("simd");
        var e = Assert.Throws<EngineException>(() => other.Train(train, Options(4) with { LearningRate = 0.2f }, checkpoints: new CheckpointOptions(dir, Resume: true)));
        Assert.Contains("same settings", e.Message);
        using var empty = NewModel("simd");
        Assert.Throws<EngineException>(() => empty.Train(train, Options(1), checkpoints: new CheckpointOptions(_dir.File("none"), Resume: true)));
    }

    [Fact]
    public void A_corrupted_checkpoint_is_a_clean_error()
    {
        var (train, _) = Digits.Value;
        string dir = _dir.File("ckpt");
        using (var model = NewModel("simd")) model.Train(train, Options(1), checkpoints: new CheckpointOptions(dir));
        string file = Directory.GetFiles(dir, "*.ckpt").Single();
        byte[] bytes = File.ReadAllBytes(file);
        bytes[bytes.Length / 2] ^= 1;
        File.WriteAllBytes(file, bytes);
        using var resumed = NewModel("simd");
        var e = Assert.Throws<EngineException>(() => resumed.Train(train, Options(2), checkpoints: new CheckpointOptions(dir, Resume: true)));
        Assert.Contains("checksum", e.Message);
        File.WriteAllBytes(file, bytes[..100]);
        Assert.Throws<EngineException>(() => resumed.Train(train, Options(2), checkpoints: new CheckpointOptions(dir, Resume: true)));
    }

    [Theory]
    [InlineData("simd")]
    [InlineData("reference")]
    public void Divergence_stops_training_with_a_hint_and_keeps_the_good_checkpoints(string backend)
    {
        // A NaN pixel in the last example: epoch 1 ends there too, but the guard must stop at that step.
        var (train, _) = Digits.Value;
        float[] features = (float[])train.Features.Clone();
        features[^1] = float.NaN;
        var poisoned = new Dataset(features, train.Labels, train.Count, train.Width, "poisoned");
        string dir = _dir.File("ckpt");
        using var model = NewModel(backend);
        var e = Assert.Throws<EngineException>(() =>
            model.Train(poisoned, new TrainingOptions(2, 32, 0.1f, 0f, 11, false), checkpoints: new CheckpointOptions(dir, EverySteps: 10, Keep: 100)));
        Assert.Contains("diverged in epoch 1 at step 47", e.Message);
        Assert.Contains("lower learning rate", e.Message);

        // Every checkpoint written is from before the bad step, and the newest one resumes cleanly.
        string[] files = Directory.GetFiles(dir, "*.ckpt").Order().ToArray();
        Assert.Equal(["checkpoint-e0001-s0000010.ckpt", "checkpoint-e0001-s0000020.ckpt", "checkpoint-e0001-s0000030.ckpt", "checkpoint-e0001-s0000040.ckpt"],
                     files.Select(Path.GetFileName));
        using var resumed = NewModel(backend);
        var clean = new Dataset((float[])train.Features.Clone(), train.Labels, train.Count, train.Width, "clean");
        resumed.Train(clean, new TrainingOptions(1, 32, 0.1f, 0f, 11, false), checkpoints: new CheckpointOptions(dir, Resume: true));
    }

    [Fact]
    public void A_fresh_run_refuses_a_directory_that_holds_another_runs_checkpoints()
    {
        var (train, _) = Digits.Value;
        string dir = _dir.File("ckpt");
        using var model = NewModel("simd");
        model.Train(train, Options(1), checkpoints: new CheckpointOptions(dir));
        var e = Assert.Throws<EngineException>(() => model.Train(train, Options(1), checkpoints: new CheckpointOptions(dir)));
        Assert.Contains("--resume", e.Message);
    }
}
