using Engine.Kernels;
using Engine.Numerics;

namespace Engine.Nn;

/// <summary>Agreement of the analytic and the central-difference gradient for one parameter tensor.</summary>
/// <param name="RelativeError">‖numeric − analytic‖₂ / (‖numeric‖₂ + ‖analytic‖₂).</param>
public sealed record GradientCheckResult(string Tensor, int Count, double MaxAbsDifference, double RelativeError);

/// <summary>
/// Finite-difference check of every parameter tensor of a small network on random data: each parameter θ
/// is moved by ±ε and (L(θ+ε) − L(θ−ε)) / 2ε is compared with the backward pass, L being the batch-mean
/// cross-entropy. The network runs in float32, so agreement is to about 1e-3 relative, not more.
/// </summary>
public static class GradientCheck
{
    /// <summary>
    /// Builds a network with seeded weights and random non-zero biases, draws a random batch (inputs in [−1, 1),
    /// uniform labels) and compares the gradient of every weight and bias tensor with central differences.
    /// </summary>
    /// <param name="kernels">The backend whose forward and backward passes are checked.</param>
    /// <param name="widths">Layer widths: input, hidden..., classes (at least 2 entries).</param>
    /// <param name="activation">The hidden-layer activation (not <see cref="Activation.Identity"/>).</param>
    /// <param name="batch">Number of random examples.</param>
    /// <param name="seed">Seed of the weights and the random data.</param>
    /// <param name="epsilon">The finite-difference step ε.</param>
    /// <returns>One result per tensor in layer order: W1, b1, W2, b2, ….</returns>
    /// <exception cref="EngineException">The widths or activation do not describe a valid network.</exception>
    public static List<GradientCheckResult> Run(IKernels kernels, int[] widths, Activation activation, int batch, ulong seed, float epsilon = 1e-2f)
    {
        var network = new Network(widths[0], widths[1..^1], widths[^1], activation);
        network.InitializeWeights(seed);
        var rng = SplitMix64.ForStream(seed, 100);
        // Non-zero biases so that every term of the derivative is exercised.
        foreach (var layer in network.Layers)
            foreach (ref float b in layer.Bias(network.Parameters)) b = 0.2f * (2f * rng.NextFloat() - 1f);
        var input = new float[batch * widths[0]];
        for (int i = 0; i < input.Length; i++) input[i] = 2f * rng.NextFloat() - 1f;
        var labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = rng.NextInt(widths[^1]);

        var workspace = new Workspace(network, batch);
        var x = new ReadOnlyMatrixView(input, batch, widths[0]);
        network.Forward(kernels, x, labels, workspace);
        network.Backward(kernels, x, labels, workspace);
        float[] analytic = workspace.Gradients.ToArray();

        double Loss() => network.Forward(kernels, new ReadOnlyMatrixView(input, batch, widths[0]), labels, workspace) / batch;

        var results = new List<GradientCheckResult>();
        for (int l = 0; l < network.Layers.Count; l++)
        {
            var layer = network.Layers[l];
            results.Add(Check($"W{l + 1}", layer.WeightOffset, layer.WeightCount));
            results.Add(Check($"b{l + 1}", layer.BiasOffset, layer.FanOut));
        }
        return results;

        GradientCheckResult Check(string name, int offset, int count)
        {
            double diff2 = 0, num2 = 0, ana2 = 0, maxAbs = 0;
            for (int i = offset; i < offset + count; i++)
            {
                float saved = network.Parameters[i];
                network.Parameters[i] = saved + epsilon;
                double plus = Loss();
                network.Parameters[i] = saved - epsilon;
                double minus = Loss();
                network.Parameters[i] = saved;
                // Divide by the step actually taken: saved ± ε is rounded to float.
                double step = (double)(saved + epsilon) - (double)(saved - epsilon);
                double numeric = (plus - minus) / step;
                double d = numeric - analytic[i];
                diff2 += d * d; num2 += numeric * numeric; ana2 += (double)analytic[i] * analytic[i];
                maxAbs = Math.Max(maxAbs, Math.Abs(d));
            }
            double denominator = Math.Sqrt(num2) + Math.Sqrt(ana2);
            return new GradientCheckResult(name, count, maxAbs, denominator == 0 ? 0 : Math.Sqrt(diff2) / denominator);
        }
    }
}
