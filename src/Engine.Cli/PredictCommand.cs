using Engine.Kernels;
using System.CommandLine;
using System.Globalization;
using System.Text;
using Engine.Data;
using Engine.Evaluation;
using Engine.Serialization;

namespace Engine.Cli;

/// <summary><c>engine predict</c>: class probabilities per example as CSV (index,predicted,p0,…[,label]).</summary>
static class PredictCommand
{
    public static Command Create()
    {
        var model = EvaluateCommand.ModelOption();
        var data = EvaluateCommand.DataOption();
        var output = new Option<string?>("--out") { Description = "Write predictions CSV here (default: standard output)" };
        var backend = CommonOptions.Backend();
        var threads = CommonOptions.Threads();
        var isa = CommonOptions.Isa();
        var command = new Command("predict", "Predict classes and class probabilities with a saved model") { model, data, output, backend, threads, isa };
        command.SetAction(p =>
        {
            ComputeOptions compute = CommonOptions.Compute(p.GetValue(backend)!, p.GetValue(threads), p.GetValue(isa));
            string? outPath = p.GetValue(output);
            TrainCommand.RequireWritableDirectory(outPath, "--out");
            using var loaded = Classifier.Load(p.GetValue(model)!, compute);
            Dataset dataset = DataSource.LoadForInference(p.GetValue(data) ?? DataSource.BundledDirectory());
            float[] probabilities = loaded.PredictProbabilities(dataset);
            int k = loaded.ClassCount;

            var csv = new StringBuilder();
            csv.Append("index,predicted");
            for (int c = 0; c < k; c++) csv.Append(",p").Append(c);
            if (dataset.HasLabels) csv.Append(",label");
            csv.Append('\n');
            for (int i = 0; i < dataset.Count; i++)
            {
                var row = probabilities.AsSpan(i * k, k);
                csv.Append(i).Append(',').Append(Classifier.ArgMax(row));
                foreach (float v in row) csv.Append(',').Append(v.ToString(CultureInfo.InvariantCulture));
                if (dataset.HasLabels) csv.Append(',').Append(dataset.Labels![i]);
                csv.Append('\n');
            }
            if (outPath is null) Console.Out.Write(csv);
            else
            {
                AtomicFile.Write(outPath, s => s.Write(Encoding.UTF8.GetBytes(csv.ToString())));
                Console.Error.WriteLine($"{dataset.Count} predictions written to {outPath}");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
