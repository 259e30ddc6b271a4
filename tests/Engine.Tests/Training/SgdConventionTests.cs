using Engine.Numerics;
using Engine.Data;
using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Nn;
using Engine.Tests.Data;
using Engine.Tests.Nn;
using Engine.Training;

namespace Engine.Tests.Training;

/// <summary>
/// Whole training runs against the float64 oracle of the update convention: two epochs of mini-batch SGD in
/// file order (last batch smaller, averaged over its own size) on real MNIST digits must land on the same
/// weights to 1e-4 relative.
/// </summary>
public class SgdConventionTests
{
    static Dataset FirstExamples(int count)
    {
        var train = DataSource.Load(RepoPaths.BundledData).Train;
        var scaled = InputScaling.FitMax(train).Apply(train);
        return scaled.Subset(Enumerable.Range(0, count).ToArray(), "first examples");
    }

    [Theory]
    [InlineData(Activation.Tanh, 32, 1e-4f)]
    [InlineData(Activation.Relu, 50, 1e-3f)]
    [InlineData(Activation.Sigmoid, 7, 0f)]
    public void Two_epochs_in_file_order_match_float64_sgd(Activation act, int batch, float l2)
    {
        var data = FirstExamples(1000); // 1000 is not a multiple of 32, 7: the last batch is partial
        var net = new Network(784, [16], 10, act);
        net.InitializeWeights(5);
        var oracle = DoubleMlp.From(net);

        var options = new TrainingOptions(Epochs: 2, BatchSize: batch, LearningRate: 0.1f, L2: l2, Seed: 5, Shuffle: false);
        new Trainer(net, ReferenceKernels.Instance, options).Train(data, test: null);

        for (int epoch = 0; epoch < 2; epoch++)
            for (int start = 0; start < data.Count; start += batch)
            {
                int rows = Math.Min(batch, data.Count - start);
                oracle.SgdStep(data.Features.AsSpan(start * 784, rows * 784).ToArray(), data.Labels.AsSpan(start, rows).ToArray(), 0.1, l2);
            }

        var trained = DoubleMlp.From(net);
        for (int l = 0; l < oracle.W.Length; l++)
        {
            AssertRelative($"W{l + 1}", trained.W[l], oracle.W[l]);
            AssertRelative($"b{l + 1}", trained.B[l], oracle.B[l]);
        }
    }

    static void AssertRelative(string name, double[] got, double[] expected)
    {
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < got.Length; i++)
            Assert.True(Math.Abs(got[i] - expected[i]) <= 1e-4 * Math.Max(scale, 1e-3), $"{name}[{i}] = {got[i]:R}, float64 SGD {expected[i]:R}");
    }

    [Fact]
    public void Same_seed_gives_bit_identical_weights_and_another_seed_does_not()
    {
        var data = FirstExamples(300);
        float[] Run(ulong seed)
        {
            var net = new Network(784, [8], 10, Activation.Tanh);
            net.InitializeWeights(seed);
            new Trainer(net, ReferenceKernels.Instance, new TrainingOptions(2, 32, 0.1f, 1e-4f, seed, Shuffle: true)).Train(data, null);
            return net.Parameters;
        }
        Assert.Equal(Run(3), Run(3));
        Assert.NotEqual(Run(3), Run(4));
    }

    [Fact]
    public void Shuffling_visits_every_example_once_per_epoch_in_a_new_order()
    {
        var orders = new List<int[]>();
        for (ulong epoch = 1; epoch <= 3; epoch++)
        {
            var order = Enumerable.Range(0, 100).ToArray();
            SplitMix64.ForStream(9, RandomStreams.Shuffle, epoch).Shuffle(order);
            Assert.Equal(Enumerable.Range(0, 100), order.Order());
            orders.Add(order);
        }
        Assert.NotEqual(orders[0], orders[1]);
        Assert.NotEqual(orders[1], orders[2]);
    }

    [Fact]
    public void Default_training_run_learns_the_bundled_digits()
    {
        // A short run on a quarter of the data: far above chance, so the whole pipeline is wired right.
        var loaded = DataSource.Load(RepoPaths.BundledData);
        var scaling = InputScaling.FitMax(loaded.Train);
        var train = scaling.Apply(loaded.Train).Subset(Enumerable.Range(0, 2000).ToArray(), "train");
        var test = scaling.Apply(loaded.Test!);
        var net = new Network(784, [32], 10, Activation.Tanh);
        net.InitializeWeights(0);
        var reports = new Trainer(net, ReferenceKernels.Instance, new TrainingOptions(3, 32, 0.1f, 1e-4f, 0, true)).Train(train, test);
        Assert.True(reports[^1].TestAccuracy > 0.85, $"test accuracy {reports[^1].TestAccuracy}");
        Assert.True(reports[^1].TrainLoss < reports[0].TrainLoss);
    }
}
