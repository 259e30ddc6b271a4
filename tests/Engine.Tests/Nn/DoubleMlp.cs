using Engine.Kernels;

namespace Engine.Tests.Nn;

/// <summary>
/// The independent oracle for the maths: the single-example derivation in double precision, written
/// without any of the engine's code, averaged over the batch. Parameters use the interchange layout
/// W_l (fanIn, fanOut) row-major and b_l (fanOut).
/// </summary>
sealed class DoubleMlp
{
    public readonly int[] Widths;
    public readonly Activation Hidden;
    public readonly double[][] W;
    public readonly double[][] B;

    public DoubleMlp(int[] widths, Activation hidden, double[][] w, double[][] b)
    {
        Widths = widths; Hidden = hidden; W = w; B = b;
    }

    /// <summary>Copies the parameters of an engine network (float → double, exactly).</summary>
    public static DoubleMlp From(Engine.Nn.Network net)
    {
        var w = new double[net.Layers.Count][];
        var b = new double[net.Layers.Count][];
        for (int l = 0; l < net.Layers.Count; l++)
        {
            var layer = net.Layers[l];
            w[l] = net.Parameters.AsSpan(layer.WeightOffset, layer.WeightCount).ToArray().Select(v => (double)v).ToArray();
            b[l] = net.Parameters.AsSpan(layer.BiasOffset, layer.FanOut).ToArray().Select(v => (double)v).ToArray();
        }
        return new DoubleMlp(net.Widths, net.HiddenActivation, w, b);
    }

    double F(double z) => Hidden switch
    {
        Activation.Tanh => Math.Tanh(z),
        Activation.Relu => Math.Max(z, 0),
        Activation.Sigmoid => 1 / (1 + Math.Exp(-z)),
        _ => throw new ArgumentOutOfRangeException(),
    };

    double DF(double z) => Hidden switch
    {
        Activation.Tanh => 1 - Math.Tanh(z) * Math.Tanh(z),
        Activation.Relu => z > 0 ? 1 : 0,
        Activation.Sigmoid => F(z) * (1 - F(z)),
        _ => throw new ArgumentOutOfRangeException(),
    };

    /// <summary>
    /// Mean cross-entropy over the examples and its gradient (mean of per-example gradients), per layer.
    /// One example: z_l = W_lᵀ a_{l−1} + b_l, a_l = f(z_l); p = softmax(z_L); loss = −log p_y;
    /// δ_L = p − e_y; δ_{l−1} = (W_l δ_l) ⊙ f'(z_{l−1}); ∂/∂W_l = a_{l−1} δ_lᵀ; ∂/∂b_l = δ_l.
    /// </summary>
    public (double Loss, double[][] DW, double[][] DB) LossAndGradients(float[] x, int[] labels)
    {
        int layers = Widths.Length - 1, d = Widths[0], count = labels.Length;
        var dW = Enumerable.Range(0, layers).Select(l => new double[Widths[l] * Widths[l + 1]]).ToArray();
        var dB = Enumerable.Range(0, layers).Select(l => new double[Widths[l + 1]]).ToArray();
        double loss = 0;
        for (int n = 0; n < count; n++)
        {
            var a = new double[layers + 1][];
            var z = new double[layers + 1][];
            a[0] = x.AsSpan(n * d, d).ToArray().Select(v => (double)v).ToArray();
            for (int l = 1; l <= layers; l++)
            {
                int fi = Widths[l - 1], fo = Widths[l];
                z[l] = new double[fo];
                for (int j = 0; j < fo; j++)
                {
                    double s = B[l - 1][j];
                    for (int i = 0; i < fi; i++) s += a[l - 1][i] * W[l - 1][i * fo + j];
                    z[l][j] = s;
                }
                a[l] = l < layers ? z[l].Select(F).ToArray() : z[l];
            }
            double max = a[layers].Max();
            double sum = a[layers].Sum(v => Math.Exp(v - max));
            var p = a[layers].Select(v => Math.Exp(v - max) / sum).ToArray();
            loss += Math.Log(sum) - (a[layers][labels[n]] - max);

            var delta = p.ToArray();
            delta[labels[n]] -= 1;
            for (int l = layers; l >= 1; l--)
            {
                int fi = Widths[l - 1], fo = Widths[l];
                for (int i = 0; i < fi; i++)
                    for (int j = 0; j < fo; j++) dW[l - 1][i * fo + j] += a[l - 1][i] * delta[j];
                for (int j = 0; j < fo; j++) dB[l - 1][j] += delta[j];
                if (l == 1) break;
                var prev = new double[fi];
                for (int i = 0; i < fi; i++)
                {
                    double s = 0;
                    for (int j = 0; j < fo; j++) s += W[l - 1][i * fo + j] * delta[j];
                    prev[i] = s * DF(z[l - 1][i]);
                }
                delta = prev;
            }
        }
        foreach (var g in dW.Concat(dB))
            for (int i = 0; i < g.Length; i++) g[i] /= count;
        return (loss / count, dW, dB);
    }

    /// <summary>The convention's SGD step: W −= lr·(mean ∂CE/∂W + λ·W), b −= lr·mean ∂CE/∂b.</summary>
    public void SgdStep(float[] x, int[] labels, double lr, double l2)
    {
        var (_, dW, dB) = LossAndGradients(x, labels);
        for (int l = 0; l < W.Length; l++)
        {
            for (int i = 0; i < W[l].Length; i++) W[l][i] -= lr * (dW[l][i] + l2 * W[l][i]);
            for (int i = 0; i < B[l].Length; i++) B[l][i] -= lr * dB[l][i];
        }
    }
}
