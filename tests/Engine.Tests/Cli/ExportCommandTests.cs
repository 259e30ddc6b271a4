using Engine.Data;
using Engine.Evaluation;
using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Nn;
using Engine.Serialization;
using Engine.Tests.Data;
using Engine.Tests.Serialization;
using Microsoft.ML.OnnxRuntime;

namespace Engine.Tests.Cli;

/// <summary><c>engine export --model M --onnx FILE</c> run as a child process.</summary>
public sealed class ExportCommandTests : IDisposable
{
    const int Usage = 2, Failure = 1;

    readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A 20-feature, 3-class model with standardize scaling, saved with ModelFile.</summary>
    (string Path, Model Model, Dataset Data) SavedModel()
    {
        var rng = new Random(3);
        var features = new float[100 * 20];
        for (int i = 0; i < features.Length; i++) features[i] = rng.Next(0, 17) * (1 + i % 20);
        var data = new Dataset(features, null, 100, 20, "random");
        var network = new Network(20, [8], 3, Activation.Sigmoid);
        network.InitializeWeights(2);
        var model = new Model(network, InputScaling.FitStandardize(data));
        string path = _dir.File("trained.model");
        ModelFile.Save(path, model);
        return (path, model, data);
    }

    [Fact]
    public void Export_writes_a_file_ONNX_Runtime_runs_with_the_engines_probabilities()
    {
        var (modelPath, model, data) = SavedModel();
        string onnxPath = _dir.File("trained.onnx");

        var run = EngineProcess.Run("export", "--model", modelPath, "--onnx", onnxPath);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("", run.Stderr);
        Assert.Contains("20-8-3 sigmoid", run.Stdout);
        Assert.Contains($"written to {onnxPath}", run.Stdout);
        Assert.Contains("input [batch, 20] -> probabilities [batch, 3]", run.Stdout);
        Assert.Equal(OnnxExport.ToBytes(model), File.ReadAllBytes(onnxPath));

        using var session = new InferenceSession(onnxPath);
        float[] onnx = OnnxRunner.Probabilities(session, data.Features, data.Count, data.Width, 3);
        float[] engine = Evaluator.Predict(model.Network, ReferenceKernels.Instance, model.Scaling.Apply(data));
        for (int i = 0; i < engine.Length; i++)
            Assert.True(MathF.Abs(engine[i] - onnx[i]) <= 1e-5f, $"entry {i}: engine {engine[i]}, onnx {onnx[i]}");
    }

    [Fact]
    public void A_missing_model_file_is_reported_and_nothing_is_written()
    {
        string model = _dir.File("absent.model");
        string onnx = _dir.File("out.onnx");
        var run = EngineProcess.Run("export", "--model", model, "--onnx", onnx);
        CliTests.AssertFailsCleanly(run, Failure, model, "not found");
        Assert.Empty(_dir.FileNames());
    }

    [Fact]
    public void A_garbage_model_file_is_reported()
    {
        string model = _dir.WriteText("garbage.model", "this is not a model");
        var run = EngineProcess.Run("export", "--model", model, "--onnx", _dir.File("out.onnx"));
        CliTests.AssertFailsCleanly(run, Failure, model, "not an engine model file");
        Assert.Equal(["garbage.model"], _dir.FileNames());
    }

    [Fact]
    public void An_output_into_a_missing_directory_is_reported()
    {
        var (modelPath, _, _) = SavedModel();
        string missingDir = Path.Combine(_dir.Path, "no", "such");
        var run = EngineProcess.Run("export", "--model", modelPath, "--onnx", Path.Combine(missingDir, "out.onnx"));
        CliTests.AssertFailsCleanly(run, Usage, "--onnx", missingDir, "does not exist");
        Assert.False(Directory.Exists(missingDir));
    }

    [Fact]
    public void An_output_that_is_a_directory_is_refused()
    {
        var (modelPath, _, _) = SavedModel();
        string target = Path.Combine(_dir.Path, "out");
        Directory.CreateDirectory(target);
        var run = EngineProcess.Run("export", "--model", modelPath, "--onnx", target);
        CliTests.AssertFailsCleanly(run, Usage, "--onnx", "is a directory");
        Assert.Empty(Directory.GetFileSystemEntries(target));
    }

    [Fact]
    public void Exporting_over_the_model_file_itself_is_refused()
    {
        var (modelPath, _, _) = SavedModel();
        byte[] before = File.ReadAllBytes(modelPath);
        var run = EngineProcess.Run("export", "--model", modelPath, "--onnx", modelPath);
        CliTests.AssertFailsCleanly(run, Usage, "--onnx", "--model");
        Assert.Equal(before, File.ReadAllBytes(modelPath));
    }

    [Theory]
    [InlineData("--model")]
    [InlineData("--onnx")]
    public void A_missing_required_option_is_reported(string option)
    {
        string[] args = option == "--model" ? ["export", "--onnx", _dir.File("out.onnx")] : ["export", "--model", _dir.File("m.model")];
        var run = EngineProcess.Run(args);
        CliTests.AssertFailsCleanly(run, Usage, option);
    }

    [Theory]
    [InlineData("--model")]
    [InlineData("--onnx")]
    public void An_empty_path_is_a_usage_error(string option)
    {
        string[] args = option == "--model"
            ? ["export", "--model", "", "--onnx", _dir.File("out.onnx")]
            : ["export", "--model", _dir.File("m.model"), "--onnx", ""];
        var run = EngineProcess.Run(args);
        CliTests.AssertFailsCleanly(run, Usage, option);
        Assert.Empty(_dir.FileNames());
    }
}
