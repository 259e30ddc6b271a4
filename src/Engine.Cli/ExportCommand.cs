using System.CommandLine;

namespace Engine.Cli;

/// <summary><c>engine export</c>: a saved model as an ONNX file (input scaling, dense layers and softmax in one graph).</summary>
static class ExportCommand
{
    public static Command Create()
    {
        var model = EvaluateCommand.ModelOption();
        var onnx = new Option<string>("--onnx")
        {
            Description = "Write the ONNX model here (input \"input\" [batch, features], output \"probabilities\" [batch, classes])",
            Required = true,
        };
        var command = new Command("export", "Export a saved model to ONNX, for ONNX Runtime and the serving systems built on it") { model, onnx };
        command.SetAction(p =>
        {
            string outPath = p.GetValue(onnx)!, modelPath = p.GetValue(model)!;
            if (string.IsNullOrWhiteSpace(outPath)) throw new UsageException("--onnx needs a file name");
            if (string.IsNullOrWhiteSpace(modelPath)) throw new UsageException("--model needs a file name");
            TrainCommand.RequireWritableDirectory(outPath, "--onnx");
            if (Path.GetFullPath(outPath) == Path.GetFullPath(modelPath))
                throw new UsageException($"--onnx {outPath} is the --model file; choose another name so the model is not overwritten");
            using var loaded = Classifier.Load(modelPath, new ComputeOptions("reference"));
            loaded.ExportOnnx(outPath);
            Console.Out.WriteLine($"model {modelPath}: {loaded.Describe()}, inputs {loaded.Scaling.Describe()}");
            Console.Out.WriteLine($"ONNX (IR 8, opset 13) written to {outPath}: input [batch, {loaded.InputWidth}] -> probabilities [batch, {loaded.ClassCount}]");
            return ExitCodes.Success;
        });
        return command;
    }
}
