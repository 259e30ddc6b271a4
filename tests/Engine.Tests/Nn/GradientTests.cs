using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Nn;
using Engine.Numerics;
using Engine.Training;

namespace Engine.Tests.Nn;

/// <summary>
/// The reference backend's loss and every gradient tensor against the double-precision per-example oracle;
/// the oracle against central finite differences in double; the engine's own float32 gradient check.
/// </summary>
public class GradientTests
{
    public static IEnumerable<object[]> Cases() =>
    [
        [new[] { 5, 4, 3 }, Activation.Tanh, 1],
        [new[] { 784, 32, 10 }, Activation.Tanh, 32],
        [new[] { 13, 9, 7, 5 }, Activation.Tanh, 17],
        [new[] { 13, 9, 7, 5 }, Activation.Relu, 17],
        [new[] { 13, 9, 7, 5 }, Activation.Sigmoid, 17],
        [new[] { 31, 2 }, Activation.Tanh, 33],
    ];

    static (Network Net, float[] X, int[] Y) Problem(int[] widths, Activation act, int batch, ulong seed)
    {
        var net = new Network(widths[0], widths[1..^1], widths[^1], act);
        net.InitializeWeights(seed);
        var rng = new SplitMix64(seed + 7);
        foreach (var layer in net.Layers)
            foreach (ref float b in layer.Bias(net.Parameters)) b = 0.1f * (2f * rng.NextFloat() - 1f);
        var x = new float[batch * widths[0]];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
        var y = new int[batch];
        for (int i = 0; i < batch; i++) y[i] = rng.NextInt(widths[^1]);
        return (net, x, y);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reference_loss_and_gradients_match_the_double_precision_oracle(int[] widths, Activation act, int batch)
    {
        var (net, x, y) = Problem(widths, act, batch, 11);
        var ws = new Workspace(net, batch);
        var input = new ReadOnlyMatrixView(x, batch, widths[0]);
        double loss = net.Forward(ReferenceKernels.Instance, input, y, ws) / batch;
        net.Backward(ReferenceKernels.Instance, input, y, ws);

        var oracle = DoubleMlp.From(net).LossAndGradients(x, y);
        Assert.True(Math.Abs(loss - oracle.Loss) <= 1e-6 * Math.Abs(oracle.Loss), $"loss {loss} vs oracle {oracle.Loss}");
        for (int l = 0; l < net.Layers.Count; l++)
        {
            var layer = net.Layers[l];
            AssertClose($"W{l + 1}", ws.Gradients.AsSpan(layer.WeightOffset, layer.WeightCount), oracle.DW[l]);
            AssertClose($"b{l + 1}", ws.Gradients.AsSpan(layer.BiasOffset, layer.FanOut), oracle.DB[l]);
        }
    }

    /// <summary>Every element within 1e-5 of the tensor's largest entry, and 1e-5 relative in the 2-norm.</summary>
    static void AssertClose(string name, ReadOnlySpan<float> got, double[] expected)
    {
        double scale = expected.Max(Math.Abs), diff2 = 0, norm2 = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = got[i] - expected[i];
            Assert.True(Math.Abs(d) <= 1e-5 * scale + 1e-12, $"{name}[{i}] = {got[i]:R}, oracle {expected[i]:R}");
            diff2 += d * d; norm2 += expected[i] * expected[i];
        }
        Assert.True(Math.Sqrt(diff2) <= 1e-5 * Math.Sqrt(norm2) + 1e-12, $"{name}: relative error {Math.Sqrt(diff2 / norm2):E2}");
    }

    [Theory]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.Sigmoid)]
    public void Oracle_gradients_match_central_differences_in_double(Activation act)
    {
        var (net, x, y) = Problem([6, 5, 4, 3], act, 4, 3);
        var oracle = DoubleMlp.From(net);
        var (_, dW, dB) = oracle.LossAndGradients(x, y);
        const double h = 1e-6;
        foreach (var (parameters, gradients) in oracle.W.Zip(dW).Concat(oracle.B.Zip(dB)))
            for (int i = 0; i < parameters.Length; i++)
            {
                double saved = parameters[i];
                parameters[i] = saved + h;
                double plus = oracle.LossAndGradients(x, y).Loss;
                parameters[i] = saved - h;
                double minus = oracle.LossAndGradients(x, y).Loss;
                parameters[i] = saved;
                double numeric = (plus - minus) / (2 * h);
                Assert.True(Math.Abs(numeric - gradients[i]) <= 1e-7 + 1e-6 * Math.Abs(gradients[i]), $"numeric {numeric:R} vs analytic {gradients[i]:R}");
            }
    }

    [Theory]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.Sigmoid)]
    public void Engine_gradient_check_passes_for_every_tensor(Activation act)
    {
        var results = GradientCheck.Run(ReferenceKernels.Instance, [7, 6, 5, 4], act, batch: 5, seed: 1);
        Assert.Equal(6, results.Count);
        foreach (var r in results) Assert.True(r.RelativeError < 1e-3, $"{r.Tensor}: relative error {r.RelativeError:E2}");
    }

    [Fact]
    public void Gradient_check_detects_a_wrong_gradient()
    {
        // A backend whose bias gradient is off by 1 % must fail the check: the check can fail.
        var results = GradientCheck.Run(new SkewedBiasGradient(), [7, 6, 4], Activation.Tanh, batch: 5, seed: 1);
        Assert.Contains(results, r => r.Tensor == "b1" && r.RelativeError > 3e-3);
    }

    sealed class SkewedBiasGradient : IKernels
    {
        readonly ReferenceKernels _r = ReferenceKernels.Instance;
        public string Name => "skewed";
        public void Gemm(Transpose ta, Transpose tb, ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView c, bool acc) => _r.Gemm(ta, tb, a, b, c, acc);
        void IKernels.Gemm<TEpilogue>(Transpose ta, Transpose tb, ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView c, in TEpilogue e) => _r.Gemm(ta, tb, a, b, c, e);
        void IKernels.Update<TRule>(in TRule rule, Span<float> w, ReadOnlySpan<float> g, Span<float> s1, Span<float> s2) => _r.Update(rule, w, g, s1, s2);
        public void AddBiasToRows(MatrixView z, ReadOnlySpan<float> bias) => _r.AddBiasToRows(z, bias);
        public void ActivationForward(Activation a, MatrixView z) => _r.ActivationForward(a, z);
        public void ActivationBackward(Activation a, ReadOnlyMatrixView o, MatrixView g) => _r.ActivationBackward(a, o, g);
        public double SoftmaxCrossEntropy(ReadOnlyMatrixView l, ReadOnlySpan<int> y, MatrixView p) => _r.SoftmaxCrossEntropy(l, y, p);
        public void SoftmaxCrossEntropyBackward(ReadOnlyMatrixView p, ReadOnlySpan<int> y, float s, MatrixView d) => _r.SoftmaxCrossEntropyBackward(p, y, s, d);
        public void ColumnSums(ReadOnlyMatrixView m, Span<float> sums)
        {
            _r.ColumnSums(m, sums);
            foreach (ref float s in sums) s *= 1.01f;
        }
        public void BytesToFloats(ReadOnlySpan<byte> s, Span<float> d, float divisor) => _r.BytesToFloats(s, d, divisor);
        public void SgdUpdate(Span<float> w, ReadOnlySpan<float> g, float lr, float l2) => _r.SgdUpdate(w, g, lr, l2);
        public void MomentumUpdate(Span<float> w, ReadOnlySpan<float> g, Span<float> v, float lr, float l2, float mu, bool nesterov) => _r.MomentumUpdate(w, g, v, lr, l2, mu, nesterov);
        public void AdamUpdate(Span<float> w, ReadOnlySpan<float> g, Span<float> m, Span<float> v, in AdamStep step) => _r.AdamUpdate(w, g, m, v, step);
    }
}
