using Engine.Data;
using Engine.Evaluation;
using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Kernels.Simd;
using Engine.Nn;
using Engine.Tests.Data;
using Engine.Training;
using static Engine.Tests.Simd.SimdTestSupport;

namespace Engine.Tests.Simd;

/// <summary>
/// Whole training runs on real digits: the simd backend on every supported instruction-set path with 1 and 2
/// threads must end on bit-identical parameters and report identical per-epoch train losses, test accuracies
/// and test losses as the reference backend (shuffled batches, a partial last batch, evaluation batches of
/// 1000 and a partial one), and Evaluator.Predict must return bit-identical probabilities.
/// </summary>
public class SimdTrainingEqualityTests
{
    sealed record Config(string Name, int[] Hidden, Activation Activation, int Epochs, int Batch, float LearningRate, float L2, ulong Seed,
                         Optimizer? Optimizer = null, LearningRateSchedule? Schedule = null);

    // 1024 training examples: batch 32 divides them, batch 48 leaves a last batch of 16.
    static readonly Config[] Configs =
    [
        new("784-32-10 tanh batch 32", [32], Activation.Tanh, Epochs: 3, Batch: 32, LearningRate: 0.1f, L2: 1e-4f, Seed: 7),
        new("784-64-32-10 relu batch 48", [64, 32], Activation.Relu, Epochs: 2, Batch: 48, LearningRate: 0.05f, L2: 5e-4f, Seed: 11),
        new("784-40-10 tanh nesterov step schedule", [40], Activation.Tanh, Epochs: 3, Batch: 32, LearningRate: 0.02f, L2: 1e-4f, Seed: 3,
            new Optimizer(OptimizerKind.Nesterov, Momentum: 0.9f), new LearningRateSchedule(ScheduleKind.Step, StepEpochs: 2, Gamma: 0.5f)),
        new("784-48-24-10 relu adam cosine", [48, 24], Activation.Relu, Epochs: 3, Batch: 48, LearningRate: 0.002f, L2: 1e-4f, Seed: 5,
            new Optimizer(OptimizerKind.Adam), new LearningRateSchedule(ScheduleKind.Cosine, MinLearningRate: 1e-4f)),
        new("784-33-10 sigmoid adamw", [33], Activation.Sigmoid, Epochs: 2, Batch: 32, LearningRate: 0.003f, L2: 0.01f, Seed: 9,
            new Optimizer(OptimizerKind.AdamW, Beta1: 0.8f, Beta2: 0.99f, Epsilon: 1e-6f)),
    ];

    const int TrainCount = 1024;
    const int TestCount = 1100; // evaluation runs a batch of 1000 and a partial one of 100

    static readonly Lazy<(Dataset Train, Dataset Test)> Data = new(() =>
    {
        var loaded = DataSource.Load(RepoPaths.BundledData);
        var train = loaded.Train.Subset(Enumerable.Range(0, TrainCount).ToArray(), "first training examples");
        var scaling = InputScaling.FitMax(train);
        var test = loaded.Test!.Subset(Enumerable.Range(0, TestCount).ToArray(), "first test examples");
        return (scaling.Apply(train), scaling.Apply(test));
    });

    sealed record RunResult(Network Network, List<EpochReport> Reports, float[] Predictions, float[] PredictionsBatch37);

    static RunResult Run(Config config, IKernels kernels)
    {
        var (train, test) = Data.Value;
        var net = new Network(784, config.Hidden, 10, config.Activation);
        net.InitializeWeights(config.Seed);
        var options = new TrainingOptions(config.Epochs, config.Batch, config.LearningRate, config.L2, config.Seed, Shuffle: true)
        {
            Optimizer = config.Optimizer ?? Optimizer.Sgd,
            Schedule = config.Schedule ?? LearningRateSchedule.Constant,
        };
        var reports = new Trainer(net, kernels, options).Train(train, test);
        return new RunResult(net, reports, Evaluator.Predict(net, kernels, test), Evaluator.Predict(net, kernels, test, batchSize: 37));
    }

    static readonly Dictionary<string, Lazy<RunResult>> ReferenceRuns =
        Configs.ToDictionary(c => c.Name, c => new Lazy<RunResult>(() => Run(c, ReferenceKernels.Instance)));

    public static IEnumerable<object[]> ConfigIsaThreads() =>
        from config in Configs from isa in SupportedIsas from threads in new[] { 1, 2 } select new object[] { config.Name, isa, threads };

    [Theory]
    [MemberData(nameof(ConfigIsaThreads))]
    public void Training_on_simd_gives_the_reference_bits(string configName, InstructionSet isa, int threads)
    {
        Config config = Configs.Single(c => c.Name == configName);
        RunResult expected = ReferenceRuns[configName].Value;
        string context = $"{configName}, {isa.Name()} threads {threads}";
        var (_, test) = Data.Value;

        using var simd = new SimdKernels(isa, threads);
        RunResult got = Run(config, simd);

        var failures = new List<string>();
        for (int e = 0; e < Math.Min(got.Reports.Count, expected.Reports.Count); e++)
        {
            EpochReport g = got.Reports[e], x = expected.Reports[e];
            if (!SameBits(g.TrainLoss, x.TrainLoss)) failures.Add($"epoch {g.Epoch}: train loss {Show(g.TrainLoss)}, reference {Show(x.TrainLoss)}");
            if (g.TrainAccuracy != x.TrainAccuracy) failures.Add($"epoch {g.Epoch}: train accuracy {g.TrainAccuracy:R}, reference {x.TrainAccuracy:R}");
            if (g.TestAccuracy != x.TestAccuracy) failures.Add($"epoch {g.Epoch}: test accuracy {g.TestAccuracy:R}, reference {x.TestAccuracy:R}");
            if (!SameBits(g.TestLoss ?? double.NaN, x.TestLoss ?? double.NaN) || (g.TestLoss is null) != (x.TestLoss is null))
                failures.Add($"epoch {g.Epoch}: test loss {Show(g.TestLoss ?? double.NaN)}, reference {Show(x.TestLoss ?? double.NaN)}");
        }
        if (got.Reports.Count != expected.Reports.Count) failures.Add($"{got.Reports.Count} epoch reports, reference {expected.Reports.Count}");
        if (ParameterDifference(got.Network, expected.Network.Parameters) is { } diff) failures.Add($"trained parameters: {diff}");
        if (FirstDifference(got.Predictions, expected.Predictions) is { } dp) failures.Add($"Predict (batch 1000) of the simd-trained network: {dp}");

        // Predict on the reference's trained weights, so a difference here is the forward pass alone.
        var same = new Network(784, config.Hidden, 10, config.Activation);
        expected.Network.Parameters.CopyTo(same.Parameters, 0);
        if (FirstDifference(Evaluator.Predict(same, simd, test), expected.Predictions) is { } d1)
            failures.Add($"Predict (batch 1000) with the reference's weights: {d1}");
        if (FirstDifference(Evaluator.Predict(same, simd, test, batchSize: 37), expected.PredictionsBatch37) is { } d2)
            failures.Add($"Predict (batch 37) with the reference's weights: {d2}");

        if (failures.Count > 0) Assert.Fail($"{context}: simd differs from the reference:\n" + string.Join("\n", failures));
    }

    /// <summary>Batch size must not matter to the reference's predictions either: the sanity check of the oracle.</summary>
    [Fact]
    public void Reference_predictions_do_not_depend_on_the_evaluation_batch()
    {
        foreach (var config in Configs)
        {
            var run = ReferenceRuns[config.Name].Value;
            Assert.Null(FirstDifference(run.PredictionsBatch37, run.Predictions));
            Assert.True(run.Reports[^1].TestAccuracy > 0.5, $"{config.Name}: test accuracy {run.Reports[^1].TestAccuracy} (the runs should learn)");
        }
    }

    static string? FirstDifference(float[] got, float[] expected)
    {
        if (got.Length != expected.Length) return $"{got.Length} values, reference {expected.Length}";
        int count = 0, first = -1;
        for (int i = 0; i < got.Length; i++)
            if (!SameBits(got[i], expected[i]))
            {
                count++;
                if (first < 0) first = i;
            }
        return first < 0 ? null
            : $"probability [{first / 10},{first % 10}] = {Show(got[first])}, reference {Show(expected[first])}; {count} of {got.Length} differ";
    }

    static string? ParameterDifference(Network network, float[] expected)
    {
        float[] got = network.Parameters;
        int count = 0, first = -1;
        for (int i = 0; i < got.Length; i++)
            if (!SameBits(got[i], expected[i]))
            {
                count++;
                if (first < 0) first = i;
            }
        if (first < 0) return null;
        string where = $"[{first}]";
        for (int l = 0; l < network.Layers.Count; l++)
        {
            var layer = network.Layers[l];
            if (first >= layer.WeightOffset && first < layer.WeightOffset + layer.WeightCount)
                where = $"W{l + 1}[{(first - layer.WeightOffset) / layer.FanOut},{(first - layer.WeightOffset) % layer.FanOut}]";
            else if (first >= layer.BiasOffset && first < layer.BiasOffset + layer.FanOut)
                where = $"b{l + 1}[{first - layer.BiasOffset}]";
        }
        return $"{where} (arena index {first}) = {Show(got[first])}, reference {Show(expected[first])}; {count} of {got.Length} parameters differ";
    }
}
