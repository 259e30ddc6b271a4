using Engine.Numerics;
using Engine.Data;
using Engine.Evaluation;
using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Kernels.Simd;
using Engine.Nn;
using Engine.Tests.Data;
using Engine.Tests.Support;
using Engine.Training;
using Xunit;

namespace Engine.Tests.Training;

/// <summary>
/// The optimizers and schedules follow PyTorch's conventions: each float32 kernel, on both backends, tracks a float64
/// transcription of the algorithm as torch.optim's documentation and code state it (SGD with momentum/dampening 0 and
/// Nesterov, Adam, AdamW; StepLR, and CosineAnnealingLR in its recursive form) over many steps; the conventions are
/// far enough apart that the tolerance tells each from the others. Early stopping keeps the best epoch's weights.
/// </summary>
public class OptimizerConventionTests
{
    const int Length = 301, Steps = 60;
    const double Tolerance = 2e-5; // float32 rounding over 60 steps on values of order 1 stays below ~5e-6

    /// <summary>torch.optim's algorithms in double (lr γ, weight decay λ applied to every element here).</summary>
    static double[] PyTorchFloat64(OptimizerKind kind, double[] theta0, double[][] gradients, double lr, double l2,
                                   double mu = 0.9, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        var theta = (double[])theta0.Clone();
        var b = new double[theta.Length];
        var m = new double[theta.Length];
        var v = new double[theta.Length];
        for (int t = 1; t <= gradients.Length; t++)
            for (int i = 0; i < theta.Length; i++)
            {
                double g = gradients[t - 1][i];
                switch (kind)
                {
                    case OptimizerKind.Sgd:
                        theta[i] -= lr * (g + l2 * theta[i]);
                        break;
                    case OptimizerKind.Momentum or OptimizerKind.Nesterov:
                        g += l2 * theta[i];
                        b[i] = t > 1 ? mu * b[i] + g : g;                  // dampening 0
                        theta[i] -= lr * (kind == OptimizerKind.Nesterov ? g + mu * b[i] : b[i]);
                        break;
                    default:
                        if (kind == OptimizerKind.AdamW) theta[i] *= 1 - lr * l2; // decoupled decay first
                        else g += l2 * theta[i];
                        m[i] = beta1 * m[i] + (1 - beta1) * g;
                        v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                        double mHat = m[i] / (1 - Math.Pow(beta1, t)), vHat = v[i] / (1 - Math.Pow(beta2, t));
                        theta[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
                        break;
                }
            }
        return theta;
    }

    static (float[] Theta, float[][] Gradients) Problem(ulong seed)
    {
        var rng = new SplitMix64(seed);
        var theta = new float[Length];
        for (int i = 0; i < Length; i++) theta[i] = 2 * rng.NextFloat() - 1;
        var gradients = new float[Steps][];
        for (int t = 0; t < Steps; t++)
        {
            gradients[t] = new float[Length];
            // Gradients of mixed scale and sign, some tiny (Adam's ε matters there), drifting with t.
            for (int i = 0; i < Length; i++)
                gradients[t][i] = i % 7 == 0 ? (2 * rng.NextFloat() - 1) * 1e-6f : (2 * rng.NextFloat() - 1) * 0.5f + 0.1f * MathF.Sin(i + t);
        }
        return (theta, gradients);
    }

    static float[] RunKernel(IKernels kernels, OptimizerKind kind, float[] theta0, float[][] gradients, float lr, float l2)
    {
        var w = (float[])theta0.Clone();
        var first = new float[w.Length];
        var second = new float[w.Length];
        for (int t = 1; t <= gradients.Length; t++)
        {
            switch (kind)
            {
                case OptimizerKind.Sgd: kernels.SgdUpdate(w, gradients[t - 1], lr, l2); break;
                case OptimizerKind.Momentum or OptimizerKind.Nesterov:
                    kernels.MomentumUpdate(w, gradients[t - 1], first, lr, l2, 0.9f, kind == OptimizerKind.Nesterov); break;
                default:
                    kernels.AdamUpdate(w, gradients[t - 1], first, second, AdamStep.For(lr, 0.9f, 0.999f, 1e-8f, l2, kind == OptimizerKind.AdamW, t)); break;
            }
        }
        return w;
    }

    static double MaxDifference(float[] a, double[] b) => a.Select((x, i) => Math.Abs(x - b[i])).Max();
    static double MaxDifference(double[] a, double[] b) => a.Select((x, i) => Math.Abs(x - b[i])).Max();

    static float Rate(OptimizerKind kind) => kind switch { OptimizerKind.Sgd => 0.1f, OptimizerKind.Momentum or OptimizerKind.Nesterov => 0.01f, _ => 0.01f };

    public static IEnumerable<object[]> KindsAndBackends() =>
        from kind in Enum.GetValues<OptimizerKind>() from backend in new[] { "reference", "simd" } from l2 in new[] { 0f, 0.05f }
        select new object[] { kind, backend, l2 };

    [Theory]
    [MemberData(nameof(KindsAndBackends))]
    public void Each_optimizer_tracks_its_float64_PyTorch_transcription(OptimizerKind kind, string backend, float l2)
    {
        var (theta, gradients) = Problem(17);
        float lr = Rate(kind);
        using IKernels kernels = backend == "simd" ? new SimdKernels(InstructionSets.Best, 2) : ReferenceKernels.Instance;
        float[] got = RunKernel(kernels, kind, theta, gradients, lr, l2);
        double[] expected = PyTorchFloat64(kind, theta.Select(x => (double)x).ToArray(),
                                           gradients.Select(g => g.Select(x => (double)x).ToArray()).ToArray(), lr, l2);
        double difference = MaxDifference(got, expected);
        Assert.True(difference < Tolerance, $"{kind} on {backend}, λ {l2}: max |float32 − float64| = {difference:E3} after {Steps} steps");
        Assert.True(MaxDifference(expected, theta.Select(x => (double)x).ToArray()) > 100 * Tolerance, "the weights must move");
    }

    [Fact]
    public void The_conventions_are_told_apart_by_the_tolerance()
    {
        // Near-miss variants a kernel could implement by mistake, each far outside the tolerance from the real thing.
        var (theta, gradients) = Problem(18);
        double[] t0 = theta.Select(x => (double)x).ToArray();
        double[][] g = gradients.Select(r => r.Select(x => (double)x).ToArray()).ToArray();
        var runs = new Dictionary<string, double[]>
        {
            ["momentum"] = PyTorchFloat64(OptimizerKind.Momentum, t0, g, 0.01, 0.05),
            ["nesterov"] = PyTorchFloat64(OptimizerKind.Nesterov, t0, g, 0.01, 0.05),
            ["adam"] = PyTorchFloat64(OptimizerKind.Adam, t0, g, 0.01, 0.05),
            ["adamw"] = PyTorchFloat64(OptimizerKind.AdamW, t0, g, 0.01, 0.05),
            ["adam λ 0"] = PyTorchFloat64(OptimizerKind.Adam, t0, g, 0.01, 0),
            ["adam λ 0 ε 1e-6"] = PyTorchFloat64(OptimizerKind.Adam, t0, g, 0.01, 0, eps: 1e-6),
            ["adam λ 0 ε inside the root"] = PyTorchFloat64(OptimizerKind.Adam, t0, g, 0.01, 0, eps: 1e-16),
            ["adam β2 0.99"] = PyTorchFloat64(OptimizerKind.Adam, t0, g, 0.01, 0.05, beta2: 0.99),
            ["momentum μ 0.8"] = PyTorchFloat64(OptimizerKind.Momentum, t0, g, 0.01, 0.05, mu: 0.8),
        };
        foreach (var (a, x) in runs)
            foreach (var (b, y) in runs)
                if (string.CompareOrdinal(a, b) < 0)
                    Assert.True(MaxDifference(x, y) > 10 * Tolerance, $"{a} and {b} differ by only {MaxDifference(x, y):E3}");
    }

    [Fact]
    public void Adam_without_bias_correction_would_fail_the_check()
    {
        // The first Adam step moves every weight with a non-tiny gradient by about lr (PyTorch's bias correction);
        // without it the step would be ~lr·(1−β1)/√(1−β2) ≈ 3.2·lr.
        var w = new float[] { 0.5f, -0.25f, 1f };
        var g = new float[] { 0.3f, -2f, 1e-3f };
        ReferenceKernels.Instance.AdamUpdate(w, g, new float[3], new float[3], AdamStep.For(0.01f, 0.9f, 0.999f, 1e-8f, 0f, false, 1));
        Assert.Equal(0.49, w[0], 1e-6);
        Assert.Equal(-0.24, w[1], 1e-6);
        Assert.Equal(0.99, w[2], 1e-4);
    }

    [Fact]
    public void Biases_get_no_weight_decay_and_weights_do()
    {
        var net = new Network(6, [4], 3, Activation.Tanh);
        net.InitializeWeights(5);
        float[] before = net.Parameters.ToArray();
        var zeroGradients = new float[before.Length];
        foreach (var kind in Enum.GetValues<OptimizerKind>())
        {
            before.CopyTo(net.Parameters);
            new OptimizerState(new Optimizer(kind), before.Length).Apply(ReferenceKernels.Instance, net, zeroGradients, 0.1f, 0.5f);
            foreach (DenseLayer layer in net.Layers)
            {
                for (int i = layer.BiasOffset; i < layer.BiasOffset + layer.FanOut; i++)
                    Assert.True(before[i] == net.Parameters[i], $"{kind}: bias {i} changed under a zero gradient");
                int moved = Enumerable.Range(layer.WeightOffset, layer.WeightCount).Count(i => before[i] != 0 && net.Parameters[i] != before[i]);
                Assert.True(moved == layer.WeightCount, $"{kind}: only {moved} of {layer.WeightCount} weights decayed");
            }
        }
    }

    [Fact]
    public void Schedules_match_PyTorch_StepLR_and_the_recursive_CosineAnnealingLR()
    {
        const double lr = 0.05, min = 0.001;
        const int epochs = 17;
        var step = new LearningRateSchedule(ScheduleKind.Step, StepEpochs: 4, Gamma: 0.3f);
        var cosine = new LearningRateSchedule(ScheduleKind.Cosine, MinLearningRate: (float)min);
        // PyTorch steps the scheduler after each epoch: epoch e (from 1) runs with last_epoch = e − 1.
        double recursive = lr;
        for (int e = 1; e <= epochs; e++)
        {
            int last = e - 1;
            double stepLr = lr * Math.Pow(0.3f, last / 4);
            Assert.Equal(stepLr, step.RateAt(e, epochs, (float)lr), stepLr * 1e-6);
            if (last > 0) // CosineAnnealingLR.get_lr, the chainable form
                recursive = (1 + Math.Cos(Math.PI * last / epochs)) / (1 + Math.Cos(Math.PI * (last - 1) / epochs)) * (recursive - min) + min;
            Assert.Equal(recursive, cosine.RateAt(e, epochs, (float)lr), 1e-8);
            Assert.Equal((float)lr, LearningRateSchedule.Constant.RateAt(e, epochs, (float)lr));
        }
    }

    [Fact]
    public void The_epoch_reports_show_the_scheduled_rate()
    {
        var all = DataSource.Load(RepoPaths.BundledData);
        var train = InputScaling.Divide(255f).Apply(all.Train.Subset(Enumerable.Range(0, 200).ToArray(), "200"));
        var net = new Network(784, [8], 10, Activation.Tanh);
        net.InitializeWeights(1);
        var options = new TrainingOptions(5, 50, 0.08f, 0f, 1, true) { Schedule = new LearningRateSchedule(ScheduleKind.Step, StepEpochs: 2, Gamma: 0.5f) };
        var reports = new Trainer(net, ReferenceKernels.Instance, options).Train(train, null);
        Assert.Equal([0.08f, 0.08f, 0.04f, 0.04f, 0.02f], reports.Select(r => r.LearningRate));
    }

    [Theory]
    [InlineData("reference")]
    [InlineData("simd")]
    public void Early_stopping_stops_after_the_patience_and_keeps_the_best_weights(string backend)
    {
        // 300 examples and a large Adam step overfit fast: the validation loss turns up within a few epochs.
        var all = DataSource.Load(RepoPaths.BundledData);
        var scaling = InputScaling.Divide(255f);
        var train = scaling.Apply(all.Train.Subset(Enumerable.Range(0, 300).ToArray(), "300"));
        var validation = scaling.Apply(all.Train.Subset(Enumerable.Range(300, 500).ToArray(), "500"));
        using IKernels kernels = backend == "simd" ? new SimdKernels(InstructionSets.Best, 2) : ReferenceKernels.Instance;
        var net = new Network(784, [64], 10, Activation.Relu);
        net.InitializeWeights(4);
        const int patience = 3, epochs = 40;
        var options = new TrainingOptions(epochs, 16, 0.01f, 0f, 2, true) { Optimizer = new Optimizer(OptimizerKind.Adam), EarlyStoppingPatience = patience };
        var reports = new Trainer(net, kernels, options).Train(train, validation);

        Assert.True(reports.Count < epochs, $"ran all {epochs} epochs; validation losses {string.Join(", ", reports.Select(r => r.TestLoss))}");
        int best = reports.Select((r, i) => (r.TestLoss!.Value, i)).Min().i;
        Assert.Equal(reports.Count - 1 - patience, best); // stopped exactly `patience` epochs after the best
        double kept = Evaluator.Evaluate(net, kernels, validation).Loss;
        Assert.True(kept == reports[best].TestLoss, $"the network holds weights with validation loss {kept:R}, the best epoch had {reports[best].TestLoss:R}");
    }

    [Theory]
    [InlineData(OptimizerKind.Momentum)]
    [InlineData(OptimizerKind.Nesterov)]
    [InlineData(OptimizerKind.Adam)]
    [InlineData(OptimizerKind.AdamW)]
    public void A_training_step_with_any_optimizer_allocates_nothing(OptimizerKind kind)
    {
        var net = new Network(784, [64], 10, Activation.Tanh);
        net.InitializeWeights(3);
        using var simd = new SimdKernels(InstructionSets.Best, 2);
        var trainer = new Trainer(net, simd, new TrainingOptions(1, 32, 0.001f, 1e-4f, 0, false) { Optimizer = new Optimizer(kind) });
        var x = new float[32 * 784];
        for (int i = 0; i < x.Length; i++) x[i] = (i * 7919 % 255) / 255f;
        int[] y = Enumerable.Range(0, 32).Select(i => i % 10).ToArray();
        var view = new Engine.Numerics.ReadOnlyMatrixView(x, 32, 784);
        trainer.Step(view, y);
        Assert.Equal(0, SteadyState.AllocatedBytes(() => trainer.Step(new Engine.Numerics.ReadOnlyMatrixView(x, 32, 784), y), calls: 5));
    }

    [Fact]
    public void Early_stopping_without_an_evaluation_set_is_refused()
    {
        var net = new Network(4, [3], 2, Activation.Tanh);
        var data = new Dataset(new float[8], [0, 1], 2, 4, "tiny");
        var options = new TrainingOptions(2, 1, 0.1f, 0f, 0, false) { EarlyStoppingPatience = 1 };
        var e = Assert.Throws<EngineException>(() => new Trainer(net, ReferenceKernels.Instance, options).Train(data, null));
        Assert.Contains("evaluation set", e.Message);
    }
}
