using BenchmarkDotNet.Attributes;
using Engine.Data;
using Engine.Evaluation;
using Engine.Kernels;
using Engine.Nn;
using Engine.Numerics;
using Engine.Training;

namespace Engine.Bench;

/// <summary>
/// One SGD step (forward, backward, update) of 784-128-10 tanh per backend and thread count; the memory
/// diagnoser shows the steady-state allocation per step (target: 0 B).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 7)]
public class TrainingStepBenchmarks
{
    [Params("reference", "simd")]
    public string Backend { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    [Params(32, 128)]
    public int Batch { get; set; }

    IKernels _kernels = null!;
    Trainer _trainer = null!;
    float[] _x = [];
    int[] _y = [];

    [GlobalSetup]
    public void Setup()
    {
        var net = new Network(784, [128], 10, Activation.Tanh);
        net.InitializeWeights(0);
        _kernels = Backends.Create(Backend, Threads, InstructionSets.Best);
        _trainer = new Trainer(net, _kernels, new TrainingOptions(1, Batch, 0.01f, 1e-4f, 0, false));
        _x = BenchData.Random(Batch * 784, 2);
        for (int i = 0; i < _x.Length; i++) _x[i] += 0.5f;
        var rng = new SplitMix64(3);
        _y = new int[Batch];
        for (int i = 0; i < Batch; i++) _y[i] = rng.NextInt(10);
    }

    [GlobalCleanup]
    public void Cleanup() => _kernels.Dispose();

    [Benchmark]
    public double Step() => _trainer.Step(new ReadOnlyMatrixView(_x, Batch, 784), _y).LossSum;
}

/// <summary>
/// A full training epoch of Fashion-MNIST (60,000 images, 784-128-10 tanh, batch 32, shuffled) on the simd
/// backend, and inference on 10,000 images in batches of 1,000. Samples/s = 60,000 / mean (10,000 / mean).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class EpochBenchmarks
{
    [Params(1, 2)]
    public int Threads { get; set; }

    [Params(32, 128)]
    public int Batch { get; set; }

    Dataset _train = null!, _inference = null!;
    IKernels _kernels = null!;
    Network _network = null!;
    Trainer _trainer = null!;
    int _epoch;

    [GlobalSetup]
    public void Setup()
    {
        _train = BenchData.TrainingSet();
        _inference = _train.Subset(Enumerable.Range(0, 10_000).ToArray(), "first 10000");
        _kernels = Backends.Create("simd", Threads, InstructionSets.Best);
        _network = new Network(784, [128], 10, Activation.Tanh);
        _network.InitializeWeights(0);
        _trainer = new Trainer(_network, _kernels, new TrainingOptions(1, Batch, 0.1f, 1e-4f, 0, true));
    }

    [GlobalCleanup]
    public void Cleanup() => _kernels.Dispose();

    [Benchmark]
    public double TrainEpoch() => _trainer.RunEpoch(_train, ++_epoch).MeanLoss;

    [Benchmark]
    public float Inference10k() => Evaluator.Predict(_network, _kernels, _inference, batchSize: 1000, _workspaces)[0];

    // Kept between calls, as a Classifier keeps them: repeated predictions reuse their buffers.
    readonly InferenceWorkspaces _workspaces = new();
}
