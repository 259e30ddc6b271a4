using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Numerics;

namespace Engine.Tests.Kernels;

/// <summary>The small reference kernels against their definitions written out in double precision.</summary>
public class ReferenceKernelTests
{
    static readonly ReferenceKernels K = ReferenceKernels.Instance;

    [Fact]
    public void Softmax_cross_entropy_matches_double_and_is_stable_for_huge_logits()
    {
        float[] logits = [1f, 2f, 3f, -1f, 1000f, 1001f, 999f, -5000f, -50f, -50f, -50f, -50f];
        int[] labels = [2, 0, 3];
        var p = new float[12];
        double loss = K.SoftmaxCrossEntropy(new ReadOnlyMatrixView(logits, 3, 4), labels, new MatrixView(p, 3, 4));
        double expectedLoss = 0;
        for (int i = 0; i < 3; i++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < 4; j++) max = Math.Max(max, logits[i * 4 + j]);
            double sum = 0;
            for (int j = 0; j < 4; j++) sum += Math.Exp(logits[i * 4 + j] - max);
            for (int j = 0; j < 4; j++)
                Assert.Equal(Math.Exp(logits[i * 4 + j] - max) / sum, p[i * 4 + j], 6);
            expectedLoss += Math.Log(sum) - (logits[i * 4 + labels[i]] - max);
        }
        Assert.Equal(expectedLoss, loss, 4);
        Assert.True(double.IsFinite(loss));
    }

    [Fact]
    public void Softmax_cross_entropy_backward_is_p_minus_onehot_times_scale()
    {
        float[] p = [0.1f, 0.2f, 0.7f, 0.5f, 0.25f, 0.25f];
        var d = new float[6];
        K.SoftmaxCrossEntropyBackward(new ReadOnlyMatrixView(p, 2, 3), [2, 0], 0.5f, new MatrixView(d, 2, 3));
        Assert.Equal([0.05f, 0.1f, (0.7f - 1f) * 0.5f, (0.5f - 1f) * 0.5f, 0.125f, 0.125f], d);
    }

    [Fact]
    public void Column_sums_add_in_row_order()
    {
        // 1e8 + 1 + ... in float: the fixed order is part of the contract, so the result is exactly predictable.
        float[] m = [1e8f, 1f, 1f, 2f, -1e8f, 3f];
        var sums = new float[2];
        K.ColumnSums(new ReadOnlyMatrixView(m, 3, 2), sums);
        Assert.Equal(((0f + 1e8f) + 1f) + -1e8f, sums[0]);
        Assert.Equal(((0f + 1f) + 2f) + 3f, sums[1]);
    }

    [Fact]
    public void Sgd_update_is_w_minus_lr_times_g_plus_l2_w()
    {
        float[] w = [1f, -2f, 0.5f];
        float[] g = [0.1f, 0.2f, -0.3f];
        K.SgdUpdate(w, g, 0.5f, 0.01f);
        Assert.Equal(1 - 0.5 * (0.1 + 0.01 * 1), w[0], 6);
        Assert.Equal(-2 - 0.5 * (0.2 + 0.01 * -2), w[1], 6);
        Assert.Equal(0.5 - 0.5 * (-0.3 + 0.01 * 0.5), w[2], 6);
    }

    [Theory]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.Sigmoid)]
    public void Activation_backward_is_the_derivative(Activation activation)
    {
        float[] z = [-2f, -0.3f, 0.2f, 1.5f];
        var a = (float[])z.Clone();
        K.ActivationForward(activation, new MatrixView(a, 2, 2));
        float[] g = [1f, 1f, 1f, 1f];
        K.ActivationBackward(activation, new ReadOnlyMatrixView(a, 2, 2), new MatrixView(g, 2, 2));
        for (int i = 0; i < 4; i++)
        {
            double zd = z[i];
            double expected = activation switch
            {
                Activation.Tanh => 1 - Math.Tanh(zd) * Math.Tanh(zd),
                Activation.Relu => zd > 0 ? 1 : 0,
                _ => 1 / (1 + Math.Exp(-zd)) * (1 - 1 / (1 + Math.Exp(-zd))),
            };
            Assert.Equal(expected, g[i], 6);
        }
    }

    [Fact]
    public void Bias_is_added_to_every_row_and_padding_is_untouched()
    {
        float[] z = [1, 2, 99, 3, 4, 99];
        K.AddBiasToRows(new MatrixView(z, 2, 2, 3), [10f, 20f]);
        Assert.Equal([11f, 22, 99, 13, 24, 99], z);
    }
}
