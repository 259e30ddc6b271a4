using System.CommandLine;
using Engine.Data;
using Engine.Kernels;

namespace Engine.Cli;

/// <summary>
/// <c>engine import</c>: a model made elsewhere as an engine model. An ONNX file (PyTorch, Keras/tf2onnx, the engine's own
/// export) brings its activation and input scaling; a safetensors weights file (PyTorch's nn.Linear layers) brings only
/// the weights, so the activation and the scaling are given.
/// </summary>
static class ImportCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("FILE") { Description = "MODEL.onnx (dense layers: Gemm, or MatMul + Add, with Relu, Tanh or Sigmoid between them) or WEIGHTS.safetensors (PyTorch's Linear layers)" };
        var output = new Option<string>("--out") { Description = "Save the engine model here (for evaluate, predict, export and train --init)", Required = true };
        var activation = new Option<string?>("--activation") { Description = "safetensors only (required): the hidden activation, tanh, relu or sigmoid" };
        var scale = new Option<float?>("--scale") { Description = "safetensors only: divide raw inputs by this value (default: 1, the weights see the raw values)" };
        var standardize = new Option<string?>("--standardize") { Description = "safetensors only: standardize each feature with the mean and deviation of this data (IDX directory or file, CSV)" };
        var command = new Command("import", "Import a classifier: an MLP from ONNX (torch.onnx.export, tf2onnx, engine export) or PyTorch weights from safetensors")
            { source, output, activation, scale, standardize };
        command.SetAction(p =>
        {
            string inPath = p.GetValue(source)!, outPath = p.GetValue(output)!;
            if (string.IsNullOrWhiteSpace(outPath)) throw new UsageException("--out needs a file name");
            TrainCommand.RequireWritableDirectory(outPath, "--out");
            if (Path.GetFullPath(outPath) == Path.GetFullPath(inPath))
                throw new UsageException($"--out {outPath} is the file being imported; choose another name so it is not overwritten");
            bool weightsOnly = inPath.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);
            string? activationName = p.GetValue(activation), statsPath = p.GetValue(standardize);
            float? divisor = p.GetValue(scale);
            Classifier imported;
            if (weightsOnly)
            {
                if (activationName is null) throw new UsageException("a safetensors file carries no activation: give --activation tanh, relu or sigmoid");
                if (!ActivationNames.TryParse(activationName, out var hidden))
                    throw new UsageException($"--activation must be tanh, relu or sigmoid, got '{activationName}'");
                if (divisor is not null && statsPath is not null) throw new UsageException("--scale and --standardize exclude each other");
                if (divisor is float d && !(d > 0 && float.IsFinite(d))) throw new UsageException($"--scale must be a positive finite number, got {d}");
                InputScaling scaling = statsPath is not null ? InputScaling.FitStandardize(DataSource.Load(statsPath).Train)
                    : InputScaling.Divide(divisor ?? 1f);
                imported = Classifier.FromSafetensors(inPath, hidden, scaling, new ComputeOptions("reference"));
                if (scaling.Width is int features && features != imported.InputWidth)
                {
                    imported.Dispose();
                    throw new UsageException($"--standardize {statsPath} has {features} features, the first layer takes {imported.InputWidth}");
                }
            }
            else
            {
                if (activationName is not null || divisor is not null || statsPath is not null)
                    throw new UsageException("an ONNX model brings its own activation and input scaling: --activation, --scale and --standardize are for safetensors");
                imported = Classifier.ImportOnnx(inPath, new ComputeOptions("reference"));
            }
            using (imported)
            {
                imported.Save(outPath);
                Console.Out.WriteLine($"imported {inPath}: {imported.Describe()}, inputs {imported.Scaling.Describe()}");
                Console.Out.WriteLine($"model written to {outPath}");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
