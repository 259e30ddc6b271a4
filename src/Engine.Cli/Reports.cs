using Engine.Cli.Reporting;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Engine.Evaluation;
using Engine.Serialization;
using Engine.Training;

namespace Engine.Cli;

/// <summary>The human-readable evaluation report and the --metrics-json file.</summary>
static class Reports
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Percent(double v) => double.IsNaN(v) ? "     -" : (100 * v).ToString("0.00", Inv).PadLeft(6) + " %";

    public static void PrintEpoch(TextWriter o, EpochReport r, int epochs, int samples, string evaluationName = "test") =>
        o.WriteLine(EpochLine(r, epochs, samples, evaluationName));

    /// <summary>
    /// One epoch's line; when it is wider than <paramref name="width"/> (a terminal's columns), the same figures
    /// without their labels' repetitions and the throughput, so a live display's line does not wrap.
    /// </summary>
    public static string EpochLine(EpochReport r, int epochs, int samples, string evaluationName = "test", int width = int.MaxValue)
    {
        string epoch = $"epoch {r.Epoch.ToString().PadLeft(epochs.ToString().Length)}/{epochs}";
        string test = r.TestAccuracy is double acc ? $"  {evaluationName} loss {r.TestLoss!.Value.ToString("0.0000", Inv)}  {evaluationName} accuracy {Percent(acc)}" : "";
        string full = $"{epoch}  train loss {r.TrainLoss.ToString("0.0000", Inv)}  train accuracy {Percent(r.TrainAccuracy)}{test}  " +
                      $"{r.Seconds.ToString("0.00", Inv)} s ({(samples / r.Seconds).ToString("N0", Inv)} samples/s)";
        if (full.Length < width) return full;
        string shortTest = r.TestAccuracy is double a ? $"  {evaluationName} loss {r.TestLoss!.Value.ToString("0.0000", Inv)} {Percent(a).Trim()}" : "";
        string compact = $"{epoch}  train loss {r.TrainLoss.ToString("0.0000", Inv)} {Percent(r.TrainAccuracy).Trim()}{shortTest}  {r.Seconds.ToString("0.00", Inv)} s";
        return compact.Length < width ? compact : compact[..Math.Max(1, width - 1)];
    }

    public static void PrintEvaluation(TextWriter o, EvaluationResult e, string what)
    {
        int correct = 0;
        for (int c = 0; c < e.Confusion.Length; c++) correct += e.Confusion[c][c];
        o.WriteLine();
        o.WriteLine($"{what}: accuracy {Percent(e.Accuracy).Trim()} ({correct} of {e.Samples}), mean cross-entropy {e.Loss.ToString("0.0000", Inv)}");
        o.WriteLine();
        o.WriteLine("class  support  sensitivity  specificity  precision");
        foreach (var c in e.Classes)
            o.WriteLine($"{c.Label,5}  {c.Support,7}  {Percent(c.Sensitivity),11}  {Percent(c.Specificity),11}  {Percent(c.Precision),9}");
        var weakest = e.Classes.Where(c => c.Support > 0).MinBy(c => c.Sensitivity);
        var leastSpecific = e.Classes.MinBy(c => c.Specificity);
        if (weakest is not null && leastSpecific is not null)
            o.WriteLine($"lowest sensitivity: class {weakest.Label} ({Percent(weakest.Sensitivity).Trim()}); " +
                        $"lowest specificity (most often wrongly predicted): class {leastSpecific.Label} ({Percent(leastSpecific.Specificity).Trim()})");
        o.WriteLine();
        o.WriteLine("confusion matrix (rows: true class, columns: predicted class)");
        int width = Math.Max(4, e.Confusion.SelectMany(r => r).DefaultIfEmpty(0).Max().ToString(Inv).Length + 1);
        var sb = new StringBuilder("true\\pred".PadRight(9));
        for (int p = 0; p < e.Confusion.Length; p++) sb.Append(p.ToString(Inv).PadLeft(width));
        o.WriteLine(sb);
        for (int t = 0; t < e.Confusion.Length; t++)
        {
            sb.Clear().Append(t.ToString(Inv).PadLeft(5)).Append("    ");
            foreach (int n in e.Confusion[t]) sb.Append(n.ToString(Inv).PadLeft(width));
            o.WriteLine(sb);
        }
    }

    /// <summary>
    /// Writes the metrics JSON: schema version and provenance (<see cref="Provenance"/>), then accuracy, loss, samples,
    /// classes, confusion, epochs, backend, threads, seed.
    /// </summary>
    public static void WriteMetricsJson(string path, EvaluationResult e, IReadOnlyList<EpochReport> epochs, Provenance.Source source, ulong? seed)
    {
        AtomicFile.Write(path, stream =>
        {
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            w.WriteStartObject();
            Provenance.Write(w, source);
            Number(w, "accuracy", e.Accuracy);
            Number(w, "loss", e.Loss);
            w.WriteNumber("samples", e.Samples);
            w.WriteStartArray("classes");
            foreach (var c in e.Classes)
            {
                w.WriteStartObject();
                w.WriteNumber("label", c.Label);
                w.WriteNumber("support", c.Support);
                Number(w, "sensitivity", c.Sensitivity);
                Number(w, "specificity", c.Specificity);
                Number(w, "precision", c.Precision);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("confusion");
            foreach (var row in e.Confusion)
            {
                w.WriteStartArray();
                foreach (int n in row) w.WriteNumberValue(n);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteStartArray("epochs");
            foreach (var r in epochs)
            {
                w.WriteStartObject();
                w.WriteNumber("epoch", r.Epoch);
                Number(w, "trainLoss", r.TrainLoss);
                Number(w, "trainAccuracy", r.TrainAccuracy);
                w.WriteNumber("learningRate", r.LearningRate); // the float32 it is
                if (r.TestAccuracy is double acc) Number(w, "testAccuracy", acc);
                if (r.TestLoss is double loss) Number(w, "testLoss", loss);
                Number(w, "seconds", r.Seconds);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("backend", source.Backend);
            w.WriteNumber("threads", source.Threads);
            if (seed is ulong s) w.WriteNumber("seed", s);
            else w.WriteNull("seed");
            w.WriteEndObject();
        });
    }

    // JSON has no NaN: an undefined ratio (e.g. precision of a class never predicted) is written as null.
    static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }
}
