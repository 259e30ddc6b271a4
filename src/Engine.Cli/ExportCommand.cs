using System.CommandLine;

namespace Engine.Cli;

/// <summary><c>engine export</c>: a saved model as an ONNX file (input scaling, dense layers and softmax in one graph) and/or its weights as safetensors.</summary>
static class ExportCommand
{
    public static Command Create()
    {
        var model = EvaluateCommand.ModelOption();
        var onnx = new Option<string?>("--onnx")
        {
            Description = "Write the ONNX model here (input \"input\" [batch, features], output \"probabilities\" [batch, classes])",
        };
        var safetensors = new Option<string?>("--safetensors")
        {
            Description = "Write the weights here as safetensors, with PyTorch's nn.Sequential(Linear, activation, ...) names and layout",
        };
        var command = new Command("export", "Export a saved model to ONNX (for ONNX Runtime and the serving systems built on it) or its weights to safetensors (for PyTorch)")
            { model, onnx, safetensors };
        command.SetAction(p =>
        {
            string? onnxPath = p.GetValue(onnx), weightsPath = p.GetValue(safetensors);
            string modelPath = p.GetValue(model)!;
            if (onnxPath is null && weightsPath is null) throw new UsageException("give --onnx FILE, --safetensors FILE or both");
            if (string.IsNullOrWhiteSpace(modelPath)) throw new UsageException("--model needs a file name");
            foreach (var (path, flag) in new[] { (onnxPath, "--onnx"), (weightsPath, "--safetensors") })
            {
                if (path is null) continue;
                if (string.IsNullOrWhiteSpace(path)) throw new UsageException($"{flag} needs a file name");
                TrainCommand.RequireWritableDirectory(path, flag);
                if (Path.GetFullPath(path) == Path.GetFullPath(modelPath))
                    throw new UsageException($"{flag} {path} is the --model file; choose another name so the model is not overwritten");
            }
            using var loaded = Classifier.Load(modelPath, new ComputeOptions("reference"));
            Console.Out.WriteLine($"model {modelPath}: {loaded.Describe()}, inputs {loaded.Scaling.Describe()}");
            if (onnxPath is not null)
            {
                loaded.ExportOnnx(onnxPath);
                Console.Out.WriteLine($"ONNX (IR 8, opset 13) written to {onnxPath}: input [batch, {loaded.InputWidth}] -> probabilities [batch, {loaded.ClassCount}]");
            }
            if (weightsPath is not null)
            {
                loaded.ExportSafetensors(weightsPath);
                Console.Out.WriteLine($"weights written to {weightsPath} (safetensors, PyTorch Linear layout; the activation and the input scaling, {loaded.Scaling.Describe()}, are not in it)");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
