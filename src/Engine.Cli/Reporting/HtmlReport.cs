using System.Globalization;
using System.Net;
using System.Text;
using Engine.Serialization;

namespace Engine.Cli.Reporting;

/// <summary>
/// Writes a run's report into a directory: <c>report.html</c> and the PNG images it shows. Everything is rendered in
/// memory first, then each file is written atomically, images before the page, so a failure leaves no half-written
/// file and the page never links an image that is not there. Only the files named here are written; nothing else in
/// the directory is touched.
/// </summary>
static class HtmlReport
{
    public const string PageFile = "report.html";
    public const string LossFile = "loss.png", AccuracyFile = "accuracy.png", ConfusionFile = "confusion.png",
                        ClassesFile = "classes.png", GalleryFile = "misclassified.png";

    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Fails before any work when <paramref name="dir"/> cannot become a report directory.</summary>
    public static void RequireUsableDirectory(string? dir, string option)
    {
        if (dir is null) return;
        if (dir.Trim().Length == 0) throw new UsageException($"{option} needs a directory name");
        if (File.Exists(dir)) throw new UsageException($"{option} {dir} is a file, expected a directory (it is created if missing)");
        string parent = Path.GetDirectoryName(Path.GetFullPath(dir)) ?? ".";
        if (!Directory.Exists(dir) && !Directory.Exists(parent)) throw new UsageException($"{option} {dir}: directory {parent} does not exist");
        // Before training, not after: the directory (or, when it is still to be made, its parent) takes a new file.
        string probe = Directory.Exists(dir) ? Path.Combine(dir, "report.html") : dir;
        try { Engine.Serialization.AtomicFile.RequireWritable(probe); }
        catch (EngineException e) { throw new EngineException($"{option} {e.Message}"); }
    }

    /// <summary>Renders and writes the report; returns the path of the page.</summary>
    public static string Write(string dir, RunReport run)
    {
        var images = new List<(string File, byte[] Png)>();
        var page = Render(run, images);
        try { Directory.CreateDirectory(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new EngineException($"{dir}: cannot create the report directory ({e.Message})"); }
        foreach (var (file, png) in images) AtomicFile.Write(Path.Combine(dir, file), s => s.Write(png));
        string pagePath = Path.Combine(dir, PageFile);
        AtomicFile.Write(pagePath, s => s.Write(new UTF8Encoding(false).GetBytes(page)));
        return pagePath;
    }

    static string H(string text) => WebUtility.HtmlEncode(text);
    static string Pct(double v) => double.IsFinite(v) ? (100 * v).ToString("0.00", Inv) + " %" : "–";

    static string Image(List<(string, byte[])> images, string file, byte[] png, int width, int height, string alt)
    {
        images.Add((file, png));
        return $"<a href=\"{file}\"><img src=\"{file}\" width=\"{width}\" height=\"{height}\" alt=\"{H(alt)}\"></a>";
    }

    static string Render(RunReport run, List<(string, byte[])> images)
    {
        var e = run.Evaluation;
        int correct = 0;
        for (int c = 0; c < e.Confusion.Length; c++) correct += e.Confusion[c][c];
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
          .Append($"<title>{H(run.Title)}: accuracy {Pct(e.Accuracy)}</title>\n")
          .Append("<style>\nbody{font-family:'DejaVu Sans',sans-serif;margin:2em;max-width:1000px;color:#222}\n")
          .Append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\n")
          .Append("th{background:#f3f3f3}td.name{text-align:left}img{max-width:100%;height:auto;border:1px solid #ddd}\n")
          .Append("td.diag{font-weight:bold;background:#e8f0fb}\n</style>\n</head>\n<body>\n")
          .Append($"<h1>{H(run.Title)}</h1>\n")
          .Append($"<p id=\"summary\">{H(run.EvaluationName)}: accuracy <b>{Pct(e.Accuracy)}</b> ({correct} of {e.Samples}), " +
                  $"mean cross-entropy {e.Loss.ToString("0.0000", Inv)}</p>\n");

        sb.Append("<h2>Settings</h2>\n<table id=\"settings\">\n");
        foreach (var (name, value) in run.Settings)
            sb.Append($"<tr><th>{H(name)}</th><td class=\"name\">{H(value)}</td></tr>\n");
        sb.Append("</table>\n");

        sb.Append("<h2>Training</h2>\n");
        if (run.Epochs.Count == 0)
            sb.Append("<p id=\"no-history\">No training history: this report was made from a saved model.</p>\n");
        else
        {
            string testName = run.EpochSetName;
            sb.Append("<p>").Append(Image(images, LossFile, ReportPlots.Loss(run.Epochs, testName), ReportPlots.CurveWidth, ReportPlots.CurveHeight, "loss per epoch")).Append("</p>\n");
            sb.Append("<p>").Append(Image(images, AccuracyFile, ReportPlots.Accuracy(run.Epochs, testName), ReportPlots.CurveWidth, ReportPlots.CurveHeight, "accuracy per epoch")).Append("</p>\n");
            sb.Append("<table id=\"epochs\">\n<tr><th>epoch</th><th>train loss</th><th>train accuracy</th><th>" + H(testName) + " loss</th><th>" + H(testName) + " accuracy</th><th>learning rate</th><th>seconds</th></tr>\n");
            foreach (var r in run.Epochs)
                sb.Append($"<tr><td>{r.Epoch}</td><td>{r.TrainLoss.ToString("0.0000", Inv)}</td><td>{Pct(r.TrainAccuracy)}</td>" +
                          $"<td>{(r.TestLoss is double tl ? tl.ToString("0.0000", Inv) : "–")}</td><td>{(r.TestAccuracy is double ta ? Pct(ta) : "–")}</td>" +
                          $"<td>{r.LearningRate.ToString("G6", Inv)}</td><td>{r.Seconds.ToString("0.00", Inv)}</td></tr>\n");
            sb.Append("</table>\n");
        }

        sb.Append("<h2>Confusion matrix</h2>\n<p>Rows: true class; columns: predicted class. ")
          .Append("The colour of a cell is its share of the true class.</p>\n<p>")
          .Append(Image(images, ConfusionFile, ReportPlots.Confusion(e), ReportPlots.ConfusionWidth, ReportPlots.ConfusionHeight, "confusion matrix heatmap"))
          .Append("</p>\n<table id=\"confusion\">\n<tr><th>true \\ predicted</th>");
        for (int p = 0; p < e.Confusion.Length; p++) sb.Append($"<th>{p}</th>");
        sb.Append("</tr>\n");
        for (int t = 0; t < e.Confusion.Length; t++)
        {
            sb.Append($"<tr><th>{t}</th>");
            for (int p = 0; p < e.Confusion[t].Length; p++) sb.Append(t == p ? $"<td class=\"diag\">{e.Confusion[t][p]}</td>" : $"<td>{e.Confusion[t][p]}</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</table>\n");

        sb.Append("<h2>Per class</h2>\n<p>Sensitivity: share of a class's examples predicted as that class. ")
          .Append("Specificity: share of the other classes' examples not predicted as that class.</p>\n<p>")
          .Append(Image(images, ClassesFile, ReportPlots.Classes(e), ReportPlots.ClassesWidth, ReportPlots.ClassesHeight, "sensitivity and specificity per class"))
          .Append("</p>\n<table id=\"classes\">\n<tr><th>class</th><th>support</th><th>predicted</th><th>sensitivity</th><th>specificity</th><th>precision</th></tr>\n");
        foreach (var c in e.Classes)
            sb.Append($"<tr><td>{c.Label}</td><td>{c.Support}</td><td>{c.Predicted}</td><td>{Pct(c.Sensitivity)}</td><td>{Pct(c.Specificity)}</td><td>{Pct(c.Precision)}</td></tr>\n");
        sb.Append("</table>\n");

        sb.Append("<h2>Most confidently misclassified</h2>\n");
        var data = run.EvaluationData;
        int side = (int)Math.Round(Math.Sqrt(data.Width));
        var wrong = Misclassified.MostConfident(run.Probabilities, data.Labels!, run.ClassCount, ReportPlots.GalleryCount);
        if (wrong.Length == 0)
            sb.Append("<p id=\"no-gallery\">No misclassified examples.</p>\n");
        else
        {
            if (side * side == data.Width)
                sb.Append($"<p>The {wrong.Length} wrong predictions made with the highest confidence, drawn as {side}×{side} images " +
                          "(dark ink on white, each scaled to its own largest value).</p>\n<p>")
                  .Append(Image(images, GalleryFile, ReportPlots.Gallery(wrong, data), ReportPlots.GalleryWidth, ReportPlots.GalleryHeight, "misclassified examples"))
                  .Append("</p>\n");
            else
                sb.Append($"<p id=\"no-gallery\">No image gallery: the inputs have {data.Width} features, which is not a square image; " +
                          "the table lists the wrong predictions made with the highest confidence.</p>\n");
            sb.Append("<table id=\"misclassified\">\n<tr><th>example (row of the evaluation set)</th><th>true class</th><th>predicted</th><th>confidence</th><th>p(true class)</th></tr>\n");
            foreach (var m in wrong)
                sb.Append($"<tr><td>{m.Index}</td><td>{m.Label}</td><td>{m.Predicted}</td><td>{Pct(m.Confidence)}</td><td>{Pct(m.LabelProbability)}</td></tr>\n");
            sb.Append("</table>\n");
        }
        sb.Append("<p><small>Made by the <code>engine</code> command. Text in the images: DejaVu Sans.</small></p>\n</body>\n</html>\n");
        return sb.ToString();
    }
}
