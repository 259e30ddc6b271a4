using Engine.Kernels;
using System.CommandLine;
using System.Globalization;
using System.Text;
using Engine.Data;
using Engine.Evaluation;
using Engine.Serialization;
using Engine.Cli.Imaging;
using System.Text.Json;

namespace Engine.Cli;

/// <summary>
/// <c>engine predict</c>: class probabilities per example as CSV (index,predicted,p0,…[,label]) for a data set, or
/// for pictures of digits (<c>--image</c>): each is preprocessed like MNIST (<see cref="DigitImage"/>) and the top
/// classes are printed, or with <c>--json</c> <c>{ "predicted": k, "probabilities": [p0, …] }</c>.
/// </summary>
static class PredictCommand
{
    /// <summary>How many classes the text output lists per picture.</summary>
    const int TopClasses = 3;

    public static Command Create()
    {
        var model = EvaluateCommand.ModelOption();
        var data = EvaluateCommand.DataOption();
        var output = new Option<string?>("--out") { Description = "Write predictions CSV here (default: standard output)" };
        var image = new Option<string[]>("--image")
        {
            Description = "Picture(s) of one handwritten digit each (PNG, JPEG, GIF, BMP, WebP, PGM), preprocessed like MNIST; excludes --data",
            AllowMultipleArgumentsPerToken = true,
        };
        var json = new Option<bool>("--json")
        {
            Description = "With --image: print { \"predicted\": k, \"probabilities\": [...] } (an array of them, each with \"image\", for several pictures); with --data: JSON lines, one { index, predicted, probabilities, label } per example",
        };
        var savePreprocessed = new Option<string?>("--save-preprocessed")
        {
            Description = "With one --image: write the 28x28 picture the network sees to FILE (.pgm or .png)",
        };
        var backend = CommonOptions.Backend();
        var threads = CommonOptions.Threads();
        var isa = CommonOptions.Isa();
        var command = new Command("predict", "Predict classes and class probabilities with a saved model")
        {
            model, data, output, image, json, savePreprocessed, backend, threads, isa,
        };
        command.SetAction(p =>
        {
            ComputeOptions compute = CommonOptions.Compute(p.GetValue(backend)!, p.GetValue(threads), p.GetValue(isa));
            string[] images = p.GetValue(image) ?? [];
            if (images.Length > 0 || p.GetResult(image) is not null)
                return PredictImages(p.GetValue(model)!, images, p.GetValue(data), p.GetValue(output), p.GetValue(json),
                                     p.GetValue(savePreprocessed), compute);
            if (p.GetValue(savePreprocessed) is not null) throw new UsageException("--save-preprocessed applies to --image");
            string? outPath = p.GetValue(output);
            TrainCommand.RequireWritableDirectory(outPath, "--out");
            using var loaded = Classifier.Load(p.GetValue(model)!, compute);
            Dataset dataset = DataSource.LoadForInference(p.GetValue(data) ?? DataSource.BundledDirectory());
            float[] probabilities = loaded.PredictProbabilities(dataset);
            int k = loaded.ClassCount;

            var text = new StringBuilder();
            if (p.GetValue(json))
            {
                // JSON lines: one object per example, probabilities written as the float32 they are.
                var buffer = new MemoryStream();
                for (int i = 0; i < dataset.Count; i++)
                {
                    var row = probabilities.AsSpan(i * k, k);
                    using (var w = new Utf8JsonWriter(buffer))
                    {
                        w.WriteStartObject();
                        w.WriteNumber("index", i);
                        w.WriteNumber("predicted", Classifier.ArgMax(row));
                        w.WriteStartArray("probabilities");
                        foreach (float v in row) w.WriteNumberValue(v);
                        w.WriteEndArray();
                        if (dataset.HasLabels) w.WriteNumber("label", dataset.Labels![i]);
                        w.WriteEndObject();
                    }
                    buffer.WriteByte((byte)'\n');
                }
                text.Append(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
            }
            else
            {
                text.Append("index,predicted");
                for (int c = 0; c < k; c++) text.Append(",p").Append(c);
                if (dataset.HasLabels) text.Append(",label");
                text.Append('\n');
                for (int i = 0; i < dataset.Count; i++)
                {
                    var row = probabilities.AsSpan(i * k, k);
                    text.Append(i).Append(',').Append(Classifier.ArgMax(row));
                    foreach (float v in row) text.Append(',').Append(v.ToString(CultureInfo.InvariantCulture));
                    if (dataset.HasLabels) text.Append(',').Append(dataset.Labels![i]);
                    text.Append('\n');
                }
            }
            if (outPath is null) Console.Out.Write(text);
            else
            {
                AtomicFile.Write(outPath, s => s.Write(Encoding.UTF8.GetBytes(text.ToString())));
                Console.Error.WriteLine($"{dataset.Count} predictions written to {outPath}");
            }
            return ExitCodes.Success;
        });
        return command;
    }

    static int PredictImages(string modelPath, string[] images, string? data, string? outPath, bool json, string? savePath, ComputeOptions compute)
    {
        if (data is not null) throw new UsageException("--image and --data exclude each other: predict either pictures or a data set");
        if (outPath is not null) throw new UsageException("--out writes the CSV of --data; results for --image go to standard output");
        if (images.Length == 0) throw new UsageException("--image needs a picture file");
        if (savePath is not null)
        {
            if (images.Length > 1) throw new UsageException("--save-preprocessed takes one --image");
            string extension = Path.GetExtension(savePath).ToLowerInvariant();
            if (extension is not (".pgm" or ".png")) throw new UsageException($"--save-preprocessed writes .pgm or .png, not '{savePath}'");
            TrainCommand.RequireWritableDirectory(savePath, "--save-preprocessed");
        }

        using var classifier = Classifier.Load(modelPath, compute);
        const int pixels = DigitImage.Side * DigitImage.Side;
        if (classifier.InputWidth != pixels)
            throw new EngineException($"{modelPath}: the model takes {classifier.InputWidth} inputs; --image needs a model of 28x28 = {pixels} inputs (MNIST)");

        // Every picture is read and preprocessed before anything is printed, so an error leaves no partial output.
        var features = new float[images.Length * pixels];
        for (int i = 0; i < images.Length; i++)
        {
            GreyImage digit = DigitImage.Preprocess(ImageFile.Load(images[i]), images[i]).Digit;
            digit.Pixels.CopyTo(features, i * pixels);
            if (savePath is not null) ImageFile.Save(savePath, digit);
        }
        float[] probabilities = classifier.PredictProbabilities(features, images.Length);
        int k = classifier.ClassCount;

        if (json)
        {
            using var stdout = Console.OpenStandardOutput();
            using (var writer = new Utf8JsonWriter(stdout))
            {
                if (images.Length > 1) writer.WriteStartArray();
                for (int i = 0; i < images.Length; i++)
                {
                    var row = probabilities.AsSpan(i * k, k);
                    writer.WriteStartObject();
                    if (images.Length > 1) writer.WriteString("image", images[i]);
                    writer.WriteNumber("predicted", Classifier.ArgMax(row));
                    writer.WriteStartArray("probabilities");
                    foreach (float v in row) writer.WriteNumberValue(v); // shortest text that reads back as the same float
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }
                if (images.Length > 1) writer.WriteEndArray();
            }
            stdout.Write("\n"u8);
            return ExitCodes.Success;
        }

        var text = new StringBuilder();
        for (int i = 0; i < images.Length; i++)
        {
            var row = probabilities.AsSpan(i * k, k);
            text.Append(images[i]).Append(": predicted ").Append(Classifier.ArgMax(row)).Append('\n');
            // Most probable first; equal probabilities in class order.
            int[] order = Enumerable.Range(0, k).ToArray();
            float[] keys = row.ToArray();
            Array.Sort(order, (a, b) => keys[b].CompareTo(keys[a]) is int c && c != 0 ? c : a.CompareTo(b));
            foreach (int c in order.Take(TopClasses))
                text.Append(CultureInfo.InvariantCulture, $"  {c,2}  {keys[c] * 100,6:F2} %\n");
        }
        Console.Out.Write(text);
        if (savePath is not null) Console.Error.WriteLine($"the 28x28 input written to {savePath}");
        return ExitCodes.Success;
    }
}
