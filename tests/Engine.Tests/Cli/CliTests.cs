using System.Globalization;
using System.Text;
using System.Text.Json;
using Engine.Data;
using Engine.Kernels;
using Engine.Nn;
using Engine.Serialization;
using Engine.Tests.Data;

namespace Engine.Tests.Cli;

public sealed class CliTests : IDisposable
{
    const int Usage = 2, Failure = 1;

    readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// <paramref name="rows"/> examples of 20 features holding 0..16 and 3 classes: class c has features 6c..6c+5
    /// high (12..16) and the rest low, features 18 and 19 are noise.
    /// </summary>
    static string LearnableCsv(int rows = 200, bool labelled = true)
    {
        const int features = 20;
        var csv = new StringBuilder();
        if (labelled) csv.Append("label,");
        csv.AppendJoin(',', Enumerable.Range(0, features).Select(j => $"pixel{j}")).Append('\n');
        for (int i = 0; i < rows; i++)
        {
            int c = i % 3;
            var values = new int[features];
            for (int j = 0; j < features; j++)
            {
                if (j >= 18) values[j] = (i * 13 + j * 7) % 17;
                else if (j / 6 == c) values[j] = 12 + (i * 7 + j * 3) % 5;
                else values[j] = (i * 5 + j * 11) % 5;
            }
            if (labelled) csv.Append(c).Append(',');
            csv.AppendJoin(',', values).Append('\n');
        }
        return csv.ToString();
    }

    /// <summary>The CSV with field <paramref name="column"/> of line <paramref name="line"/> (both 1-based) replaced.</summary>
    static string BreakField(string csv, int line, int column, string value)
    {
        string[] lines = csv.Split('\n');
        string[] fields = lines[line - 1].Split(',');
        fields[column - 1] = value;
        lines[line - 1] = string.Join(',', fields);
        return string.Join('\n', lines);
    }

    string DataCsv() => _dir.WriteText("data.csv", LearnableCsv());

    /// <summary>The run failed with exactly one "engine: ..." line on stderr, no stack trace, naming every <paramref name="mentions"/>.</summary>
    internal static void AssertFailsCleanly(EngineRun run, int? exitCode, params string[] mentions)
    {
        Assert.True(run.ExitCode != 0, $"expected failure\n{run}");
        if (exitCode is int code) Assert.True(run.ExitCode == code, $"expected exit code {code}\n{run}");
        string[] lines = run.StderrLines;
        Assert.True(lines.Length == 1, $"expected one line on stderr\n{run}");
        Assert.True(lines[0].StartsWith("engine: ", StringComparison.Ordinal), $"stderr should start with 'engine: '\n{run}");
        Assert.DoesNotContain("Unhandled", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stdout);
        foreach (string m in mentions)
            Assert.True(lines[0].Contains(m, StringComparison.Ordinal), $"stderr should mention '{m}'\n{run}");
    }

    // ---- bad data -------------------------------------------------------------------------------

    [Fact]
    public void A_missing_data_path_is_reported()
    {
        string missing = _dir.File("no-such-data");
        var run = EngineProcess.Run("train", "--data", missing, "--epochs", "1");
        AssertFailsCleanly(run, Failure, missing);
    }

    [Fact]
    public void A_malformed_idx_file_in_a_data_directory_is_reported()
    {
        _dir.Write("train-images-idx3-ubyte", IdxFiles.Build([5, 28, 28], new byte[5 * 784], magic0: 0x12, magic1: 0x34));
        _dir.Write("train-labels-idx1-ubyte", IdxFiles.Labels(0, 1, 2, 3, 4));
        var run = EngineProcess.Run("train", "--data", _dir.Path, "--epochs", "1");
        AssertFailsCleanly(run, Failure, "train-images-idx3-ubyte", "not an IDX file");
    }

    [Theory]
    [InlineData(false, 60000)]
    [InlineData(true, 60000)]
    [InlineData(true, 2_000_000)] // 1.5 GB claimed: above the child's 1 GiB heap cap
    [InlineData(false, 2_000_000)]
    public void A_lying_idx_header_is_reported_without_allocating_the_claim(bool gzip, int claimed)
    {
        byte[] images = IdxFiles.Build([(uint)claimed, 28, 28], IdxFiles.Sequence(5 * 784));
        string name = gzip ? "train-images-idx3-ubyte.gz" : "train-images-idx3-ubyte";
        _dir.Write(name, gzip ? IdxFiles.Gzip(images) : images);
        _dir.Write("train-labels-idx1-ubyte", IdxFiles.Labels(0, 1, 2, 3, 4));

        var run = EngineProcess.Run("train", "--data", _dir.Path, "--epochs", "1");

        AssertFailsCleanly(run, Failure, name, $"{claimed}x28x28");
        Assert.DoesNotContain("out of memory", run.Stderr);
    }

    [Fact]
    public void An_image_and_label_count_mismatch_is_reported()
    {
        _dir.Write("train-images-idx3-ubyte", IdxFiles.Images(5, 4, 4));
        _dir.Write("train-labels-idx1-ubyte.gz", IdxFiles.Gzip(IdxFiles.Labels(0, 1, 2, 3)));
        var run = EngineProcess.Run("train", "--data", _dir.Path, "--epochs", "1");
        AssertFailsCleanly(run, Failure, "4 labels for 5 images", "train-labels-idx1-ubyte.gz");
    }

    [Fact]
    public void A_csv_with_a_bad_number_is_reported_with_line_and_column()
    {
        string path = _dir.WriteText("bad.csv", BreakField(LearnableCsv(30), line: 8, column: 5, value: "12x"));

        var run = EngineProcess.Run("train", "--data", path, "--epochs", "1");

        AssertFailsCleanly(run, Failure, path, "line 8", "column 5", "'12x'");
    }

    [Fact]
    public void Evaluate_with_a_garbage_model_file_is_reported()
    {
        string data = DataCsv();
        var garbage = new byte[300];
        new Random(5).NextBytes(garbage);
        string model = _dir.Write("garbage.model", garbage);

        var run = EngineProcess.Run("evaluate", "--model", model, "--data", data);

        AssertFailsCleanly(run, Failure, model, "not an engine model file");
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.02)]
    [InlineData(0.99)]
    public void Evaluate_with_a_truncated_model_file_is_reported(double keep)
    {
        string data = DataCsv();
        string good = _dir.File("good.model");
        var network = new Network(20, [8], 3, Activation.Tanh);
        network.InitializeWeights(1);
        ModelFile.Save(good, new Model(network, InputScaling.Divide(16)));
        byte[] bytes = File.ReadAllBytes(good);
        string model = _dir.Write("cut.model", bytes[..(int)(bytes.Length * keep)]);

        var run = EngineProcess.Run("evaluate", "--model", model, "--data", data);

        AssertFailsCleanly(run, Failure, model);
    }

    [Fact]
    public void Evaluate_with_a_missing_model_file_is_reported()
    {
        string model = _dir.File("absent.model");
        var run = EngineProcess.Run("evaluate", "--model", model, "--data", DataCsv());
        AssertFailsCleanly(run, Failure, model);
    }

    [Theory]
    [InlineData("evaluate")]
    [InlineData("predict")]
    public void A_missing_model_option_is_reported(string command)
    {
        var run = EngineProcess.Run(command, "--data", DataCsv());
        AssertFailsCleanly(run, Usage, "--model");
    }

    // ---- options out of range -------------------------------------------------------------------

    [Theory]
    [InlineData("--epochs", "0", "--epochs")]
    [InlineData("--epochs", "-3", "--epochs")]
    [InlineData("--batch", "0", "--batch")]
    [InlineData("--lr", "-1", "--lr")]
    [InlineData("--lr", "0", "--lr")]
    [InlineData("--lr", "nan", "--lr")]
    [InlineData("--lr", "NaN", "--lr")]
    [InlineData("--lr", "Infinity", "--lr")]
    [InlineData("--l2", "-1", "--l2")]
    [InlineData("--hidden", "0", "--hidden")]
    [InlineData("--hidden", "abc", "abc")]
    [InlineData("--hidden", "16,-4", "-4")]
    [InlineData("--activation", "foo", "foo")]
    [InlineData("--backend", "foo", "foo")]
    [InlineData("--threads", "0", "--threads")]
    [InlineData("--validation-split", "1.5", "--validation-split")]
    [InlineData("--validation-split", "0", "--validation-split")]
    [InlineData("--scale", "0", "--scale")]
    [InlineData("--scale", "-16", "--scale")]
    [InlineData("--epochs", "many", "many")]
    [InlineData("--frobnicate", "1", "--frobnicate")]
    [InlineData("--optimizer", "rmsprop", "rmsprop")]
    [InlineData("--optimizer", "1", "--optimizer")]
    [InlineData("--schedule", "linear", "linear")]
    [InlineData("--early-stopping", "-1", "--early-stopping")]
    [InlineData("--momentum", "0.5", "applies only to --optimizer momentum or nesterov")]
    [InlineData("--eps", "1e-6", "applies only to --optimizer adam or adamw")]
    [InlineData("--lr-gamma", "0.5", "applies only to --schedule step")]
    [InlineData("--lr-min", "0.01", "applies only to --schedule cosine")]
    [InlineData("--optimizer momentum --momentum", "1", "--momentum")]
    [InlineData("--optimizer nesterov --momentum", "-0.1", "--momentum")]
    [InlineData("--optimizer adam --beta1", "1", "--beta1")]
    [InlineData("--optimizer adamw --beta2", "-0.1", "--beta2")]
    [InlineData("--optimizer adam --eps", "0", "--eps")]
    [InlineData("--schedule step --lr-step", "0", "--lr-step")]
    [InlineData("--schedule step --lr-gamma", "1.5", "--lr-gamma")]
    [InlineData("--schedule cosine --lr-min", "5", "--lr-min")]
    public void Out_of_range_train_options_are_reported_before_any_work(string option, string value, string mention)
    {
        string data = DataCsv();
        string model = _dir.File("m.model");

        var run = EngineProcess.Run(["train", "--data", data, "--out", model, .. option.Split(' '), value]);

        AssertFailsCleanly(run, Usage, mention);
        Assert.DoesNotContain("epoch", run.Stdout);
        Assert.False(File.Exists(model));
    }

    [Theory]
    [InlineData("evaluate", "--backend", "foo", "foo")]
    [InlineData("evaluate", "--threads", "0", "--threads")]
    [InlineData("predict", "--threads", "-1", "--threads")]
    [InlineData("predict", "--unknown", "x", "--unknown")]
    public void Out_of_range_inference_options_are_reported(string command, string option, string value, string mention)
    {
        var run = EngineProcess.Run(command, "--model", _dir.File("whatever.model"), "--data", DataCsv(), option, value);
        AssertFailsCleanly(run, Usage, mention);
    }

    [Fact]
    public void Adam_with_early_stopping_and_a_schedule_trains_and_says_what_it_kept()
    {
        string data = DataCsv();
        var run = EngineProcess.Run("train", "--data", data, "--test", data, "--hidden", "8", "--epochs", "12", "--optimizer", "adamw",
                                    "--schedule", "cosine", "--early-stopping", "2", "--metrics-json", _dir.File("m.json"));
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        Assert.Contains("adamw (β1 0.9, β2 0.999, ε 1E-08): 12 epochs", run.Stdout);
        Assert.Contains("lr 0.001 cosine", run.Stdout); // adam's default rate
        Assert.Contains("validation examples for early stopping", run.Stdout);
        Assert.Matches(@"early stopping: .*kept the weights of epoch \d+ \(validation loss", run.Stdout);
        using var json = JsonDocument.Parse(File.ReadAllText(_dir.File("m.json")));
        float[] rates = json.RootElement.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("learningRate").GetSingle()).ToArray();
        Assert.Equal(0.001f, rates[0]);
        Assert.True(rates.Zip(rates.Skip(1)).All(p => p.Second < p.First), $"cosine rates must fall: {string.Join(", ", rates)}");
    }

    [Fact]
    public void Scale_and_standardize_together_are_rejected()
    {
        var run = EngineProcess.Run("train", "--data", DataCsv(), "--scale", "16", "--standardize");
        AssertFailsCleanly(run, Usage, "--scale", "--standardize");
    }

    [Fact]
    public void An_unknown_command_is_reported()
    {
        var run = EngineProcess.Run("frobnicate");
        AssertFailsCleanly(run, Usage, "frobnicate");
    }

    [Theory]
    [InlineData("--out")]
    [InlineData("--metrics-json")]
    [InlineData("--export-npz")]
    public void An_output_into_a_missing_directory_fails_before_training(string option)
    {
        string data = DataCsv();
        string missingDir = Path.Combine(_dir.Path, "no", "such", "dir");
        string target = Path.Combine(missingDir, "file.out");

        // Many epochs: were the check left until after training, this would print epoch lines first.
        var run = EngineProcess.Run("train", "--data", data, "--epochs", "100000", "--hidden", "64", option, target);

        AssertFailsCleanly(run, Usage, option, missingDir);
        Assert.Equal("", run.Stdout);
        Assert.False(Directory.Exists(missingDir));
    }

    [Fact]
    public void An_output_that_is_a_directory_fails_before_training()
    {
        var run = EngineProcess.Run("train", "--data", DataCsv(), "--epochs", "100000", "--out", _dir.Path);
        AssertFailsCleanly(run, Usage, "--out", "directory");
        Assert.Equal("", run.Stdout);
    }

    // ---- success path ---------------------------------------------------------------------------

    static JsonElement ReadJson(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    static void AssertMetrics(JsonElement m, int samples, int classes)
    {
        Assert.Equal(JsonValueKind.Object, m.ValueKind);
        double accuracy = m.GetProperty("accuracy").GetDouble();
        Assert.InRange(accuracy, 0, 1);
        Assert.True(double.IsFinite(m.GetProperty("loss").GetDouble()));
        Assert.Equal(samples, m.GetProperty("samples").GetInt32());

        var classList = m.GetProperty("classes").EnumerateArray().ToArray();
        Assert.Equal(classes, classList.Length);
        for (int c = 0; c < classes; c++)
        {
            var k = classList[c];
            Assert.Equal(c, k.GetProperty("label").GetInt32());
            Assert.True(k.GetProperty("support").GetInt32() >= 0);
            foreach (string ratio in new[] { "sensitivity", "specificity", "precision" })
            {
                var v = k.GetProperty(ratio);
                Assert.True(v.ValueKind is JsonValueKind.Number or JsonValueKind.Null, $"{ratio} is {v.ValueKind}");
                if (v.ValueKind == JsonValueKind.Number) Assert.InRange(v.GetDouble(), 0, 1);
            }
        }
        Assert.Equal(samples, classList.Sum(k => k.GetProperty("support").GetInt32()));

        var confusion = m.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray();
        Assert.Equal(classes, confusion.Length);
        Assert.All(confusion, row => Assert.Equal(classes, row.Length));
        Assert.Equal(samples, confusion.Sum(row => row.Sum()));
        for (int c = 0; c < classes; c++) Assert.Equal(classList[c].GetProperty("support").GetInt32(), confusion[c].Sum());
        int correct = Enumerable.Range(0, classes).Sum(c => confusion[c][c]);
        Assert.Equal((double)correct / samples, accuracy, 1e-9);

        Assert.Equal(Engine.Kernels.Backends.Default, m.GetProperty("backend").GetString());
        Assert.Equal(1, m.GetProperty("threads").GetInt32());
        Assert.True(m.TryGetProperty("seed", out _));
        Assert.Equal(JsonValueKind.Array, m.GetProperty("epochs").ValueKind);
    }

    [Fact]
    public void Train_evaluate_and_predict_succeed_and_write_consistent_outputs()
    {
        string data = DataCsv();
        string model = _dir.File("model.bin"), metrics = _dir.File("train.json"), npz = _dir.File("weights.npz");
        string metrics2 = _dir.File("evaluate.json"), predictions = _dir.File("predictions.csv");

        // train
        var train = EngineProcess.Run("train", "--data", data, "--epochs", "1", "--hidden", "16", "--batch", "8", "--seed", "5", "--threads", "1",
                                      "--out", model, "--metrics-json", metrics, "--export-npz", npz);
        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.Equal("", train.Stderr);
        Assert.Contains("epoch 1/1", train.Stdout);
        Assert.True(File.Exists(model) && File.Exists(metrics) && File.Exists(npz), train.ToString());

        var trainMetrics = ReadJson(metrics);
        AssertMetrics(trainMetrics, samples: 40, classes: 3); // the default 0.2 validation split of 200 rows
        Assert.Equal(5ul, trainMetrics.GetProperty("seed").GetUInt64());
        var epoch = Assert.Single(trainMetrics.GetProperty("epochs").EnumerateArray().ToArray());
        Assert.Equal(1, epoch.GetProperty("epoch").GetInt32());
        Assert.True(double.IsFinite(epoch.GetProperty("trainLoss").GetDouble()));
        Assert.InRange(epoch.GetProperty("testAccuracy").GetDouble(), 0, 1);
        Assert.True(epoch.GetProperty("seconds").GetDouble() >= 0);

        // the saved model and the exported weights agree
        var saved = ModelFile.Load(model);
        Assert.Equal([20, 16, 3], saved.Network.Widths);
        Assert.Equal(InputScaling.Kind.Divide, saved.Scaling.Mode);
        Assert.Equal(16f, saved.Scaling.Divisor);
        var exported = Npz.ToNetwork(NpyReader.ReadNpz(npz), Activation.Tanh, npz);
        Assert.Equal(saved.Network.Widths, exported.Widths);
        Assert.Equal(saved.Network.Parameters, exported.Parameters);

        // evaluate
        var evaluate = EngineProcess.Run("evaluate", "--model", model, "--data", data, "--metrics-json", metrics2, "--threads", "1");
        Assert.True(evaluate.ExitCode == 0, evaluate.ToString());
        Assert.Equal("", evaluate.Stderr);
        var evalMetrics = ReadJson(metrics2);
        AssertMetrics(evalMetrics, samples: 200, classes: 3);
        Assert.Empty(evalMetrics.GetProperty("epochs").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, evalMetrics.GetProperty("seed").ValueKind);
        // Three well-separated classes: one epoch of 20 small batches learns them.
        Assert.True(evalMetrics.GetProperty("accuracy").GetDouble() > 0.9, File.ReadAllText(metrics2));

        // predict
        var predict = EngineProcess.Run("predict", "--model", model, "--data", data, "--out", predictions, "--threads", "1");
        Assert.True(predict.ExitCode == 0, predict.ToString());
        string[] lines = File.ReadAllLines(predictions);
        Assert.Equal("index,predicted,p0,p1,p2,label", lines[0]);
        Assert.Equal(201, lines.Length);
        int correct = 0;
        for (int i = 1; i < lines.Length; i++)
        {
            string[] f = lines[i].Split(',');
            Assert.Equal(6, f.Length);
            Assert.Equal(i - 1, int.Parse(f[0], CultureInfo.InvariantCulture));
            int predicted = int.Parse(f[1], CultureInfo.InvariantCulture);
            double[] p = f[2..5].Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            int label = int.Parse(f[5], CultureInfo.InvariantCulture);
            Assert.All(p, v => Assert.InRange(v, 0, 1));
            Assert.True(Math.Abs(p.Sum() - 1) < 1e-4, $"line {i + 1}: probabilities sum to {p.Sum()}");
            Assert.Equal(Array.IndexOf(p, p.Max()), predicted);
            Assert.Equal((i - 1) % 3, label);
            if (predicted == label) correct++;
        }
        Assert.Equal(evalMetrics.GetProperty("accuracy").GetDouble(), correct / 200.0, 1e-9);
    }

    [Fact]
    public void Predict_on_unlabelled_data_writes_to_stdout_without_a_label_column()
    {
        string model = _dir.File("model.bin");
        var network = new Network(20, [4], 3, Activation.Relu);
        network.InitializeWeights(9);
        ModelFile.Save(model, new Model(network, InputScaling.Divide(16)));
        string data = _dir.WriteText("unlabelled.csv", LearnableCsv(12, labelled: false));

        var run = EngineProcess.Run("predict", "--model", model, "--data", data, "--threads", "1");

        Assert.True(run.ExitCode == 0, run.ToString());
        string[] lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("index,predicted,p0,p1,p2", lines[0]);
        Assert.Equal(13, lines.Length);
        Assert.All(lines[1..], l => Assert.Equal(5, l.Split(',').Length));
    }

    [Theory]
    [InlineData("evaluate", false)]
    [InlineData("evaluate", true)]
    [InlineData("predict", false)]
    [InlineData("predict", true)]
    public void Inference_on_data_of_the_wrong_width_is_reported(string command, bool standardize)
    {
        string model = _dir.File("model.bin");
        var network = new Network(7, [4], 3, Activation.Tanh);
        network.InitializeWeights(2);
        var scaling = standardize ? InputScaling.Standardize(new float[7], Enumerable.Repeat(1f, 7).ToArray()) : InputScaling.Divide(16);
        ModelFile.Save(model, new Model(network, scaling));
        string data = DataCsv();

        var run = EngineProcess.Run(command, "--model", model, "--data", data);

        AssertFailsCleanly(run, Failure, data, "20", "7");
    }

    [Fact]
    public void Evaluate_with_labels_beyond_the_model_classes_is_reported()
    {
        string model = _dir.File("model.bin");
        var network = new Network(20, [4], 2, Activation.Tanh);
        network.InitializeWeights(2);
        ModelFile.Save(model, new Model(network, InputScaling.Divide(16)));
        string data = DataCsv(); // labels 0..2

        var run = EngineProcess.Run("evaluate", "--model", model, "--data", data);

        AssertFailsCleanly(run, Failure, data, "label 2");
    }

    [Fact]
    public void The_child_process_heap_cap_is_in_effect()
    {
        // 20-20000-20000-3 needs 1.6 GB of parameters: under the 1 GiB cap the first allocation fails at once.
        var run = EngineProcess.Run("train", "--data", DataCsv(), "--hidden", "20000,20000", "--epochs", "1");
        Assert.True(run.ExitCode != 0, run.ToString());
        Assert.True(run.Stderr.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
                    || run.Stderr.Contains("OutOfMemory", StringComparison.Ordinal), run.ToString());
        Assert.DoesNotContain("epoch", run.Stdout);
    }

    [Fact]
    public void A_failed_train_run_leaves_an_existing_model_file_untouched()
    {
        string data = DataCsv();
        string model = _dir.File("model.bin");
        var first = EngineProcess.Run("train", "--data", data, "--epochs", "1", "--hidden", "8", "--threads", "1", "--out", model);
        Assert.True(first.ExitCode == 0, first.ToString());
        byte[] before = File.ReadAllBytes(model);
        DateTime written = File.GetLastWriteTimeUtc(model);
        string[] filesBefore = _dir.FileNames();

        string bad = _dir.WriteText("bad.csv", BreakField(LearnableCsv(20), line: 5, column: 3, value: "5x"));
        var failedOnData = EngineProcess.Run("train", "--data", bad, "--epochs", "1", "--hidden", "8", "--threads", "1", "--out", model);
        AssertFailsCleanly(failedOnData, Failure, bad, "line");

        var failedOnOption = EngineProcess.Run("train", "--data", data, "--epochs", "0", "--out", model);
        AssertFailsCleanly(failedOnOption, Usage, "--epochs");

        Assert.Equal(before, File.ReadAllBytes(model));
        Assert.Equal(written, File.GetLastWriteTimeUtc(model));
        Assert.Equal(filesBefore.Append("bad.csv").Order(StringComparer.Ordinal), _dir.FileNames());
    }
}
