using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Engine.Cli.Progress;
using Engine.Cli.Reporting;
using Engine.Data;
using Engine.Evaluation;
using Engine.Kernels;
using Engine.Nn;
using Engine.Serialization;
using Engine.Training;

namespace Engine.Cli;

/// <summary><c>engine train</c>: loads data, fits the input scaling, trains, reports, saves.</summary>
static class TrainCommand
{
    // Defaults: the write-up's network (784 → tanh → softmax) with settings that reach ≥ 94 % on the bundled
    // 8,000/2,000 split; see "Default hyperparameters" in the README for the reasoning.
    public const string DefaultHidden = "128";
    public const int DefaultEpochs = 30;
    public const int DefaultBatch = 16;
    public const float DefaultLearningRate = 0.1f;       // sgd; momentum and nesterov take 0.01, adam and adamw 0.001 (PyTorch's Adam default)
    public const double DefaultEarlyStoppingSplit = 0.1;
    public const float DefaultL2 = 1e-4f;
    public const double DefaultValidationSplit = 0.2;

    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "Training data: a directory of MNIST-style IDX files or a CSV file (default: the bundled MNIST-10k)" };
        var test = new Option<string?>("--test") { Description = "Evaluation data (default: the data's own test split, else --validation-split)" };
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer widths, comma-separated (e.g. 256,128)", DefaultValueFactory = _ => DefaultHidden };
        var activation = new Option<string>("--activation") { Description = "Hidden activation: tanh, relu or sigmoid", DefaultValueFactory = _ => "tanh" };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training data", DefaultValueFactory = _ => DefaultEpochs };
        var batch = new Option<int>("--batch") { Description = "Mini-batch size (the last batch of an epoch may be smaller)", DefaultValueFactory = _ => DefaultBatch };
        var l2 = new Option<float>("--l2") { Description = "L2 penalty λ on weights (not biases): loss += (λ/2)·Σ‖W‖²; with adamw the decoupled weight decay", DefaultValueFactory = _ => DefaultL2 };
        var earlyStopping = new Option<int>("--early-stopping") { Description = $"Stop after this many epochs without a lower validation loss and keep the best epoch's weights (0: off); holds out --validation-split (default {DefaultEarlyStoppingSplit}) of the training data to watch when the data has a test set", DefaultValueFactory = _ => 0 };
        var seed = new Option<ulong>("--seed") { Description = "Seed for initial weights, shuffling and validation split", DefaultValueFactory = _ => 0UL };
        var backend = CommonOptions.Backend();
        var threads = CommonOptions.Threads();
        var isa = CommonOptions.Isa();
        var shuffle = new Option<bool>("--shuffle") { Description = "Shuffle every epoch (false: batches in file order)", DefaultValueFactory = _ => true, Arity = ArgumentArity.ZeroOrOne };
        var validationSplit = new Option<double?>("--validation-split") { Description = $"Hold out this fraction of the training data for evaluation (used when there is no --test; default {DefaultValidationSplit} when the data has no test split)" };
        var scale = new Option<float?>("--scale") { Description = "Divide inputs by this value (default: the largest value in the training set)" };
        var standardize = new Option<bool>("--standardize") { Description = "Standardize each input feature with the training set's mean and deviation" };
        var output = new Option<string?>("--out") { Description = "Save the trained model to this file" };
        var metricsJson = CommonOptions.MetricsJson();
        var init = new Option<string?>("--init") { Description = "Start from weights W1,b1,... in this .npz file (the architecture comes from the file)" };
        var exportNpz = new Option<string?>("--export-npz") { Description = "Write the trained weights W1,b1,... to this .npz file" };
        var checkpointDir = new Option<string?>("--checkpoint-dir") { Description = "Save model, settings and position here at the end of every epoch (SIGINT/SIGTERM also save, then exit 130)" };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Also checkpoint every this many steps within an epoch (0: epoch ends only)", DefaultValueFactory = _ => 0 };
        var keepCheckpoints = new Option<int>("--keep-checkpoints") { Description = "How many of the newest checkpoints to keep", DefaultValueFactory = _ => 3 };
        var quiet = new Option<bool>("--quiet") { Description = "No per-epoch lines and no progress bar (the final report still prints)" };
        var report = new Option<string?>("--report") { Description = "Write report.html with plots (loss, accuracy, confusion matrix, per-class bars, misclassified examples) into this directory" };
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest checkpoint in --checkpoint-dir up to --epochs (same data and settings); the result is bit-identical to an uninterrupted run" };

        var rates = new OptimizerOptions();
        var command = new Command("train", "Train a network and report accuracy, per-class sensitivity/specificity and the confusion matrix")
        {
            data, test, hidden, activation, epochs, batch, l2, earlyStopping, seed, backend, threads, isa, shuffle, validationSplit,
            scale, standardize, output, metricsJson, init, exportNpz, checkpointDir, checkpointEvery, keepCheckpoints, resume, quiet, report,
        };
        foreach (var option in rates.All) command.Options.Add(option);
        command.SetAction(p =>
        {
            TrainingOptions options = rates.Read(p, p.GetValue(epochs), p.GetValue(batch), p.GetValue(l2), p.GetValue(seed), p.GetValue(shuffle), p.GetValue(earlyStopping));
            int[] hiddenWidths = CommonOptions.ParseHidden(p.GetValue(hidden)!);
            Activation act = CommonOptions.ParseActivation(p.GetValue(activation)!);
            ComputeOptions compute = CommonOptions.Compute(p.GetValue(backend)!, p.GetValue(threads), p.GetValue(isa));
            double? split = p.GetValue(validationSplit);
            if (split is double s && !(s > 0 && s < 1)) throw new UsageException($"--validation-split must be between 0 and 1 (exclusive), got {s}");
            float? divisor = p.GetValue(scale);
            if (divisor is float dv && !(dv > 0 && float.IsFinite(dv))) throw new UsageException($"--scale must be a positive finite number, got {dv}");
            if (divisor is not null && p.GetValue(standardize)) throw new UsageException("--scale and --standardize exclude each other");
            string? outPath = p.GetValue(output), metricsPath = p.GetValue(metricsJson), npzPath = p.GetValue(exportNpz), initPath = p.GetValue(init);
            foreach (var (path, name) in new[] { (outPath, "--out"), (metricsPath, "--metrics-json"), (npzPath, "--export-npz") })
                RequireWritableDirectory(path, name);
            string? reportDir = p.GetValue(report);
            HtmlReport.RequireUsableDirectory(reportDir, "--report");
            CheckpointOptions? checkpoints = null;
            if (p.GetValue(checkpointDir) is string ckptDir)
            {
                if (ckptDir.Trim().Length == 0) throw new UsageException("--checkpoint-dir needs a directory name");
                if (p.GetValue(checkpointEvery) < 0) throw new UsageException($"--checkpoint-every must be 0 or more, got {p.GetValue(checkpointEvery)}");
                if (p.GetValue(keepCheckpoints) < 1) throw new UsageException($"--keep-checkpoints must be at least 1, got {p.GetValue(keepCheckpoints)}");
                checkpoints = new CheckpointOptions(ckptDir, p.GetValue(checkpointEvery), p.GetValue(keepCheckpoints), p.GetValue(resume));
            }
            else if (p.GetValue(resume)) throw new UsageException("--resume needs --checkpoint-dir");

            var (train, evaluation, evaluationName, dataPath) = SelectData(p.GetValue(data), p.GetValue(test), split, options.Seed);
            // Early stopping picks weights by the watched loss, so it must not watch the set the final figures come from.
            Dataset watched = evaluation;
            string watchedName = evaluationName;
            if (options.EarlyStoppingPatience > 0 && evaluationName == "test")
            {
                (train, watched) = ValidationSplit.Split(train, split ?? DefaultEarlyStoppingSplit, options.Seed);
                watchedName = "validation";
            }

            InputScaling scaling = divisor is float d ? InputScaling.Divide(d)
                : p.GetValue(standardize) ? InputScaling.FitStandardize(train)
                : InputScaling.FitMax(train);
            int classes = Math.Max(2, Math.Max(train.ClassCountFromLabels(), evaluation.ClassCountFromLabels()));
            using Classifier model = initPath is null
                ? Classifier.Create(train.Width, hiddenWidths, classes, act, scaling, options.Seed, compute)
                : Classifier.FromWeights(initPath, act, scaling, compute);
            if (model.InputWidth != train.Width)
                throw new EngineException($"{initPath}: W1 takes {model.InputWidth} inputs, the data has {train.Width} features");
            if (model.ClassCount < classes)
                throw new EngineException($"{initPath}: the last layer has {model.ClassCount} outputs, the data has {classes} classes");

            var o = Console.Out;
            o.WriteLine($"network {model.Describe()} ({model.ParameterCount:N0} parameters){(initPath is null ? $", Glorot/He init seed {options.Seed}" : $", weights from {initPath}")}");
            string watchedPart = watched == evaluation ? "" : $", {watched.Count:N0} {watchedName} examples for early stopping";
            o.WriteLine($"data {dataPath}: {train.Count:N0} training examples, {evaluation.Count:N0} {evaluationName} examples{watchedPart}, {train.Width} features, {classes} classes, inputs {scaling.Describe()}");
            o.WriteLine($"{options.Optimizer.Describe()}: {options.Epochs} epochs, batch {options.BatchSize}, lr {options.LearningRate.ToString(CultureInfo.InvariantCulture)}" +
                        $"{(options.Schedule.Kind == ScheduleKind.Constant ? "" : $" {options.Schedule.Describe()}")}, " +
                        $"l2 {options.L2.ToString(CultureInfo.InvariantCulture)}{(options.Optimizer.Kind == OptimizerKind.AdamW ? " (decoupled)" : "")}, " +
                        $"shuffle {(options.Shuffle ? $"on (seed {options.Seed})" : "off")}" +
                        $"{(options.EarlyStoppingPatience > 0 ? $", early stopping after {options.EarlyStoppingPatience} epochs without a lower {watchedName} loss" : "")}; backend {model.Backend}");

            // SIGINT/SIGTERM: finish the step, checkpoint, exit 130 (a second signal terminates at once).
            using var interrupt = new CancellationTokenSource();
            void OnSignal(PosixSignalContext ctx)
            {
                if (interrupt.IsCancellationRequested) return;
                ctx.Cancel = true;
                interrupt.Cancel();
            }
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            if (checkpoints is { Resume: true }) o.WriteLine($"resuming from the newest checkpoint in {checkpoints.Directory}");
            var epochsDone = TrainingDisplay.Run(TrainingDisplay.Choose(p.GetValue(quiet)), o, options.Epochs, train.Count, watchedName,
                (onEpoch, onProgress) => model.Train(train, options, watched, onEpoch, checkpoints, interrupt.Token, onProgress));
            o.WriteLine($"training time {epochsDone.Sum(r => r.Seconds).ToString("0.00", CultureInfo.InvariantCulture)} s");
            if (options.EarlyStoppingPatience > 0 && epochsDone.Count > 0)
            {
                EpochReport best = epochsDone.MinBy(r => r.TestLoss!.Value)!;
                string why = epochsDone[^1].Epoch < options.Epochs ? $"stopped after epoch {epochsDone[^1].Epoch}: no lower {watchedName} loss for {options.EarlyStoppingPatience} epochs; " : "";
                o.WriteLine($"early stopping: {why}kept the weights of epoch {best.Epoch} ({watchedName} loss {best.TestLoss!.Value.ToString("0.0000", CultureInfo.InvariantCulture)})");
            }

            var result = model.Evaluate(evaluation);
            Reports.PrintEvaluation(o, result, $"{evaluationName} set ({evaluation.Count} examples)");

            if (outPath is not null) { model.Save(outPath); o.WriteLine($"\nmodel saved to {outPath}"); }
            if (npzPath is not null) { model.ExportWeights(npzPath); o.WriteLine($"weights written to {npzPath}"); }
            if (reportDir is not null)
            {
                var settings = ReportSettings.ForTraining(model, options, dataPath, train, evaluation, evaluationName, initPath, p.GetValue(threads));
                var run = new RunReport("engine train", settings, epochsDone, result, $"{evaluationName} set ({evaluation.Count:N0} examples)", evaluation,
                                        model.PredictProbabilities(evaluation), model.ClassCount, watchedName);
                o.WriteLine($"report written to {HtmlReport.Write(reportDir, run)}");
            }
            if (metricsPath is not null) { Reports.WriteMetricsJson(metricsPath, result, epochsDone, model.Backend, p.GetValue(threads), options.Seed); o.WriteLine($"metrics written to {metricsPath}"); }
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The training part and the evaluation set, by priority --test &gt; --validation-split &gt; the data's own test split.</summary>
    public static (Dataset Train, Dataset Evaluation, string EvaluationName, string DataPath) SelectData(string? dataPath, string? testPath, double? split, ulong seed)
    {
        dataPath ??= DataSource.BundledDirectory();
        LoadedData loaded = DataSource.Load(dataPath);
        Dataset train = loaded.Train;
        Dataset evaluation;
        string evaluationName = "test";
        if (testPath is not null) evaluation = DataSource.LoadForInference(testPath);
        else if (split is not null || loaded.Test is null)
        {
            (train, evaluation) = ValidationSplit.Split(train, split ?? DefaultValidationSplit, seed);
            evaluationName = "validation";
        }
        else evaluation = loaded.Test;
        if (train.Labels is null) throw new EngineException($"{train.Source}: training data has no labels (a CSV needs a 'label' column)");
        if (evaluation.Width != train.Width)
            throw new EngineException($"{evaluation.Source}: {evaluation.Width} features per example, the training data has {train.Width}");
        return (train, evaluation, evaluationName, dataPath);
    }

    /// <summary>Fail before hours of training, not after, when an output cannot be written.</summary>
    public static void RequireWritableDirectory(string? path, string option)
    {
        if (path is null) return;
        if (path.Trim().Length == 0) throw new UsageException($"{option} needs a file name");
        if (Directory.Exists(path)) throw new UsageException($"{option} {path} is a directory, expected a file name");
        string dir = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        if (!Directory.Exists(dir)) throw new UsageException($"{option} {path}: directory {dir} does not exist");
    }
}
