using Engine.Data;
using Engine.Evaluation;
using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Nn;
using Engine.Tests.Data;
using Engine.Training;

namespace Engine.Tests.Api;

/// <summary>
/// A Classifier keeps its weights packed for the GEMM between predictions (<see cref="PackedWeights"/>): after every way
/// its weights can change (SetLayer, TrainStep, Train, and predictions made from Train's own callbacks) its predictions
/// are those of the new weights, computed by the reference from the weights read back. A stale pack would give the old
/// weights' probabilities.
/// </summary>
public class PackedWeightsFollowChangesTests
{
    static readonly Lazy<Dataset> Digits = new(() => DataSource.Load(RepoPaths.BundledData).Train.Subset(Enumerable.Range(0, 600).ToArray(), "600"));

    /// <summary>The model's current weights, read back and run by the reference kernels on the first <paramref name="rows"/> rows.</summary>
    static float[] Expected(Classifier model, int rows)
    {
        var network = new Network(784, [128], 10, Activation.Tanh);
        for (int l = 0; l < model.LayerCount; l++)
        {
            var (fanIn, fanOut) = model.LayerShape(l);
            var weights = new float[fanIn * fanOut];
            var bias = new float[fanOut];
            model.GetLayer(l, weights, bias);
            weights.CopyTo(network.Parameters.AsSpan(network.Layers[l].WeightOffset, weights.Length));
            bias.CopyTo(network.Parameters.AsSpan(network.Layers[l].BiasOffset, bias.Length));
        }
        var data = Digits.Value.Subset(Enumerable.Range(0, rows).ToArray(), "first");
        return Evaluator.Predict(network, ReferenceKernels.Instance, model.Scaling.Apply(data));
    }

    static void AssertCurrent(Classifier model, string after)
    {
        foreach (int rows in new[] { 1, 40 }) // the row kernel and the tiled path (and, on 2 threads, split rows)
        {
            var got = model.PredictProbabilities(Digits.Value.Features.AsSpan(0, rows * 784), rows);
            Assert.True(Expected(model, rows).AsSpan().SequenceEqual(got), $"{rows} rows after {after}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Predictions_follow_every_change_of_the_weights(int threads)
    {
        Dataset data = Digits.Value;
        using var model = Classifier.Create(784, [128], 10, Activation.Tanh, InputScaling.FitMax(data), seed: 3, new ComputeOptions("simd", threads));
        AssertCurrent(model, "creation"); // packs the weights

        var (fanIn, fanOut) = model.LayerShape(0);
        var weights = new float[fanIn * fanOut];
        var bias = new float[fanOut];
        model.GetLayer(0, weights, bias);
        for (int i = 0; i < weights.Length; i++) weights[i] *= -0.5f;
        model.SetLayer(0, weights, bias);
        AssertCurrent(model, "SetLayer");

        model.TrainStep(data.Features.AsSpan(0, 32 * 784), data.Labels.AsSpan(0, 32), 0.1f, 1e-4f);
        AssertCurrent(model, "TrainStep");

        int epochs = 0;
        model.Train(data, new TrainingOptions(3, 50, 0.1f, 1e-4f, 7, true), onEpoch: _ =>
        {
            epochs++;
            AssertCurrent(model, $"epoch {epochs}, inside Train's callback"); // the lock is re-entrant: this packs mid-training
        });
        Assert.Equal(3, epochs);
        AssertCurrent(model, "Train");
    }
}
