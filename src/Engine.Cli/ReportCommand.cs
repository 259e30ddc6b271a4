using System.CommandLine;
using Engine.Cli.Reporting;
using Engine.Data;
using Engine.Kernels;

namespace Engine.Cli;

/// <summary><c>engine report</c>: the HTML report (confusion heatmap, per-class bars, misclassified gallery) for a saved model.</summary>
static class ReportCommand
{
    public static Command Create()
    {
        var model = EvaluateCommand.ModelOption();
        var data = EvaluateCommand.DataOption();
        var output = new Option<string>("--out") { Description = "Directory for report.html and its PNG images (created if missing; other files in it are left alone)", DefaultValueFactory = _ => "report" };
        var backend = CommonOptions.Backend();
        var threads = CommonOptions.Threads();
        var isa = CommonOptions.Isa();
        var command = new Command("report", "Write an HTML report with plots (confusion matrix, per-class sensitivity/specificity, misclassified examples) for a saved model")
        {
            model, data, output, backend, threads, isa,
        };
        command.SetAction(p =>
        {
            ComputeOptions compute = CommonOptions.Compute(p.GetValue(backend)!, p.GetValue(threads), p.GetValue(isa));
            string dir = p.GetValue(output)!;
            HtmlReport.RequireUsableDirectory(dir, "--out");
            string modelPath = p.GetValue(model)!;
            using var loaded = Classifier.Load(modelPath, compute);
            string dataPath = p.GetValue(data) ?? DataSource.BundledDirectory();
            Dataset dataset = DataSource.LoadForInference(dataPath);
            if (dataset.Labels is null) throw new EngineException($"{dataPath}: has no labels to evaluate against (use 'engine predict')");
            if (dataset.Width != loaded.InputWidth)
                throw new EngineException($"{dataPath}: {dataset.Width} features per example, the model takes {loaded.InputWidth}");
            var result = loaded.Evaluate(dataset);
            var settings = new List<(string, string)>
            {
                ("command", ReportSettings.CommandLine()),
                ("model", $"{modelPath}: {loaded.Describe()} ({loaded.ParameterCount:N0} parameters)"),
                ("inputs", loaded.Scaling.Describe()),
                ("data", $"{dataset.Source}: {dataset.Count:N0} examples, {dataset.Width} features"),
                ("backend", loaded.Backend),
            };
            var run = new RunReport("engine report", settings, [], result, $"{dataPath} ({dataset.Count:N0} examples)", dataset,
                                    loaded.PredictProbabilities(dataset), loaded.ClassCount);
            string page = HtmlReport.Write(dir, run);
            Console.Out.WriteLine($"model {modelPath}: accuracy {Reports.Percent(result.Accuracy).Trim()} on {dataset.Count} examples of {dataset.Source}");
            Console.Out.WriteLine($"report written to {page}");
            return ExitCodes.Success;
        });
        return command;
    }
}
