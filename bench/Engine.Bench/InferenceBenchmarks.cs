using BenchmarkDotNet.Attributes;
using Engine.Data;
using Engine.Kernels;
using Microsoft.ML.OnnxRuntime;

namespace Engine.Bench;

/// <summary>
/// Inference through the public API beside ONNX Runtime on the same model, the same raw float32 rows and the same
/// threads: 10,000 Fashion-MNIST images (raw 0..255 values; both apply the model's scaling) through 784-128-10 tanh (or the
/// networks ENGINE_BENCH_HIDDEN names),
/// in calls of Batch rows. The engine: <see cref="Classifier.PredictProbabilities(ReadOnlySpan{float}, Span{float})"/>
/// into the caller's memory. ONNX Runtime (MLAS): the engine's own ONNX export, all graph optimisations, IntraOpNumThreads
/// = Threads, input and output OrtValues made once over the same memory (the fastest way to call it). Images/s =
/// 10,000 / mean; per call = mean · Batch / 10,000.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 9)]
public class InferenceBenchmarks
{
    const int Images = 10_000, Width = 784, Classes = 10;

    [Params(1, 2)]
    public int Threads { get; set; }

    [Params(1, 32, 1000)]
    public int Batch { get; set; }

    /// <summary>Hidden widths, comma-separated; ENGINE_BENCH_HIDDEN="512;256,128" runs other networks (';' between them).</summary>
    [ParamsSource(nameof(Networks))]
    public string Hidden { get; set; } = "";

    public static IEnumerable<string> Networks() => (Environment.GetEnvironmentVariable("ENGINE_BENCH_HIDDEN") ?? "128").Split(';');

    Classifier _engine = null!;
    InferenceSession _ort = null!;
    RunOptions _runOptions = null!;
    float[] _rows = [], _probabilities = [];
    OrtValue[][] _inputs = [], _outputs = []; // one single-value array per call, made once
    string _inputName = "", _outputName = "";
    string[] _inputNames = [], _outputNames = [];

    [GlobalSetup]
    public void Setup()
    {
        Dataset raw = BenchData.RawTrainingSet();
        _rows = raw.Features.AsSpan(0, Images * Width).ToArray();
        _probabilities = new float[Images * Classes];
        _engine = Classifier.Create(Width, Hidden.Split(',').Select(int.Parse).ToArray(), Classes, Activation.Tanh,
                                    InputScaling.FitMax(raw), seed: 1, new ComputeOptions("simd", Threads));
        string onnx = Path.Combine(Path.GetTempPath(), $"engine-bench-{Environment.ProcessId}.onnx");
        _engine.ExportOnnx(onnx);
        using var options = new SessionOptions
        {
            IntraOpNumThreads = Threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        _ort = new InferenceSession(onnx, options);
        File.Delete(onnx);
        _runOptions = new RunOptions();
        _inputName = _ort.InputNames[0];
        _outputName = _ort.OutputNames[0];
        int calls = Images / Batch; // whole calls only: 9,984 images at batch 32
        _inputs = new OrtValue[calls][];
        _outputs = new OrtValue[calls][];
        for (int c = 0; c < calls; c++)
        {
            _inputs[c] = [OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _rows.AsMemory(c * Batch * Width, Batch * Width), [Batch, Width])];
            _outputs[c] = [OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _probabilities.AsMemory(c * Batch * Classes, Batch * Classes), [Batch, Classes])];
        }
        _inputNames = [_inputName];
        _outputNames = [_outputName];
        // Same answers before timing anything: ONNX Runtime's probabilities against the engine's, to 1e-5.
        var engine = new float[Images * Classes];
        _engine.PredictProbabilities(_rows, engine);
        OnnxRuntime();
        for (int i = 0; i < calls * Batch * Classes; i++)
            if (MathF.Abs(engine[i] - _probabilities[i]) > 1e-5f)
                throw new InvalidOperationException($"probability {i}: engine {engine[i]}, ONNX Runtime {_probabilities[i]}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var v in _inputs) v[0].Dispose();
        foreach (var v in _outputs) v[0].Dispose();
        _runOptions.Dispose();
        _ort.Dispose();
        _engine.Dispose();
    }

    [Benchmark(Baseline = true)]
    public float OnnxRuntime()
    {
        for (int c = 0; c < _inputs.Length; c++)
            _ort.Run(_runOptions, _inputNames, _inputs[c], _outputNames, _outputs[c]);
        return _probabilities[0];
    }

    [Benchmark]
    public float Engine()
    {
        for (int start = 0; start + Batch <= Images; start += Batch)
            _engine.PredictProbabilities(_rows.AsSpan(start * Width, Batch * Width), _probabilities.AsSpan(start * Classes, Batch * Classes));
        return _probabilities[0];
    }
}
