using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Engine.Cli.Progress;
using Engine.Cli.Reporting;
using Engine.Data;
using Engine.Evaluation;
using Engine.Kernels;
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
        var flags = new Flags();
        var command = new Command("train", "Train a network and report accuracy, per-class sensitivity/specificity and the confusion matrix");
        foreach (var option in flags.All) command.Options.Add(option);
        command.SetAction(p => Run(Settings.Read(p, flags)));
        return command;
    }

    /// <summary>The options of <c>engine train</c>, in the order <c>--help</c> lists them.</summary>
    sealed class Flags
    {
        public readonly Option<string?> Data = new("--data") { HelpName = "DIR|FILE.csv|FILE.npz|-", Description = "Training data: a directory of MNIST-style IDX files or a CSV file (default: the bundled MNIST-10k)" };
        public readonly Option<string?> Test = new("--test") { HelpName = "DIR|FILE.csv|FILE.npz", Description = "Evaluation data (default: the data's own test split, else --validation-split)" };
        public readonly Option<string> Hidden = new("--hidden") { HelpName = "WIDTH[,WIDTH...]", Description = $"Hidden layer widths, comma-separated (e.g. 256,128; at most {Limits.MaxHiddenLayers} layers of {Limits.MaxWidth:N0})", DefaultValueFactory = _ => DefaultHidden };
        public readonly Option<string> Activation = new("--activation") { HelpName = "tanh|relu|sigmoid", Description = "Hidden activation: tanh, relu or sigmoid", DefaultValueFactory = _ => "tanh" };
        public readonly Option<int> Epochs = new("--epochs") { HelpName = "N", Description = $"Passes over the training data (at most {Limits.MaxEpochs:N0})", DefaultValueFactory = _ => DefaultEpochs };
        public readonly Option<int> Batch = new("--batch") { HelpName = "N", Description = $"Mini-batch size, at most {Limits.MaxBatch:N0} (the last batch of an epoch may be smaller)", DefaultValueFactory = _ => DefaultBatch };
        public readonly Option<float> L2 = new("--l2") { HelpName = "LAMBDA", Description = "L2 penalty λ on weights (not biases): loss += (λ/2)·Σ‖W‖²; with adamw the decoupled weight decay", DefaultValueFactory = _ => DefaultL2 };
        public readonly Option<int> EarlyStopping = new("--early-stopping") { HelpName = "EPOCHS", Description = $"Stop after this many epochs without a lower validation loss and keep the best epoch's weights (0: off); holds out --validation-split (default {DefaultEarlyStoppingSplit}) of the training data to watch when the data has a test set", DefaultValueFactory = _ => 0 };
        public readonly Option<ulong> Seed = new("--seed") { HelpName = "N", Description = "Seed for initial weights, shuffling and validation split", DefaultValueFactory = _ => 0UL };
        public readonly Option<string> Backend = CommonOptions.Backend();
        public readonly Option<int> Threads = CommonOptions.Threads();
        public readonly Option<string?> Isa = CommonOptions.Isa();
        public readonly Option<bool> Shuffle = new("--shuffle") { Description = "Shuffle every epoch (false: batches in file order)", DefaultValueFactory = _ => true, Arity = ArgumentArity.ZeroOrOne };
        public readonly Option<double?> ValidationSplit = new("--validation-split") { HelpName = "FRACTION", Description = $"Hold out this fraction of the training data for evaluation (used when there is no --test; default {DefaultValidationSplit} when the data has no test split)" };
        public readonly Option<float?> Scale = new("--scale") { HelpName = "DIVISOR", Description = "Divide inputs by this value (default: the largest value in the training set)" };
        public readonly Option<bool> Standardize = new("--standardize") { Description = "Standardize each input feature with the training set's mean and deviation" };
        public readonly Option<string?> Output = new("--out") { HelpName = "FILE", Description = "Save the trained model to this file" };
        public readonly Option<string?> MetricsJson = CommonOptions.MetricsJson();
        public readonly Option<string?> Init = new("--init") { HelpName = "FILE.npz|FILE.safetensors|FILE.onnx", Description = "Start from weights: W1,b1,... in an .npz file or PyTorch's Linear layers in a .safetensors file (the architecture comes from the file), or a whole .onnx model (engine import's formats; its activation and input scaling too)" };
        public readonly Option<string?> ExportNpz = new("--export-npz") { HelpName = "FILE.npz", Description = "Write the trained weights W1,b1,... to this .npz file" };
        public readonly Option<string?> CheckpointDir = new("--checkpoint-dir") { HelpName = "DIR", Description = "Save model, settings and position here at the end of every epoch (SIGINT/SIGTERM also save, then exit 130)" };
        public readonly Option<int> CheckpointEvery = new("--checkpoint-every") { HelpName = "STEPS", Description = "Also checkpoint every this many steps within an epoch (0: epoch ends only)", DefaultValueFactory = _ => 0 };
        public readonly Option<int> KeepCheckpoints = new("--keep-checkpoints") { HelpName = "N", Description = "How many of the newest checkpoints to keep", DefaultValueFactory = _ => 3 };
        public readonly Option<bool> Quiet = new("--quiet") { Description = "No per-epoch lines and no progress bar (the final report still prints)" };
        public readonly Option<string?> Report = new("--report") { HelpName = "DIR", Description = "Write report.html with plots (loss, accuracy, confusion matrix, per-class bars, misclassified examples) into this directory" };
        public readonly Option<bool> Resume = new("--resume") { Description = "Continue from the newest checkpoint in --checkpoint-dir up to --epochs (same data and settings); the result is bit-identical to an uninterrupted run" };
        public readonly OptimizerOptions Rates = new();

        public IEnumerable<Option> All =>
        [
            Data, Test, Hidden, Activation, Epochs, Batch, L2, EarlyStopping, Seed, Backend, Threads, Isa, Shuffle, ValidationSplit,
            Scale, Standardize, Output, MetricsJson, Init, ExportNpz, CheckpointDir, CheckpointEvery, KeepCheckpoints, Resume, Quiet, Report,
            .. Rates.All,
        ];
    }

    /// <summary>What the command line asks for, checked: every usage error is thrown here, before any data is read.</summary>
    sealed record Settings(TrainingOptions Options, int[] Hidden, Activation Activation, ComputeOptions Compute, int Threads, bool Quiet,
                           string? DataPath, string? TestPath, double? Split, float? Divisor, bool Standardize, string? InitPath,
                           string? OutPath, string? MetricsPath, string? NpzPath, string? ReportDir, CheckpointOptions? Checkpoints)
    {
        public static Settings Read(ParseResult p, Flags f)
        {
            TrainingOptions options = f.Rates.Read(p, p.GetValue(f.Epochs), p.GetValue(f.Batch), p.GetValue(f.L2), p.GetValue(f.Seed), p.GetValue(f.Shuffle), p.GetValue(f.EarlyStopping));
            int[] hidden = CommonOptions.ParseHidden(p.GetValue(f.Hidden)!);
            Activation activation = CommonOptions.ParseActivation(p.GetValue(f.Activation)!);
            ComputeOptions compute = CommonOptions.Compute(p.GetValue(f.Backend)!, p.GetValue(f.Threads), p.GetValue(f.Isa));
            double? split = p.GetValue(f.ValidationSplit);
            if (split is double s && !(s > 0 && s < 1)) throw new UsageException($"--validation-split must be between 0 and 1 (exclusive), got {s}");
            float? divisor = p.GetValue(f.Scale);
            if (divisor is float dv && !(dv > 0 && float.IsFinite(dv))) throw new UsageException($"--scale must be a positive finite number, got {dv}");
            if (divisor is not null && p.GetValue(f.Standardize)) throw new UsageException("--scale and --standardize exclude each other");
            string? outPath = p.GetValue(f.Output), metricsPath = p.GetValue(f.MetricsJson), npzPath = p.GetValue(f.ExportNpz);
            foreach (var (path, name) in new[] { (outPath, "--out"), (metricsPath, "--metrics-json"), (npzPath, "--export-npz") })
                RequireWritableDirectory(path, name);
            string? reportDir = p.GetValue(f.Report);
            HtmlReport.RequireUsableDirectory(reportDir, "--report");
            return new Settings(options, hidden, activation, compute, p.GetValue(f.Threads), p.GetValue(f.Quiet),
                                p.GetValue(f.Data), p.GetValue(f.Test), split, divisor, p.GetValue(f.Standardize), p.GetValue(f.Init),
                                outPath, metricsPath, npzPath, reportDir, ReadCheckpoints(p, f));
        }

        static CheckpointOptions? ReadCheckpoints(ParseResult p, Flags f)
        {
            if (p.GetValue(f.CheckpointDir) is not string dir)
                return p.GetValue(f.Resume) ? throw new UsageException("--resume needs --checkpoint-dir") : null;
            if (dir.Trim().Length == 0) throw new UsageException("--checkpoint-dir needs a directory name");
            HtmlReport.RequireUsableDirectory(dir, "--checkpoint-dir");
            if (p.GetValue(f.CheckpointEvery) < 0) throw new UsageException($"--checkpoint-every must be 0 or more, got {p.GetValue(f.CheckpointEvery)}");
            if (p.GetValue(f.KeepCheckpoints) < 1) throw new UsageException($"--keep-checkpoints must be at least 1, got {p.GetValue(f.KeepCheckpoints)}");
            return new CheckpointOptions(dir, p.GetValue(f.CheckpointEvery), p.GetValue(f.KeepCheckpoints), p.GetValue(f.Resume));
        }
    }

    /// <summary>The data of one run: what it trains on, what early stopping watches, what the final figures come from.</summary>
    sealed record RunData(Dataset Train, Dataset Watched, string WatchedName, Dataset Evaluation, string EvaluationName, string DataPath, int Classes);

    static int Run(Settings s)
    {
        var o = Console.Out;
        RunData data = LoadData(s);
        InputScaling scaling = s.Divisor is float d ? InputScaling.Divide(d)
            : s.Standardize ? InputScaling.FitStandardize(data.Train)
            : InputScaling.FitMax(data.Train);
        using Classifier model = BuildClassifier(s, data, scaling);
        PrintPlan(o, s, data, model, model.Scaling); // an ONNX --init brings its own scaling
        using var stop = new StopOnSignal();
        IReadOnlyList<EpochReport> epochs = TrainWithProgress(o, s, data, model, stop.Token);
        PrintEarlyStopping(o, s.Options, data.WatchedName, epochs);
        var result = model.Evaluate(data.Evaluation);
        Reports.PrintEvaluation(o, result, $"{data.EvaluationName} set ({data.Evaluation.Count} examples)");
        WriteOutputs(o, s, data, model, epochs, result);
        return ExitCodes.Success;
    }

    static RunData LoadData(Settings s)
    {
        var (train, evaluation, evaluationName, dataPath) = SelectData(s.DataPath, s.TestPath, s.Split, s.Options.Seed);
        // Early stopping picks weights by the watched loss, so it must not watch the set the final figures come from.
        Dataset watched = evaluation;
        string watchedName = evaluationName;
        if (s.Options.EarlyStoppingPatience > 0 && evaluationName == "test")
        {
            (train, watched) = ValidationSplit.Split(train, s.Split ?? DefaultEarlyStoppingSplit, s.Options.Seed);
            watchedName = "validation";
        }
        int classes = Math.Max(2, Math.Max(train.ClassCountFromLabels(), evaluation.ClassCountFromLabels()));
        return new RunData(train, watched, watchedName, evaluation, evaluationName, dataPath, classes);
    }

    /// <summary>
    /// A new network of the asked shape, or the one in --init, checked against the data: weights from an .npz (with this
    /// run's activation and scaling), PyTorch's Linear layers from .safetensors (likewise), or a whole model from an .onnx
    /// file (its activation and input scaling with it).
    /// </summary>
    static Classifier BuildClassifier(Settings s, RunData data, InputScaling scaling)
    {
        Classifier model = s.InitPath is null
            ? Classifier.Create(data.Train.Width, s.Hidden, data.Classes, s.Activation, scaling, s.Options.Seed, s.Compute)
            : s.InitPath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) ? Classifier.ImportOnnx(s.InitPath, s.Compute)
            : s.InitPath.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? Classifier.FromSafetensors(s.InitPath, s.Activation, scaling, s.Compute)
            : Classifier.FromWeights(s.InitPath, s.Activation, scaling, s.Compute);
        try
        {
            if (model.InputWidth != data.Train.Width)
                throw new EngineException($"{s.InitPath}: W1 takes {model.InputWidth} inputs, the data has {data.Train.Width} features");
            if (model.ClassCount < data.Classes)
                throw new EngineException($"{s.InitPath}: the last layer has {model.ClassCount} outputs, the data has {data.Classes} classes");
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    static void PrintPlan(TextWriter o, Settings s, RunData data, Classifier model, InputScaling scaling)
    {
        var options = s.Options;
        o.WriteLine($"network {model.Describe()} ({model.ParameterCount:N0} parameters){(s.InitPath is null ? $", Glorot/He init seed {options.Seed}" : $", weights from {s.InitPath}")}");
        string watchedPart = data.Watched == data.Evaluation ? "" : $", {data.Watched.Count:N0} {data.WatchedName} examples for early stopping";
        o.WriteLine($"data {data.DataPath}: {data.Train.Count:N0} training examples, {data.Evaluation.Count:N0} {data.EvaluationName} examples{watchedPart}, {data.Train.Width} features, {data.Classes} classes, inputs {scaling.Describe()}");
        o.WriteLine($"{options.Optimizer.Describe()}: {options.Epochs} epochs, batch {options.BatchSize}, lr {options.LearningRate.ToString(CultureInfo.InvariantCulture)}" +
                    $"{(options.Schedule.Kind == ScheduleKind.Constant ? "" : $" {options.Schedule.Describe()}")}, " +
                    $"l2 {options.L2.ToString(CultureInfo.InvariantCulture)}{(options.Optimizer.Kind == OptimizerKind.AdamW ? " (decoupled)" : "")}, " +
                    $"shuffle {(options.Shuffle ? $"on (seed {options.Seed})" : "off")}" +
                    $"{(options.EarlyStoppingPatience > 0 ? $", early stopping after {options.EarlyStoppingPatience} epochs without a lower {data.WatchedName} loss" : "")}; backend {model.Backend}");
    }

    static IReadOnlyList<EpochReport> TrainWithProgress(TextWriter o, Settings s, RunData data, Classifier model, CancellationToken stop)
    {
        if (s.Checkpoints is { Resume: true }) o.WriteLine($"resuming from the newest checkpoint in {s.Checkpoints.Directory}");
        var epochs = TrainingDisplay.Run(TrainingDisplay.Choose(s.Quiet), o, s.Options.Epochs, data.Train.Count, data.WatchedName,
            (onEpoch, onProgress) => model.Train(data.Train, s.Options, data.Watched, onEpoch, s.Checkpoints, stop, onProgress));
        o.WriteLine($"training time {epochs.Sum(r => r.Seconds).ToString("0.00", CultureInfo.InvariantCulture)} s");
        return epochs;
    }

    static void PrintEarlyStopping(TextWriter o, TrainingOptions options, string watchedName, IReadOnlyList<EpochReport> epochs)
    {
        if (options.EarlyStoppingPatience == 0 || epochs.Count == 0) return;
        EpochReport best = epochs.MinBy(r => r.TestLoss!.Value)!;
        string why = epochs[^1].Epoch < options.Epochs ? $"stopped after epoch {epochs[^1].Epoch}: no lower {watchedName} loss for {options.EarlyStoppingPatience} epochs; " : "";
        o.WriteLine($"early stopping: {why}kept the weights of epoch {best.Epoch} ({watchedName} loss {best.TestLoss!.Value.ToString("0.0000", CultureInfo.InvariantCulture)})");
    }

    /// <summary>The files a run read and its settings, for the metrics JSON and the report.</summary>
    static Provenance.Source ProvenanceOf(Settings s, RunData data, Classifier model)
    {
        var sources = new List<(string, string)> { ("train", data.DataPath) };
        if (s.TestPath is not null) sources.Add(("evaluation", s.TestPath));
        if (s.InitPath is not null) sources.Add(("initial weights", s.InitPath));
        return new Provenance.Source(model.Backend, s.Threads, s.Compute.Isa, sources, new Provenance.Run(model.Describe(), model.Scaling.Describe(), s.Options, s.InitPath));
    }

    static void WriteOutputs(TextWriter o, Settings s, RunData data, Classifier model, IReadOnlyList<EpochReport> epochs, EvaluationResult result)
    {
        if (s.OutPath is not null) { model.Save(s.OutPath); o.WriteLine($"\nmodel saved to {s.OutPath}"); }
        if (s.NpzPath is not null) { model.ExportWeights(s.NpzPath); o.WriteLine($"weights written to {s.NpzPath}"); }
        if (s.ReportDir is not null)
        {
            var settings = ReportSettings.ForTraining(model, s.Options, data.DataPath, data.Train, data.Evaluation, data.EvaluationName, s.InitPath, s.Threads);
            settings.AddRange(Provenance.Rows(ProvenanceOf(s, data, model)));
            var run = new RunReport("engine train", settings, epochs, result, $"{data.EvaluationName} set ({data.Evaluation.Count:N0} examples)", data.Evaluation,
                                    model.PredictProbabilities(data.Evaluation), model.ClassCount, data.WatchedName);
            o.WriteLine($"report written to {HtmlReport.Write(s.ReportDir, run)}");
        }
        if (s.MetricsPath is not null)
        {
            Reports.WriteMetricsJson(s.MetricsPath, result, epochs, ProvenanceOf(s, data, model), s.Options.Seed);
            o.WriteLine($"metrics written to {s.MetricsPath}");
        }
    }

    /// <summary>
    /// SIGINT/SIGTERM while it lives: training finishes the step, checkpoints and exits 130; a second signal terminates at
    /// once. It lives to the end of the run, so a first signal after training lets the report and the saves finish.
    /// </summary>
    sealed class StopOnSignal : IDisposable
    {
        readonly CancellationTokenSource _stop = new();
        readonly PosixSignalRegistration _sigint, _sigterm;

        public StopOnSignal()
        {
            _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        }

        public CancellationToken Token => _stop.Token;

        void OnSignal(PosixSignalContext ctx)
        {
            if (_stop.IsCancellationRequested) return;
            ctx.Cancel = true;
            _stop.Cancel();
        }

        public void Dispose()
        {
            _sigterm.Dispose();
            _sigint.Dispose();
            _stop.Dispose();
        }
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
        try { Engine.Serialization.AtomicFile.RequireWritable(path); }
        catch (EngineException e) { throw new EngineException($"{option} {e.Message}"); }
    }
}
