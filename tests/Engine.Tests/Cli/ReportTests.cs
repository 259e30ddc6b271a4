using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Engine.Tests.Data;
using SkiaSharp;

namespace Engine.Tests.Cli;

/// <summary>
/// <c>engine train --report DIR</c> and <c>engine report</c>: every PNG decodes at its stated size and has visible
/// text, every link of report.html resolves, and the page's numbers are <c>engine evaluate</c>'s.
/// </summary>
public sealed class ReportTests : IDisposable
{
    const int Usage = 2, Failure = 1;
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    // The sizes the report promises (README "Reports and progress").
    static readonly Dictionary<string, (int Width, int Height)> ImageSizes = new()
    {
        ["loss.png"] = (800, 450), ["accuracy.png"] = (800, 450), ["confusion.png"] = (760, 680),
        ["classes.png"] = (960, 480), ["misclassified.png"] = (960, 480),
    };

    readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    static EngineRun Ok(EngineRun run)
    {
        Assert.True(run.ExitCode == 0, run.ToString());
        return run;
    }

    [Fact]
    public void Train_report_has_every_plot_at_its_size_resolvable_links_and_evaluate_numbers()
    {
        string model = _dir.File("model.bin"), report = _dir.File("report");
        var train = Ok(EngineProcess.Run("train", "--epochs", "2", "--hidden", "16", "--threads", "1", "--out", model, "--report", report));
        Assert.Contains($"report written to {Path.Combine(report, "report.html")}", train.Stdout);

        string html = File.ReadAllText(Path.Combine(report, "report.html"));
        var images = CheckLinksAndImages(report, html);
        Assert.Equal(ImageSizes.Keys.Order(), images.Order());
        Assert.Empty(Directory.GetFiles(report, "*.tmp").Concat(Directory.GetFiles(report, ".*")));

        // The epochs table holds the run's own per-epoch numbers, one row per epoch.
        var epochLines = train.Stdout.Split('\n').Where(l => l.StartsWith("epoch ", StringComparison.Ordinal)).ToArray();
        var epochRows = TableRows(html, "epochs");
        Assert.Equal(2, epochLines.Length);
        Assert.Equal(2, epochRows.Count);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal((i + 1).ToString(Inv), epochRows[i][0]);
            Assert.Contains($"train loss {epochRows[i][1]} ", epochLines[i]);
            Assert.Contains($"test loss {epochRows[i][3]} ", epochLines[i]);
        }
        AssertMatchesEvaluate(html, model, data: null);
        // The settings name the run's options.
        Assert.Contains("--hidden 16", html);
        Assert.Contains("784-16-10 tanh", html);
    }

    [Fact]
    public void Report_command_for_a_saved_model_matches_evaluate_and_has_no_training_curves()
    {
        string model = _dir.File("model.bin"), report = _dir.File("saved");
        Ok(EngineProcess.Run("train", "--epochs", "1", "--hidden", "8", "--threads", "1", "--seed", "3", "--out", model));
        Directory.CreateDirectory(report);
        string notes = Path.Combine(report, "notes.txt");
        File.WriteAllText(notes, "mine");

        var run = Ok(EngineProcess.Run("report", "--model", model, "--data", RepoPaths.BundledData, "--out", report, "--threads", "1"));

        string html = File.ReadAllText(Path.Combine(report, "report.html"));
        var images = CheckLinksAndImages(report, html);
        Assert.Equal(new[] { "classes.png", "confusion.png", "misclassified.png" }, images.Order());
        Assert.Contains("id=\"no-history\"", html);
        Assert.Equal("mine", File.ReadAllText(notes)); // unrelated files are left alone
        Assert.Equal(new[] { "classes.png", "confusion.png", "misclassified.png", "notes.txt", "report.html" },
                     Directory.GetFiles(report).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        AssertMatchesEvaluate(html, model, RepoPaths.BundledData);
        Assert.Contains("report written to", run.Stdout);
    }

    [Fact]
    public void Gallery_lists_the_most_confident_mistakes_and_is_left_out_for_non_square_inputs()
    {
        // 20 features (not a square image); every 5th label is wrong, so the validation part has mistakes.
        string csv = _dir.WriteText("data.csv", NoisyCsv(300));
        string report = _dir.File("r");
        Ok(EngineProcess.Run("train", "--data", csv, "--epochs", "3", "--hidden", "8", "--threads", "1", "--report", report));

        string html = File.ReadAllText(Path.Combine(report, "report.html"));
        var images = CheckLinksAndImages(report, html);
        Assert.DoesNotContain("misclassified.png", images);
        Assert.False(File.Exists(Path.Combine(report, "misclassified.png")));
        Assert.Matches("id=\"no-gallery\">No image gallery: the inputs have 20 features, which is not a square image", html);
        var rows = TableRows(html, "misclassified");
        Assert.NotEmpty(rows);
        // Ordered by confidence, most confident first; every row is a real mistake.
        var confidence = rows.Select(r => double.Parse(r[3].TrimEnd(' ', '%'), Inv)).ToArray();
        Assert.Equal(confidence.OrderByDescending(c => c), confidence);
        Assert.All(rows, r => Assert.NotEqual(r[1], r[2]));
        // Together with the confusion table: as many mistakes listed as the off-diagonal cells hold (up to 24).
        var confusion = ConfusionFromHtml(html);
        int mistakes = confusion.SelectMany((row, t) => row.Where((_, p) => p != t)).Sum();
        Assert.Equal(Math.Min(24, mistakes), rows.Count);
    }

    [Fact]
    public void Report_path_that_is_a_file_is_a_usage_error_and_the_file_is_kept()
    {
        string file = _dir.WriteText("taken", "keep me");
        var run = EngineProcess.Run("train", "--epochs", "1", "--hidden", "4", "--report", file);
        CliTests.AssertFailsCleanly(run, Usage, "--report", file, "is a file");
        Assert.DoesNotContain("epoch 1/1", run.Stdout); // refused before training
        Assert.Equal("keep me", File.ReadAllText(file));

        var report = EngineProcess.Run("report", "--model", _dir.File("m.bin"), "--out", file);
        CliTests.AssertFailsCleanly(report, Usage, "--out", "is a file");
        Assert.Equal("keep me", File.ReadAllText(file));
    }

    [Fact]
    public void Report_errors_are_one_line()
    {
        string missing = _dir.File("no-such.model");
        CliTests.AssertFailsCleanly(EngineProcess.Run("report", "--model", missing, "--out", _dir.File("out")), Failure, missing);
        Assert.False(Directory.Exists(_dir.File("out")));
        string noParent = Path.Combine(_dir.File("no-such-dir"), "report");
        CliTests.AssertFailsCleanly(EngineProcess.Run("train", "--epochs", "1", "--report", noParent), Usage, "--report", "does not exist");
        CliTests.AssertFailsCleanly(EngineProcess.Run("train", "--epochs", "1", "--report", " "), Usage, "--report needs a directory name");
    }

    // ---- helpers ----------------------------------------------------------------------------------

    /// <summary>
    /// Every src/href of the page names a file in <paramref name="dir"/>; every image decodes (SkiaSharp, and the
    /// IHDR chunk read by hand) at the size the page states and <see cref="ImageSizes"/> promises, and has text in
    /// it. Returns the image file names.
    /// </summary>
    static List<string> CheckLinksAndImages(string dir, string html)
    {
        var links = Regex.Matches(html, "(?:src|href)=\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(links);
        foreach (string link in links)
        {
            Assert.DoesNotContain("://", link);
            Assert.False(Path.IsPathRooted(link), link);
            string target = Path.GetFullPath(Path.Combine(dir, Uri.UnescapeDataString(link)));
            Assert.True(File.Exists(target), $"report.html links {link}, which does not exist");
            Assert.StartsWith(Path.GetFullPath(dir), target);
        }
        var images = new List<string>();
        foreach (Match img in Regex.Matches(html, "<img src=\"([^\"]+)\" width=\"(\\d+)\" height=\"(\\d+)\""))
        {
            string name = img.Groups[1].Value;
            images.Add(name);
            byte[] png = File.ReadAllBytes(Path.Combine(dir, name));
            var (w, h) = PngHeaderSize(png);
            Assert.True(ImageSizes.TryGetValue(name, out var expected), $"unexpected image {name}");
            Assert.Equal(expected, (w, h));
            Assert.Equal((int.Parse(img.Groups[2].Value, Inv), int.Parse(img.Groups[3].Value, Inv)), (w, h));
            using var bitmap = SKBitmap.Decode(png);
            Assert.NotNull(bitmap);
            Assert.Equal((w, h), (bitmap.Width, bitmap.Height));
            AssertHasText(bitmap, name);
        }
        Assert.Equal(Regex.Matches(html, "<img ").Count, images.Count);
        return images;
    }

    /// <summary>Width and height from the PNG signature and IHDR chunk.</summary>
    static (int Width, int Height) PngHeaderSize(byte[] png)
    {
        Assert.True(png.Length > 33, "PNG too short");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal("IHDR", Encoding.ASCII.GetString(png, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    /// <summary>
    /// Text was drawn: a plot's title band (the top 21 rows, above the data area's frame) and a gallery cell's caption
    /// band (below its digit) hold dark pixels. Without a usable font these bands stay white (checked by hand with an
    /// empty /usr/share/fonts and the embedded font switched off: the frame then starts at row 24 and this fails).
    /// </summary>
    static void AssertHasText(SKBitmap bitmap, string name)
    {
        int Dark(int x0, int y0, int x1, int y1)
        {
            int n = 0;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++)
                {
                    var c = bitmap.GetPixel(x, y);
                    if (c.Red + c.Green + c.Blue < 3 * 128) n++;
                }
            return n;
        }
        if (name == "misclassified.png")
            Assert.True(Dark(0, 92, 120, 160) > 50, $"{name}: no caption under the first digit");
        else
            Assert.True(Dark(0, 0, bitmap.Width, 21) > 100, $"{name}: no title text");
    }

    static List<string[]> TableRows(string html, string id)
    {
        Match table = Regex.Match(html, $"<table id=\"{id}\">(.*?)</table>", RegexOptions.Singleline);
        Assert.True(table.Success, $"no table {id}");
        return Regex.Matches(table.Groups[1].Value, "<tr>(.*?)</tr>")
            .Select(r => Regex.Matches(r.Groups[1].Value, "<td[^>]*>(.*?)</td>").Select(c => c.Groups[1].Value).ToArray())
            .Where(cells => cells.Length > 0).ToList();
    }

    static int[][] ConfusionFromHtml(string html) =>
        TableRows(html, "confusion").Select(r => r.Select(c => int.Parse(c, Inv)).ToArray()).ToArray();

    /// <summary>The page's confusion matrix and per-class table equal <c>engine evaluate --metrics-json</c>'s for the same model and data.</summary>
    void AssertMatchesEvaluate(string html, string model, string? data)
    {
        string json = _dir.File($"evaluate-{Guid.NewGuid():N}.json");
        var args = new List<string> { "evaluate", "--model", model, "--threads", "1", "--metrics-json", json };
        if (data is not null) args.AddRange(["--data", data]);
        Ok(EngineProcess.Run(args.ToArray()));
        using var metrics = JsonDocument.Parse(File.ReadAllText(json));
        var root = metrics.RootElement;

        int[][] expected = root.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        Assert.Equal(expected, ConfusionFromHtml(html));

        var classes = root.GetProperty("classes").EnumerateArray().ToArray();
        var rows = TableRows(html, "classes");
        Assert.Equal(classes.Length, rows.Count);
        for (int c = 0; c < classes.Length; c++)
        {
            Assert.Equal(classes[c].GetProperty("label").GetInt32().ToString(Inv), rows[c][0]);
            Assert.Equal(classes[c].GetProperty("support").GetInt32().ToString(Inv), rows[c][1]);
            AssertPercent(classes[c].GetProperty("sensitivity"), rows[c][3]);
            AssertPercent(classes[c].GetProperty("specificity"), rows[c][4]);
            AssertPercent(classes[c].GetProperty("precision"), rows[c][5]);
        }
        double accuracy = root.GetProperty("accuracy").GetDouble();
        Assert.Contains($"accuracy <b>{(100 * accuracy).ToString("0.00", Inv)} %</b>", html);
    }

    static void AssertPercent(JsonElement fraction, string cell)
    {
        if (fraction.ValueKind == JsonValueKind.Null) { Assert.Equal("–", cell); return; }
        double shown = double.Parse(cell.TrimEnd(' ', '%'), Inv);
        Assert.True(Math.Abs(shown - 100 * fraction.GetDouble()) <= 0.0051, $"{cell} vs {fraction.GetDouble()}");
    }

    /// <summary>3 classes over 20 features (class c: features 6c..6c+5 high); every 5th label is off by one.</summary>
    static string NoisyCsv(int rows)
    {
        var csv = new StringBuilder("label," + string.Join(',', Enumerable.Range(0, 20).Select(j => $"pixel{j}")) + "\n");
        for (int i = 0; i < rows; i++)
        {
            int c = i % 3;
            var values = Enumerable.Range(0, 20).Select(j => j < 18 && j / 6 == c ? 12 + (i * 7 + j * 3) % 5 : (i * 5 + j * 11) % 5);
            int label = i % 5 == 0 ? (c + 1) % 3 : c;
            csv.Append(label).Append(',').AppendJoin(',', values).Append('\n');
        }
        return csv.ToString();
    }
}
