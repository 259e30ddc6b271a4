using BenchmarkDotNet.Attributes;
using Engine.Kernels;
using Engine.Numerics;

namespace Engine.Bench;

/// <summary>
/// The element-wise kernels with values in their normal range against values that make subnormal operands or results
/// (issue 13, item 4), on the simd backend and the reference, 1 thread:
/// - sigmoid forward on saturated pre-activations (x below −87: e^x is subnormal) and its backward from those outputs;
/// - softmax with cross-entropy over logits 90–100 below the row's largest (large negative logits);
/// - the SGD and Adam steps of a 784×128 weight tensor in their steady state (each call continues from the last):
///   normal values with small random gradients, against a gradient of 0 (a pixel that is always blank) with weights
///   that L2 has decayed into the subnormals, and Adam moments that have decayed there (β1·m and β2·v round back to
///   themselves once small enough, so without the steps' flush they stay subnormal for good);
/// - the forward product x·W with decayed (subnormal) weights.
/// The activation and softmax calls start from the same inputs each time (copied in, in both variants alike).
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 9)]
public class UnderflowBenchmarks
{
    [Params("simd", "reference")]
    public string Backend { get; set; } = "simd";

    [Params("normal", "underflowing")]
    public string Values { get; set; } = "normal";

    const int Rows = 1000, Hidden = 128, Classes = 10, Inputs = 784;

    IKernels _kernels = null!;
    float[] _preActivations = [], _work = [], _outputs = [], _gradient = [], _logits = [], _probabilities = [];
    float[] _weights = [], _first = [], _second = [], _weightsWork = [], _firstWork = [], _secondWork = [], _stepGradient = [];
    long _adamSteps;
    float[] _x = [], _z = [];
    int[] _labels = [];

    [GlobalSetup]
    public void Setup()
    {
        _kernels = Backends.Create(Backend, 1, InstructionSets.Best);
        bool under = Values == "underflowing";
        var rng = new SplitMix64(7);

        // Pre-activations: normal in [−4, 4]; underflowing in [−100, −88] (sigmoid's e^x is subnormal there).
        _preActivations = new float[Rows * Hidden];
        for (int i = 0; i < _preActivations.Length; i++)
            _preActivations[i] = under ? -88f - 12f * rng.NextFloat() : 8f * rng.NextFloat() - 4f;
        _work = new float[_preActivations.Length];
        _outputs = (float[])_preActivations.Clone();
        _kernels.ActivationForward(Activation.Sigmoid, new MatrixView(_outputs, Rows, Hidden));
        _gradient = BenchData.Random(Rows * Hidden, 8);

        // Logits: the label's logit 0, the others normal in [−4, 4] or underflowing in [−100, −90].
        _logits = new float[Rows * Classes];
        _labels = new int[Rows];
        for (int r = 0; r < Rows; r++)
        {
            _labels[r] = r % Classes;
            for (int j = 0; j < Classes; j++)
                _logits[r * Classes + j] = j == _labels[r] ? 0f : under ? -90f - 10f * rng.NextFloat() : 8f * rng.NextFloat() - 4f;
        }
        _probabilities = new float[_logits.Length];

        // Weights and Adam moments of a 784×128 tensor: typical magnitudes, or decayed into the subnormals.
        float scale = under ? 1e-39f : 1f;
        _weights = new float[Inputs * Hidden];
        _first = new float[_weights.Length];
        _second = new float[_weights.Length];
        for (int i = 0; i < _weights.Length; i++)
        {
            _weights[i] = (rng.NextFloat() - 0.5f) * 0.1f * scale;
            _first[i] = (rng.NextFloat() - 0.5f) * 1e-3f * scale;
            _second[i] = rng.NextFloat() * 1e-6f * scale;
        }
        _weightsWork = new float[_weights.Length];
        _firstWork = new float[_weights.Length];
        _secondWork = new float[_weights.Length];
        // The steps' gradient: 0 when underflowing (a blank pixel's weights), else small values that keep the state normal.
        _stepGradient = under ? new float[_weights.Length] : BenchData.Random(_weights.Length, 10);
        if (!under) for (int i = 0; i < _stepGradient.Length; i++) _stepGradient[i] *= 1e-3f;
        _weights.CopyTo(_weightsWork, 0);
        _first.CopyTo(_firstWork, 0);
        _second.CopyTo(_secondWork, 0);
        _adamSteps = 0;

        _x = BenchData.Random(Rows * Inputs, 9);
        _z = new float[Rows * Hidden];
    }

    [GlobalCleanup]
    public void Cleanup() => _kernels.Dispose();

    [Benchmark]
    public void SigmoidForward()
    {
        _preActivations.CopyTo(_work, 0);
        _kernels.ActivationForward(Activation.Sigmoid, new MatrixView(_work, Rows, Hidden));
    }

    [Benchmark]
    public void SigmoidBackward()
    {
        _gradient.CopyTo(_work, 0);
        _kernels.ActivationBackward(Activation.Sigmoid, new ReadOnlyMatrixView(_outputs, Rows, Hidden), new MatrixView(_work, Rows, Hidden));
    }

    [Benchmark]
    public double SoftmaxCrossEntropy() =>
        _kernels.SoftmaxCrossEntropy(new ReadOnlyMatrixView(_logits, Rows, Classes), _labels, new MatrixView(_probabilities, Rows, Classes));

    [Benchmark]
    public void SgdStep() => _kernels.SgdUpdate(_weightsWork, _stepGradient, 0.1f, 1e-4f);

    [Benchmark]
    public void AdamStep() =>
        _kernels.AdamUpdate(_weightsWork, _stepGradient, _firstWork, _secondWork, Kernels.AdamStep.For(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false, 1000 + ++_adamSteps));

    [Benchmark]
    public void ForwardProduct() =>
        _kernels.Gemm(Transpose.No, Transpose.No, new ReadOnlyMatrixView(_x, Rows, Inputs), new ReadOnlyMatrixView(_weights, Inputs, Hidden),
                      new MatrixView(_z, Rows, Hidden), accumulate: false);
}
