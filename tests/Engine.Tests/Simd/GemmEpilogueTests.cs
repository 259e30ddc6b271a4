using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Kernels.Simd;
using Engine.Numerics;
using Engine.Training;
using static Engine.Tests.Simd.SimdGemmEqualityTests;
using static Engine.Tests.Simd.SimdTestSupport;

namespace Engine.Tests.Simd;

/// <summary>
/// The fused GEMM epilogues beyond plain SGD (<see cref="GemmSgdUpdateTests"/>): a layer's bias + activation and the
/// stateful update rules (momentum, Nesterov, Adam, AdamW) with their state laid out like W. Each is checked twice:
/// the reference's fused form equals the unfused kernels in a row (plain product, then the element-wise step), and the
/// simd backend equals the reference on every instruction-set path and 1–3 threads, over every transpose pair, tiles
/// with edges, K past every KC block and the narrow N ≤ 16 (the fallbacks through a stored product).
/// </summary>
public class GemmEpilogueTests
{
    static readonly IKernels R = ReferenceKernels.Instance;

    public static IEnumerable<object[]> IsaThreads() =>
        from isa in SupportedIsas from threads in new[] { 1, 2, 3 } select new object[] { isa, threads };

    static readonly Transpose[] Both = [Transpose.No, Transpose.Yes];

    /// <summary>(M, N, K): the network's products (forward 32×128×784 and 32×10×128; weight gradients 784×128×32,
    /// 128×10×32), odd shapes, N ≤ 16, K = 1100 past every KC and K = 0.</summary>
    static readonly (int M, int N, int K)[] Shapes =
    [
        (32, 128, 784), (32, 10, 128), (784, 128, 32), (128, 10, 32), (1, 1, 1), (7, 33, 5), (37, 64, 48), (9, 16, 31),
        (13, 97, 300), (40, 40, 1100), (5, 9, 0), (3, 600, 784),
    ];

    static IEnumerable<(Transpose TA, Transpose TB, int M, int N, int K, int Pad)> Cases() =>
        from shape in Shapes from ta in Both from tb in Both
        select (ta, tb, shape.M, shape.N, shape.K, (shape.M + shape.N) % 3 == 0 ? 0 : 1 + shape.K % 4);

    static readonly Activation[] Activations = [Activation.Identity, Activation.Tanh, Activation.Relu, Activation.Sigmoid];

    static float[] Bias(ref SplitMix64 rng, int n)
    {
        var bias = new float[n];
        for (int j = 0; j < n; j++) bias[j] = Value(ref rng);
        return bias;
    }

    [Fact]
    public void Bias_and_activation_fused_equal_Gemm_AddBiasToRows_ActivationForward_in_the_reference()
    {
        var rng = new SplitMix64(41);
        foreach (var (ta, tb, m, n, k, pad) in Cases())
            foreach (var activation in Activations)
            {
                var a = Operand(ref rng, ta, m, k, pad);
                var b = Operand(ref rng, tb, k, n, pad);
                float[] bias = Bias(ref rng, n);
                var c0 = InitialC(ref rng, m, n, pad, accumulate: false); // garbage the epilogue must overwrite unread
                var expected = c0.Clone();
                R.Gemm(ta, tb, a.ReadOnly, b.ReadOnly, expected.View, accumulate: false);
                R.AddBiasToRows(expected.View, bias);
                R.ActivationForward(activation, expected.View);
                var got = c0.Clone();
                DenseForward(R, ta, tb, a, b, bias, activation, got);
                Assert.True(GuardedMatrix.FirstDifference(got, expected, anyNaN: false) is null, $"{activation} {ta}/{tb} {m}x{n}x{k}");
            }
    }

    [Theory]
    [MemberData(nameof(IsaThreads))]
    public void Bias_and_activation_fused_in_simd_equal_the_reference(InstructionSet isa, int threads)
    {
        using var simd = new SimdKernels(isa, threads);
        var rng = new SplitMix64(43);
        var failures = new List<string>();
        foreach (var (ta, tb, m, n, k, pad) in Cases())
            foreach (var activation in Activations)
            {
                var a = Operand(ref rng, ta, m, k, pad, sparse: rng.NextInt(4) == 0);
                var b = Operand(ref rng, tb, k, n, pad);
                float[] bias = Bias(ref rng, n);
                var c0 = InitialC(ref rng, m, n, pad, accumulate: false);
                var expected = c0.Clone();
                DenseForward(R, ta, tb, a, b, bias, activation, expected);
                var got = c0.Clone();
                DenseForward(simd, ta, tb, a, b, bias, activation, got);
                if (GuardedMatrix.FirstDifference(got, expected, anyNaN: false) is { } diff)
                    failures.Add($"{activation} {ta}/{tb} {m}x{n}x{k} pad {pad}: {diff}");
            }
        Assert.True(failures.Count == 0, $"{isa.Name()} threads {threads}:\n" + string.Join("\n", failures.Take(20)));
    }

    /// <summary>Epilogues.DenseForward with any transposes (the layer itself only multiplies untransposed).</summary>
    static unsafe void DenseForward(IKernels kernels, Transpose ta, Transpose tb, GuardedMatrix a, GuardedMatrix b, float[] bias, Activation activation, GuardedMatrix c)
    {
        if (ta == Transpose.No && tb == Transpose.No)
        {
            Epilogues.DenseForward(kernels, a.ReadOnly, b.ReadOnly, null, bias, activation, c.View);
            return;
        }
        fixed (float* pb = bias)
        {
            switch (activation)
            {
                case Activation.Identity: kernels.Gemm(ta, tb, a.ReadOnly, b.ReadOnly, c.View, new BiasActivation<IdentityOperator>(pb)); break;
                case Activation.Tanh: kernels.Gemm(ta, tb, a.ReadOnly, b.ReadOnly, c.View, new BiasActivation<TanhOperator>(pb)); break;
                case Activation.Relu: kernels.Gemm(ta, tb, a.ReadOnly, b.ReadOnly, c.View, new BiasActivation<ReluOperator>(pb)); break;
                default: kernels.Gemm(ta, tb, a.ReadOnly, b.ReadOnly, c.View, new BiasActivation<SigmoidOperator>(pb)); break;
            }
        }
    }

    /// <summary>The stateful rules, one of each, with L2 (or AdamW's decay) on.</summary>
    static readonly OptimizerKind[] StatefulKinds = [OptimizerKind.Momentum, OptimizerKind.Nesterov, OptimizerKind.Adam, OptimizerKind.AdamW];

    /// <summary>
    /// One fused weight step: W ← rule(W, op(A)·op(B)) with the state in matrices laid out like W (row stride = W's).
    /// <paramref name="fused"/> false: the definition, the stored product then the unfused Update on each row.
    /// </summary>
    static unsafe void Step(IKernels kernels, OptimizerKind kind, Transpose ta, Transpose tb, GuardedMatrix a, GuardedMatrix b,
        GuardedMatrix w, GuardedMatrix s1, GuardedMatrix s2, bool fused)
    {
        float lr = 0.01f, l2 = 1e-3f;
        switch (kind)
        {
            case OptimizerKind.Momentum or OptimizerKind.Nesterov:
                Run(new MomentumRule(lr, l2, 0.9f, kind == OptimizerKind.Nesterov));
                break;
            default:
                Run(new AdamRule(AdamStep.For(lr, 0.9f, 0.999f, 1e-8f, l2, kind == OptimizerKind.AdamW, 3)));
                break;
        }

        void Run<TRule>(TRule rule) where TRule : struct, IUpdateRule
        {
            if (fused)
            {
                fixed (float* p1 = s1.Buffer, p2 = s2.Buffer)
                    kernels.Gemm(ta, tb, a.ReadOnly, b.ReadOnly, w.View,
                        new UpdateWeights<TRule>(rule, p1 + s1.Start, TRule.StateVectors >= 2 ? p2 + s2.Start : null, w.Stride));
                return;
            }
            var g = new float[w.Rows * w.Cols];
            kernels.Gemm(ta, tb, a.ReadOnly, b.ReadOnly, new MatrixView(g, w.Rows, w.Cols), accumulate: false);
            for (int i = 0; i < w.Rows; i++)
                kernels.Update(rule, w.View.Row(i), g.AsSpan(i * w.Cols, w.Cols), s1.View.Row(i), TRule.StateVectors >= 2 ? s2.View.Row(i) : default);
        }
    }

    /// <summary>W and its state matrices with the same row stride (the state is laid out like W), random state values.</summary>
    static (GuardedMatrix W, GuardedMatrix S1, GuardedMatrix S2) Weights(ref SplitMix64 rng, int m, int n, int pad)
    {
        var w = InitialC(ref rng, m, n, pad, accumulate: true);
        var s1 = InitialC(ref rng, m, n, pad, accumulate: true);
        var s2 = InitialC(ref rng, m, n, pad, accumulate: true);
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) s2[i, j] = MathF.Abs(s2[i, j]); // Adam's v ≥ 0
        return (w, s1, s2);
    }

    [Fact]
    public void Stateful_rules_fused_equal_the_stored_product_then_Update_in_the_reference()
    {
        var rng = new SplitMix64(47);
        foreach (var (ta, tb, m, n, k, pad) in Cases())
            foreach (var kind in StatefulKinds)
            {
                var a = Operand(ref rng, ta, m, k, pad);
                var b = Operand(ref rng, tb, k, n, pad);
                var (w, s1, s2) = Weights(ref rng, m, n, pad);
                var (ew, es1, es2) = (w.Clone(), s1.Clone(), s2.Clone());
                Step(R, kind, ta, tb, a, b, ew, es1, es2, fused: false);
                Step(R, kind, ta, tb, a, b, w, s1, s2, fused: true);
                foreach (var (got, expected, name) in new[] { (w, ew, "W"), (s1, es1, "first state"), (s2, es2, "second state") })
                    Assert.True(GuardedMatrix.FirstDifference(got, expected, anyNaN: false) is null, $"{kind} {name} {ta}/{tb} {m}x{n}x{k}");
            }
    }

    [Theory]
    [MemberData(nameof(IsaThreads))]
    public void Stateful_rules_fused_in_simd_equal_the_reference(InstructionSet isa, int threads)
    {
        using var simd = new SimdKernels(isa, threads);
        var rng = new SplitMix64(53);
        var failures = new List<string>();
        foreach (var (ta, tb, m, n, k, pad) in Cases())
            foreach (var kind in StatefulKinds)
            {
                var a = Operand(ref rng, ta, m, k, pad, sparse: rng.NextInt(4) == 0);
                var b = Operand(ref rng, tb, k, n, pad);
                var (w, s1, s2) = Weights(ref rng, m, n, pad);
                var (ew, es1, es2) = (w.Clone(), s1.Clone(), s2.Clone());
                Step(R, kind, ta, tb, a, b, ew, es1, es2, fused: true);
                Step(simd, kind, ta, tb, a, b, w, s1, s2, fused: true);
                foreach (var (got, expected, name) in new[] { (w, ew, "W"), (s1, es1, "first state"), (s2, es2, "second state") })
                    if (GuardedMatrix.FirstDifference(got, expected, anyNaN: true) is { } diff)
                        failures.Add($"{kind} {name} {ta}/{tb} {m}x{n}x{k} pad {pad}: {diff}");
            }
        Assert.True(failures.Count == 0, $"{isa.Name()} threads {threads}:\n" + string.Join("\n", failures.Take(20)));
    }
}
