using Engine.Data;
using Engine.Evaluation;
using Engine.Kernels;
using Engine.Nn;
using Engine.Numerics;
using Engine.Training;
using Engine.Tests.Support;
using Xunit;

namespace Engine.Tests.Api;

public class ClassifierTests
{
    static (float[] X, int[] Y) Batch(int rows, int width, int classes, int seed)
    {
        var rng = new Random(seed);
        var x = new float[rows * width];
        for (int i = 0; i < x.Length; i++) x[i] = 255f * rng.NextSingle();
        var y = new int[rows];
        for (int i = 0; i < rows; i++) y[i] = rng.Next(classes);
        return (x, y);
    }

    [Theory]
    [InlineData("simd")]
    [InlineData("reference")]
    public void TrainStep_is_the_trainers_step_on_scaled_inputs_and_allocates_nothing_when_repeated(string backend)
    {
        var (x, y) = Batch(24, 20, 4, 1);
        using var model = Classifier.Create(20, [16], 4, Activation.Tanh, InputScaling.Divide(255f), seed: 3, new ComputeOptions(backend));

        // The same step by hand: network with the same seed, inputs divided by 255, Trainer.Step.
        var network = new Network(20, [16], 4, Activation.Tanh);
        network.InitializeWeights(3);
        using IKernels kernels = Backends.Create(backend);
        var trainer = new Trainer(network, kernels, new TrainingOptions(1, 24, 0.05f, 1e-3f, 0, false));
        float[] scaled = x.Select(v => v / 255f).ToArray();

        for (int step = 0; step < 3; step++)
        {
            double loss = model.TrainStep(x, y, 0.05f, 1e-3f);
            double expected = trainer.Step(new ReadOnlyMatrixView(scaled, 24, 20), y).LossSum / 24;
            Assert.Equal(expected, loss);
        }
        Assert.Equal(Evaluator.Predict(network, kernels, new Dataset(scaled, null, 24, 20, "x")), model.PredictProbabilities(x, 24));

        Assert.Equal(0, SteadyState.AllocatedBytes(() => model.TrainStep(x, y, 0.05f, 1e-3f)));
    }

    [Theory]
    [InlineData("simd", OptimizerKind.Adam)]
    [InlineData("reference", OptimizerKind.Nesterov)]
    [InlineData("simd", OptimizerKind.AdamW)]
    public void TrainStep_with_an_optimizer_carries_its_state_across_batch_sizes_and_rates(string backend, OptimizerKind kind)
    {
        var (x, y) = Batch(24, 20, 4, 1);
        var optimizer = new Optimizer(kind);
        using var model = Classifier.Create(20, [16], 4, Activation.Tanh, InputScaling.Divide(255f), seed: 3, new ComputeOptions(backend));

        // By hand: one optimizer state shared by trainers of batch 24 (lr 0.01) and then batch 12 (lr 0.005).
        var network = new Network(20, [16], 4, Activation.Tanh);
        network.InitializeWeights(3);
        using IKernels kernels = Backends.Create(backend);
        var state = new OptimizerState(optimizer, network.Parameters.Length);
        var full = new Trainer(network, kernels, new TrainingOptions(1, 24, 0.01f, 1e-3f, 0, false) { Optimizer = optimizer }, state);
        var half = new Trainer(network, kernels, new TrainingOptions(1, 12, 0.005f, 1e-3f, 0, false) { Optimizer = optimizer }, state);
        float[] scaled = x.Select(v => v / 255f).ToArray();

        for (int step = 0; step < 3; step++)
            Assert.Equal(full.Step(new ReadOnlyMatrixView(scaled, 24, 20), y).LossSum / 24, model.TrainStep(x, y, optimizer, 0.01f, 1e-3f));
        for (int step = 0; step < 2; step++)
            Assert.Equal(half.Step(new ReadOnlyMatrixView(scaled.AsSpan(0, 12 * 20), 12, 20), y.AsSpan(0, 12)).LossSum / 12,
                         model.TrainStep(x.AsSpan(0, 12 * 20), y.AsSpan(0, 12), optimizer, 0.005f, 1e-3f));
        Assert.Equal(5, state.Steps);
        Assert.Equal(Evaluator.Predict(network, kernels, new Dataset(scaled, null, 24, 20, "x")), model.PredictProbabilities(x, 24));

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int step = 0; step < 10; step++) model.TrainStep(x, y, optimizer, 0.01f, 1e-3f);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 * 1024, "only the first step after a batch-size change may allocate"); // one Trainer rebuild
        Assert.Equal(0, SteadyState.AllocatedBytes(() => model.TrainStep(x, y, optimizer, 0.01f, 1e-3f)));
    }

    [Fact]
    public void Bad_inputs_are_engine_errors()
    {
        using var model = Classifier.Create(3, [], 2, Activation.Tanh, InputScaling.Divide(1f));
        Assert.Throws<EngineException>(() => model.TrainStep(new float[5], [0, 1], 0.1f, 0f));
        Assert.Throws<EngineException>(() => model.TrainStep(new float[6], [0, 2], 0.1f, 0f));
        Assert.Throws<EngineException>(() => model.TrainStep(new float[6], [0, -1], 0.1f, 0f));
        Assert.Throws<EngineException>(() => model.PredictProbabilities(new float[4], 1));
        Assert.Throws<EngineException>(() => Classifier.Create(3, [], 1, Activation.Tanh, InputScaling.Divide(1f)));
        Assert.Throws<EngineException>(() => Classifier.Create(3, [], 2, Activation.Tanh, InputScaling.Standardize([0f, 0f], [1f, 1f])));
        Assert.Throws<EngineException>(() => Classifier.Create(3, [], 2, Activation.Tanh, InputScaling.Divide(1f), 0, new ComputeOptions(Threads: 0)));
    }
}
