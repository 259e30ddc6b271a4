using BenchmarkDotNet.Attributes;
using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Nn;
using Engine.Numerics;
using Engine.Training;

namespace Engine.Bench;

/// <summary>One SGD step (forward, backward, update) of 784-128-10 tanh at batch 32 on the reference backend.
/// The memory diagnoser shows the steady-state allocation per step (the design's target: 0 B).</summary>
[MemoryDiagnoser]
public class TrainingStepBenchmarks
{
    Trainer _trainer = null!;
    float[] _x = [];
    int[] _y = [];

    [GlobalSetup]
    public void Setup()
    {
        var net = new Network(784, [128], 10, Activation.Tanh);
        net.InitializeWeights(0);
        _trainer = new Trainer(net, ReferenceKernels.Instance, new TrainingOptions(1, 32, 0.1f, 1e-4f, 0, false));
        var rng = new SplitMix64(2);
        _x = new float[32 * 784];
        for (int i = 0; i < _x.Length; i++) _x[i] = rng.NextFloat();
        _y = new int[32];
        for (int i = 0; i < 32; i++) _y[i] = rng.NextInt(10);
    }

    [Benchmark]
    public double Step() => _trainer.Step(new ReadOnlyMatrixView(_x, 32, 784), _y);
}
