using BenchmarkDotNet.Attributes;
using Engine.Kernels;
using Engine.Numerics;

namespace Engine.Bench;

/// <summary>
/// Each fused GEMM epilogue against its unfused path on the simd backend, on the network's own products:
/// - the hidden layer's forward z = tanh(x·W + b), 784 → 128, at a training batch (32) and an inference batch (1,000):
///   Gemm, AddBiasToRows and ActivationForward in a row, against the BiasActivation epilogue;
/// - the weight step from dW = xᵀ·dz (784×128 from batch 32): Gemm into a stored gradient and an Update over it,
///   against the UpdateWeights epilogue, for SGD and Adam.
/// Both forms give the same bits (GemmEpilogueTests); this measures what the fusion is worth.
/// </summary>
/// <summary>The operands of the network's first layer, shared by the two benchmark classes below.</summary>
public abstract class EpilogueBenchmarkData
{
    [Params(1, 2)]
    public int Threads { get; set; }

    protected abstract int Rows { get; }

    protected IKernels Kernels = null!;
    protected float[] Xs = [], Ws = [], BiasRow = [], Zs = [], Dzs = [], Gradient = [], First = [], Second = [];

    [GlobalSetup]
    public void Setup()
    {
        Kernels = Backends.Create("simd", Threads, InstructionSets.Best);
        Xs = BenchData.Random(Rows * 784, 1);
        Ws = BenchData.Random(784 * 128, 2);
        for (int i = 0; i < Ws.Length; i++) Ws[i] *= 0.05f;
        BiasRow = BenchData.Random(128, 3);
        Zs = new float[Rows * 128];
        Dzs = BenchData.Random(Rows * 128, 4);
        for (int i = 0; i < Dzs.Length; i++) Dzs[i] *= 1e-3f;
        Gradient = new float[784 * 128];
        First = new float[784 * 128];
        Second = new float[784 * 128];
    }

    [GlobalCleanup]
    public void Cleanup() => Kernels.Dispose();

    protected ReadOnlyMatrixView X => new(Xs, Rows, 784);
    protected MatrixView W => new(Ws, 784, 128);
    protected MatrixView Z => new(Zs, Rows, 128);
    protected ReadOnlyMatrixView Dz => new(Dzs, Rows, 128);
}

/// <summary>z = tanh(x·W + b), 784 → 128, at a training batch (32) and an inference batch (1,000).</summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 9)]
public class ForwardEpilogueBenchmarks : EpilogueBenchmarkData
{
    [Params(32, 1000)]
    public int Batch { get; set; }

    protected override int Rows => Batch;

    [Benchmark]
    public void ForwardUnfused()
    {
        Kernels.Gemm(Transpose.No, Transpose.No, X, W, Z, accumulate: false);
        Kernels.AddBiasToRows(Z, BiasRow);
        Kernels.ActivationForward(Activation.Tanh, Z);
    }

    [Benchmark]
    public void ForwardFused() => Epilogues.DenseForward(Kernels, X, W, null, BiasRow, Activation.Tanh, Z);
}

/// <summary>The step of W (784×128) from dW = xᵀ·dz at the training batch 32, SGD and Adam.</summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 9)]
public class UpdateEpilogueBenchmarks : EpilogueBenchmarkData
{
    protected override int Rows => 32;

    [Benchmark]
    public void SgdStepUnfused()
    {
        Kernels.Gemm(Transpose.Yes, Transpose.No, X, Dz, new MatrixView(Gradient, 784, 128), accumulate: false);
        Kernels.Update(new SgdRule(1e-3f, 1e-4f), Ws, Gradient, default, default);
    }

    [Benchmark]
    public unsafe void SgdStepFused() =>
        Kernels.Gemm(Transpose.Yes, Transpose.No, X, Dz, W, new UpdateWeights<SgdRule>(new SgdRule(1e-3f, 1e-4f), null, null, 128));

    static readonly AdamStep Adam = AdamStep.For(1e-5f, 0.9f, 0.999f, 1e-8f, 1e-4f, decoupled: false, t: 10);

    [Benchmark]
    public void AdamStepUnfused()
    {
        Kernels.Gemm(Transpose.Yes, Transpose.No, X, Dz, new MatrixView(Gradient, 784, 128), accumulate: false);
        Kernels.Update(new AdamRule(Adam), Ws, Gradient, First, Second);
    }

    /// <summary>The unfused step's update alone, over a gradient stored once (is the time in the product or in the update?).</summary>
    [Benchmark]
    public void AdamUpdateOnly() => Kernels.Update(new AdamRule(Adam), Ws, Gradient, First, Second);

    [Benchmark]
    public unsafe void AdamStepFused()
    {
        fixed (float* first = First, second = Second)
            Kernels.Gemm(Transpose.Yes, Transpose.No, X, Dz, W, new UpdateWeights<AdamRule>(new AdamRule(Adam), first, second, 128));
    }
}
