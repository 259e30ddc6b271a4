using System.CommandLine;

namespace Engine.Cli;

/// <summary><c>engine import</c>: a fully-connected classifier from an ONNX file (PyTorch, Keras/tf2onnx, the engine's own export) as a model.</summary>
static class ImportCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("MODEL.onnx") { Description = "The ONNX file: dense layers (Gemm, or MatMul + Add) with Relu, Tanh or Sigmoid between them" };
        var output = new Option<string>("--out")
        {
            Description = "Save the engine model here (for evaluate, predict, export and train --init)",
            Required = true,
        };
        var command = new Command("import", "Import an MLP classifier from ONNX (torch.onnx.export, tf2onnx, engine export)") { source, output };
        command.SetAction(p =>
        {
            string inPath = p.GetValue(source)!, outPath = p.GetValue(output)!;
            if (string.IsNullOrWhiteSpace(outPath)) throw new UsageException("--out needs a file name");
            TrainCommand.RequireWritableDirectory(outPath, "--out");
            if (Path.GetFullPath(outPath) == Path.GetFullPath(inPath))
                throw new UsageException($"--out {outPath} is the ONNX file; choose another name so it is not overwritten");
            using var imported = Classifier.ImportOnnx(inPath, new ComputeOptions("reference"));
            imported.Save(outPath);
            Console.Out.WriteLine($"imported {inPath}: {imported.Describe()}, inputs {imported.Scaling.Describe()}");
            Console.Out.WriteLine($"model written to {outPath}");
            return ExitCodes.Success;
        });
        return command;
    }
}
