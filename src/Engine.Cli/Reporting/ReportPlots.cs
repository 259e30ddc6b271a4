using System.Globalization;
using Engine.Evaluation;
using Engine.Training;
using ScottPlot;
using SkiaSharp;

namespace Engine.Cli.Reporting;

/// <summary>The report's PNG images: ScottPlot charts, and the gallery of misclassified examples drawn with SkiaSharp.</summary>
static class ReportPlots
{
    // Image sizes in pixels (the HTML states them; the tests check the decoded PNGs against them).
    public const int CurveWidth = 800, CurveHeight = 450;
    public const int ConfusionWidth = 760, ConfusionHeight = 680;
    public const int ClassesWidth = 960, ClassesHeight = 480;
    public const int GalleryColumns = 8, GalleryRows = 3, GalleryCellWidth = 120, GalleryCellHeight = 160;
    public const int GalleryWidth = GalleryColumns * GalleryCellWidth, GalleryHeight = GalleryRows * GalleryCellHeight;
    public const int GalleryCount = GalleryColumns * GalleryRows;

    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    static readonly Color TrainColor = Color.FromHex("#1f77b4"), TestColor = Color.FromHex("#d62728");
    static readonly Color SensitivityColor = Color.FromHex("#1f77b4"), SpecificityColor = Color.FromHex("#ff7f0e");

    static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        ReportFonts.Register();
        var plot = new Plot();
        plot.Font.Set(ReportFonts.Family);
        plot.Title(title, size: 20);
        plot.XLabel(xLabel, size: 16);
        plot.YLabel(yLabel, size: 16);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 14;
        plot.Axes.Left.TickLabelStyle.FontSize = 14;
        return plot;
    }

    /// <summary>The legend in a row below the plot, where it cannot hide data.</summary>
    static void Legend(Plot plot)
    {
        plot.ShowLegend(Edge.Bottom);
        plot.Legend.FontSize = 14;
    }

    static byte[] Png(Plot plot, int width, int height) => plot.GetImageBytes(width, height, ImageFormat.Png);

    /// <summary>Integer epoch ticks: every epoch up to 12, else 1 and the multiples of a round step (2, 5, 10, 20, 50, …).</summary>
    static void EpochTicks(Plot plot, int epochs)
    {
        var positions = new List<double>();
        if (epochs <= 12) for (int e = 1; e <= epochs; e++) positions.Add(e);
        else
        {
            int step = 2;
            for (int scale = 1; ; scale *= 10)
            {
                if (epochs / (2 * scale) <= 10) { step = 2 * scale; break; }
                if (epochs / (5 * scale) <= 10) { step = 5 * scale; break; }
                if (epochs / (10 * scale) <= 10) { step = 10 * scale; break; }
            }
            positions.Add(1);
            for (int e = step; e <= epochs; e += step) positions.Add(e);
        }
        plot.Axes.Bottom.SetTicks(positions.ToArray(), positions.Select(p => p.ToString(Inv)).ToArray());
        plot.Axes.SetLimitsX(0.5, epochs + 0.5);
    }

    static void Curve(Plot plot, double[] epochs, double[] values, Color color, string legend)
    {
        var s = plot.Add.Scatter(epochs, values, color);
        s.LineWidth = 2;
        s.MarkerSize = epochs.Length <= 40 ? 7 : 0;
        s.LegendText = legend;
    }

    /// <summary>Mean cross-entropy per epoch: training (over the epoch's steps) and test (after the epoch).</summary>
    public static byte[] Loss(IReadOnlyList<EpochReport> epochs, string testName)
    {
        var plot = NewPlot("Loss per epoch", "epoch", "mean cross-entropy");
        double[] x = epochs.Select(e => (double)e.Epoch).ToArray();
        Curve(plot, x, epochs.Select(e => e.TrainLoss).ToArray(), TrainColor, "training (mean over the epoch's steps)");
        if (epochs.All(e => e.TestLoss is not null))
            Curve(plot, x, epochs.Select(e => e.TestLoss!.Value).ToArray(), TestColor, $"{testName} (after the epoch)");
        EpochTicks(plot, epochs.Count == 0 ? 1 : epochs[^1].Epoch);
        plot.Axes.AutoScaleY();
        Legend(plot);
        return Png(plot, CurveWidth, CurveHeight);
    }

    /// <summary>Accuracy per epoch in percent: training (from each step's forward pass) and test (after the epoch).</summary>
    public static byte[] Accuracy(IReadOnlyList<EpochReport> epochs, string testName)
    {
        var plot = NewPlot("Accuracy per epoch", "epoch", "accuracy (%)");
        double[] x = epochs.Select(e => (double)e.Epoch).ToArray();
        Curve(plot, x, epochs.Select(e => 100 * e.TrainAccuracy).ToArray(), TrainColor, "training (during the epoch)");
        if (epochs.All(e => e.TestAccuracy is not null))
            Curve(plot, x, epochs.Select(e => 100 * e.TestAccuracy!.Value).ToArray(), TestColor, $"{testName} (after the epoch)");
        EpochTicks(plot, epochs.Count == 0 ? 1 : epochs[^1].Epoch);
        plot.Axes.AutoScaleY();
        Legend(plot);
        return Png(plot, CurveWidth, CurveHeight);
    }

    /// <summary>
    /// The confusion matrix as a heatmap: rows are true classes (0 at the top), columns predicted classes; each cell
    /// shows its count, and its colour is the count's share of the true class, so errors of small classes show too.
    /// </summary>
    public static byte[] Confusion(EvaluationResult e)
    {
        int n = e.Confusion.Length;
        var plot = NewPlot("Confusion matrix", "predicted class", "true class");
        var share = new double[n, n];
        for (int t = 0; t < n; t++)
        {
            int support = e.Confusion[t].Sum();
            for (int p = 0; p < n; p++) share[t, p] = support == 0 ? 0 : 100.0 * e.Confusion[t][p] / support;
        }
        var heatmap = plot.Add.Heatmap(share);
        heatmap.Colormap = new ScottPlot.Colormaps.Blues().Reversed(); // white at 0 %, dark blue at 100 %
        heatmap.ManualRange = new ScottPlot.Range(0, 100);
        // Cell (t, p) covers x p-0.5..p+0.5 and y (n-1-t)-0.5..(n-1-t)+0.5: row 0 of the array is drawn at the top.
        heatmap.Rectangle = new CoordinateRect(-0.5, n - 0.5, -0.5, n - 0.5);
        float fontSize = n <= 10 ? 15 : n <= 20 ? 10 : 7;
        for (int t = 0; t < n; t++)
            for (int p = 0; p < n; p++)
            {
                var text = plot.Add.Text(e.Confusion[t][p].ToString(Inv), p, n - 1 - t);
                text.LabelFontSize = fontSize;
                text.LabelFontColor = share[t, p] > 55 ? Colors.White : Colors.Black;
                text.LabelBold = t == p;
                text.LabelAlignment = Alignment.MiddleCenter;
            }
        double[] positions = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.SetTicks(positions, positions.Select(i => i.ToString(Inv)).ToArray());
        plot.Axes.Left.SetTicks(positions, positions.Select(i => (n - 1 - i).ToString(Inv)).ToArray());
        var bar = plot.Add.ColorBar(heatmap);
        bar.Label = "share of the true class (%)";
        bar.LabelStyle.FontSize = 14;
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.Axes.Frame(true);
        return Png(plot, ConfusionWidth, ConfusionHeight);
    }

    /// <summary>
    /// Sensitivity and specificity per class as grouped bars with their values on top. The value axis starts below the
    /// lowest bar rather than at 0 (all values are usually above 80 %), and its label says so.
    /// </summary>
    public static byte[] Classes(EvaluationResult e)
    {
        int n = e.Classes.Count;
        double lowest = e.Classes.SelectMany(c => new[] { c.Sensitivity, c.Specificity }).Where(double.IsFinite).DefaultIfEmpty(1).Min() * 100;
        double floor = Math.Max(0, Math.Floor((lowest - 4) / 5) * 5);
        var plot = NewPlot("Sensitivity and specificity per class", "class",
                           floor > 0 ? $"percent (axis starts at {floor.ToString(Inv)} %)" : "percent");
        var bars = new List<Bar>();
        bool labels = n <= 12;
        for (int i = 0; i < n; i++)
        {
            var c = e.Classes[i];
            AddBar(bars, i - 0.2, c.Sensitivity, SensitivityColor, floor, labels);
            AddBar(bars, i + 0.2, c.Specificity, SpecificityColor, floor, labels);
        }
        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = 11;
        double[] positions = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.SetTicks(positions, e.Classes.Select(c => c.Label.ToString(Inv)).ToArray());
        plot.Axes.SetLimits(-0.6, n - 0.4, floor, 100 + (100 - floor) * 0.08);
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "sensitivity (recall)", FillColor = SensitivityColor });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "specificity", FillColor = SpecificityColor });
        Legend(plot);
        return Png(plot, ClassesWidth, ClassesHeight);
    }

    static void AddBar(List<Bar> bars, double position, double value, Color color, double floor, bool label)
    {
        double percent = double.IsFinite(value) ? 100 * value : floor;
        bars.Add(new Bar
        {
            Position = position, Value = percent, ValueBase = floor, Size = 0.38, FillColor = color,
            Label = label && double.IsFinite(value) ? percent.ToString("0.0", Inv) : "",
        });
    }

    /// <summary>
    /// The gallery: each example drawn as a grey-scale image (dark ink on white, scaled by the example's own largest
    /// value), captioned with its true and predicted class and the confidence of the prediction. Only for square inputs.
    /// </summary>
    public static byte[] Gallery(IReadOnlyList<Misclassified> items, Engine.Data.Dataset data)
    {
        int side = (int)Math.Round(Math.Sqrt(data.Width));
        if (side * side != data.Width) throw new ArgumentException($"{data.Width} features are not a square image", nameof(data));
        const int imageSize = 84, top = 8;
        using var surface = SKSurface.Create(new SKImageInfo(GalleryWidth, GalleryHeight, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException("could not create a drawing surface");
        SKCanvas canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var font = new SKFont(ReportFonts.Regular, 14);
        using var boldFont = new SKFont(ReportFonts.Bold, 15);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var wrong = new SKPaint { Color = new SKColor(0xc6, 0x28, 0x28), IsAntialias = true };
        using var frame = new SKPaint { Color = new SKColor(0xb0, 0xb0, 0xb0), Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        var pixels = new byte[side * side];
        for (int k = 0; k < items.Count && k < GalleryCount; k++)
        {
            var m = items[k];
            ReadOnlySpan<float> row = data.Row(m.Index);
            float max = 0;
            foreach (float v in row) if (v > max) max = v;
            for (int j = 0; j < pixels.Length; j++)
                pixels[j] = (byte)(255 - Math.Clamp(max > 0 ? row[j] / max * 255f : 0f, 0f, 255f));
            using var bitmap = new SKBitmap(new SKImageInfo(side, side, SKColorType.Gray8, SKAlphaType.Opaque));
            System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
            using var image = SKImage.FromBitmap(bitmap);
            float x0 = (k % GalleryColumns) * GalleryCellWidth, y0 = (k / GalleryColumns) * GalleryCellHeight;
            var target = SKRect.Create(x0 + (GalleryCellWidth - imageSize) / 2f, y0 + top, imageSize, imageSize);
            canvas.DrawImage(image, target, new SKSamplingOptions(SKFilterMode.Nearest));
            canvas.DrawRect(target, frame);
            float cx = x0 + GalleryCellWidth / 2f;
            canvas.DrawText($"true {m.Label}", cx, target.Bottom + 20, SKTextAlign.Center, boldFont, ink);
            canvas.DrawText($"predicted {m.Predicted}", cx, target.Bottom + 38, SKTextAlign.Center, boldFont, wrong);
            canvas.DrawText($"{(100 * m.Confidence).ToString("0.0", Inv)} % sure", cx, target.Bottom + 56, SKTextAlign.Center, font, ink);
        }
        using SKImage snapshot = surface.Snapshot();
        using SKData png = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }
}
