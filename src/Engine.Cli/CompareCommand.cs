using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Engine.Cli.Reporting;
using Engine.Data;
using Engine.Kernels;
using Engine.Training;

namespace Engine.Cli;

/// <summary>
/// <c>engine compare</c>: one training configuration on each backend and thread count, side by side: time per epoch,
/// samples/s, accuracy, and whether the trained weights are bit-identical to the first run's.
/// </summary>
static class CompareCommand
{
    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "Training data (default: the bundled MNIST-10k)" };
        var test = new Option<string?>("--test") { Description = "Evaluation data (default: the data's test split)" };
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer widths", DefaultValueFactory = _ => TrainCommand.DefaultHidden };
        var activation = new Option<string>("--activation") { Description = "tanh, relu or sigmoid", DefaultValueFactory = _ => "tanh" };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 3, Description = "Epochs per run" };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => TrainCommand.DefaultBatch, Description = "Mini-batch size" };
        var l2 = new Option<float>("--l2") { DefaultValueFactory = _ => TrainCommand.DefaultL2, Description = "L2 penalty" };
        var seed = new Option<ulong>("--seed") { DefaultValueFactory = _ => 0UL, Description = "Seed for weights and shuffling" };
        var backends = new Option<string>("--backends") { DefaultValueFactory = _ => "simd,reference", Description = "Backends to run, comma-separated" };
        var threads = new Option<string>("--threads") { DefaultValueFactory = _ => "1,2", Description = "Thread counts for simd, comma-separated (reference always uses 1)" };
        var json = new Option<bool>("--json") { Description = "Print JSON and nothing else: schema version, provenance, and one result per run" };
        var command = new Command("compare", "Train one configuration on each backend and thread count and compare time, accuracy and weights")
        {
            data, test, hidden, activation, epochs, batch, l2, seed, backends, threads, json,
        };
        var rates = new OptimizerOptions();
        foreach (var option in rates.All) command.Options.Add(option);
        command.SetAction(p =>
        {
            TrainingOptions options = rates.Read(p, p.GetValue(epochs), p.GetValue(batch), p.GetValue(l2), p.GetValue(seed), shuffle: true);
            int[] widths = CommonOptions.ParseHidden(p.GetValue(hidden)!);
            Activation act = CommonOptions.ParseActivation(p.GetValue(activation)!);
            var runs = new List<ComputeOptions>();
            foreach (string b in p.GetValue(backends)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                foreach (string t in b.Equals("reference", StringComparison.OrdinalIgnoreCase) ? ["1"] : p.GetValue(threads)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (!int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int n)) throw new UsageException($"--threads: '{t}' is not a thread count");
                    runs.Add(CommonOptions.Compute(b, n, null));
                }
            if (runs.Count == 0) throw new UsageException("--backends names no backend");

            var (train, evaluation, evaluationName, dataPath) = TrainCommand.SelectData(p.GetValue(data), p.GetValue(test), null, options.Seed);
            InputScaling scaling = InputScaling.FitMax(train);
            int classes = Math.Max(2, Math.Max(train.ClassCountFromLabels(), evaluation.ClassCountFromLabels()));
            bool asJson = p.GetValue(json);
            var o = asJson ? TextWriter.Null : Console.Out;
            var results = new List<(ComputeOptions Compute, double Seconds, double Accuracy, string Weights)>();
            o.WriteLine($"{dataPath}: {train.Count:N0} training, {evaluation.Count:N0} {evaluationName} examples; {train.Width}-{string.Join("-", widths.Append(classes))} {act.Name()}, " +
                        $"{options.Epochs} epochs, batch {options.BatchSize}, {options.Optimizer.Describe()}, lr {options.LearningRate.ToString(CultureInfo.InvariantCulture)}" +
                        $"{(options.Schedule.Kind == ScheduleKind.Constant ? "" : $" {options.Schedule.Describe()}")}, seed {options.Seed}");
            o.WriteLine($"{"backend",-10} {"threads",7} {"s/epoch",9} {"samples/s",11} {"accuracy",9}  weights");
            string scratch = Path.Combine(Path.GetTempPath(), $"engine-compare-{Environment.ProcessId}");
            Directory.CreateDirectory(scratch);
            try
            {
                byte[]? first = null;
                foreach (var compute in runs)
                {
                    using var model = Classifier.Create(train.Width, widths, classes, act, scaling, options.Seed, compute);
                    var reports = model.Train(train, options);
                    double seconds = reports.Average(r => r.Seconds);
                    double accuracy = model.Evaluate(evaluation).Accuracy;
                    string weightsFile = Path.Combine(scratch, "w.npz");
                    model.ExportWeights(weightsFile);
                    byte[] weights = File.ReadAllBytes(weightsFile);
                    string same = first is null ? "(reference point)" : weights.AsSpan().SequenceEqual(first) ? "bit-identical" : "DIFFERENT";
                    first ??= weights;
                    o.WriteLine($"{compute.Backend,-10} {compute.Threads,7} {seconds,9:F3} {train.Count / seconds,11:N0} {accuracy,8:P2}  {same}");
                    results.Add((compute, seconds, accuracy, same));
                }
            }
            finally { Directory.Delete(scratch, recursive: true); }
            if (asJson)
            {
                using var w = new Utf8JsonWriter(Console.OpenStandardOutput(), new JsonWriterOptions { Indented = true });
                w.WriteStartObject();
                var sources = new List<(string, string)> { ("train", dataPath) };
                if (p.GetValue(test) is { } testPath) sources.Add(("evaluation", testPath));
                string network = $"{train.Width}-{string.Join("-", widths.Append(classes))} {act.Name()}";
                Provenance.Write(w, new Provenance.Source(string.Join(",", runs.Select(r => r.Backend).Distinct()), runs.Max(r => r.Threads), null, sources,
                                                          new Provenance.Run(network, scaling.Describe(), options, null)));
                w.WriteStartArray("runs");
                foreach (var (compute, seconds, accuracy, weights) in results)
                {
                    w.WriteStartObject();
                    w.WriteString("backend", compute.Backend);
                    w.WriteNumber("threads", compute.Threads);
                    w.WriteNumber("secondsPerEpoch", seconds);
                    w.WriteNumber("samplesPerSecond", train.Count / seconds);
                    w.WriteNumber("accuracy", accuracy);
                    w.WriteString("weights", weights);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
                w.Flush();
                Console.Out.WriteLine();
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
