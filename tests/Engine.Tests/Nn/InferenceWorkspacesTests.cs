using Engine.Numerics;
using Engine.Data;
using Engine.Evaluation;
using Engine.Kernels;
using Engine.Kernels.Simd;
using Engine.Nn;
using Engine.Training;

namespace Engine.Tests.Nn;

/// <summary>Workspaces kept between inference calls give every call the result of fresh ones, whatever came before.</summary>
public class InferenceWorkspacesTests
{
    static Dataset Random(int rows, int width, ulong seed)
    {
        var rng = new SplitMix64(seed);
        var x = new float[rows * width];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
        var y = new int[rows];
        for (int i = 0; i < rows; i++) y[i] = rng.NextInt(3);
        return new Dataset(x, y, rows, width, "random");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Reused_workspaces_give_the_results_of_fresh_ones_across_networks_and_batch_sizes(int threads)
    {
        using var simd = new SimdKernels(InstructionSets.Best, threads);
        var wide = new Network(20, [16], 3, Activation.Tanh);
        wide.InitializeWeights(1);
        var deep = new Network(20, [9, 7], 3, Activation.Relu);
        deep.InitializeWeights(2);
        var data = Random(250, 20, 3);
        var small = Random(40, 20, 4);
        var kept = new InferenceWorkspaces();
        foreach (var (network, set, batch) in new[] { (wide, data, 100), (deep, data, 100), (wide, small, 37), (wide, data, 250), (deep, small, 7), (wide, data, 100) })
        {
            Assert.Equal(Evaluator.Predict(network, simd, set, batch), Evaluator.Predict(network, simd, set, batch, kept));
            var fresh = Evaluator.Evaluate(network, simd, set, batch);
            var reused = Evaluator.Evaluate(network, simd, set, batch, kept);
            Assert.Equal(fresh.Loss, reused.Loss);
            Assert.Equal(fresh.Confusion, reused.Confusion);
        }
    }
}
