using Engine.Cli.Reporting;
using Engine.Kernels;
using System.CommandLine;
using Engine.Data;
using Engine.Evaluation;
using Engine.Serialization;

namespace Engine.Cli;

/// <summary><c>engine evaluate</c>: the training report's evaluation part for a saved model.</summary>
static class EvaluateCommand
{
    public static Option<string> ModelOption() => new("--model") { Description = "Model file written by 'engine train --out'", Required = true };
    public static Option<string?> DataOption() => new("--data")
    {
        Description = "IDX directory (its t10k test split when present), IDX images file or CSV (default: the bundled MNIST-10k test split)",
    };

    public static Command Create()
    {
        var model = ModelOption();
        var data = DataOption();
        var backend = CommonOptions.Backend();
        var threads = CommonOptions.Threads();
        var isa = CommonOptions.Isa();
        var metricsJson = CommonOptions.MetricsJson();
        var command = new Command("evaluate", "Evaluate a saved model on labelled data") { model, data, backend, threads, isa, metricsJson };
        command.SetAction(p =>
        {
            ComputeOptions compute = CommonOptions.Compute(p.GetValue(backend)!, p.GetValue(threads), p.GetValue(isa));
            string? metricsPath = p.GetValue(metricsJson);
            TrainCommand.RequireWritableDirectory(metricsPath, "--metrics-json");
            using var loaded = Classifier.Load(p.GetValue(model)!, compute);
            string dataPath = p.GetValue(data) ?? DataSource.BundledDirectory();
            Dataset dataset = DataSource.LoadForInference(dataPath);
            if (dataset.Labels is null) throw new EngineException($"{dataPath}: has no labels to evaluate against (use 'engine predict')");
            var result = loaded.Evaluate(dataset);
            Console.Out.WriteLine($"model {p.GetValue(model)}: {loaded.Describe()}, inputs {loaded.Scaling.Describe()}; backend {loaded.Backend}");
            Reports.PrintEvaluation(Console.Out, result, $"{dataset.Source} ({dataset.Count} examples)");
            if (metricsPath is not null)
            {
                var sources = new List<(string, string)> { ("evaluation", dataPath), ("model", p.GetValue(model)!) };
                Reports.WriteMetricsJson(metricsPath, result, [], new Provenance.Source(loaded.Backend, p.GetValue(threads), compute.Isa, sources), seed: null);
                Console.Out.WriteLine($"metrics written to {metricsPath}");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
