using System.Globalization;
using Engine.Data;
using Engine.Training;

namespace Engine.Cli.Reporting;

/// <summary>The settings table of a report.</summary>
static class ReportSettings
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The command as typed (arguments with spaces quoted), so a run can be repeated from its report.</summary>
    public static string CommandLine() =>
        string.Join(' ', Environment.GetCommandLineArgs().Skip(1).Prepend("engine")
                                     .Select(a => a.Length == 0 || a.Any(char.IsWhiteSpace) ? $"'{a}'" : a));

    /// <summary>The settings of a training run, in the order of the run's own header lines.</summary>
    public static List<(string Name, string Value)> ForTraining(Classifier model, TrainingOptions options, string dataPath, Dataset train,
                                                                 Dataset evaluation, string evaluationName, string? initPath, int threads)
    {
        return
        [
            ("command", CommandLine()),
            ("network", $"{model.Describe()} ({model.ParameterCount:N0} parameters)"),
            ("initial weights", initPath is null ? $"Glorot/He, seed {options.Seed}" : initPath),
            ("data", $"{dataPath}: {train.Count:N0} training examples, {evaluation.Count:N0} {evaluationName} examples, {train.Width} features"),
            ("inputs", model.Scaling.Describe()),
            ("epochs", options.Epochs.ToString(Inv)),
            ("batch size", options.BatchSize.ToString(Inv)),
            ("optimizer", options.Optimizer.Describe()),
            ("learning rate", options.LearningRate.ToString(Inv) + (options.Schedule.Kind == ScheduleKind.Constant ? "" : $", {options.Schedule.Describe()}")),
            (options.Optimizer.Kind == OptimizerKind.AdamW ? "weight decay (decoupled)" : "L2", options.L2.ToString(Inv)),
            ("early stopping", options.EarlyStoppingPatience > 0 ? $"after {options.EarlyStoppingPatience} epochs without a lower validation loss; best epoch's weights kept" : "off"),
            ("shuffle", options.Shuffle ? $"on (seed {options.Seed})" : "off"),
            ("backend", model.Backend),
            ("threads", threads.ToString(Inv)),
        ];
    }
}
