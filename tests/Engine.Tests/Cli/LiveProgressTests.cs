using System.Text.RegularExpressions;
using Engine.Tests.Data;
using Engine.Training;

namespace Engine.Tests.Cli;

/// <summary>Issue 16 item 7: the live bar shows the epoch that is running, and epoch lines fit an 80-column terminal.</summary>
public sealed partial class LiveProgressTests : IDisposable
{
    readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("validation")]
    [InlineData("test")]
    public void An_epoch_line_fits_80_columns_and_keeps_its_figures(string evaluationName)
    {
        var report = new EpochReport(7, 0.123456, 0.9876, 0.95, 0.2345, 1.5, 0.1f);
        string full = global::Engine.Cli.Reports.EpochLine(report, 30, 48_000, evaluationName);
        Assert.True(full.Length >= 80, full); // the plain line, unchanged for pipes and logs
        string line = global::Engine.Cli.Reports.EpochLine(report, 30, 48_000, evaluationName, 80);
        Assert.True(line.Length < 80, line);
        foreach (string figure in new[] { "epoch  7/30", "0.1235", "98.76 %", evaluationName, "0.2345", "95.00 %", "1.50 s" })
            Assert.Contains(figure, line);
    }

    [GeneratedRegex(@"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]")]
    private static partial Regex Escape();

    /// <summary>
    /// Epochs far shorter than the display's 100 ms tick, in an 80-column pseudo-terminal (util-linux script): every
    /// epoch's own bar is drawn (not the previous epoch's last frame), epoch lines stay short of the last column and the bar within it.
    /// </summary>
    [Fact]
    public async Task Short_epochs_each_show_their_own_bar_and_nothing_wraps_at_80_columns()
    {
        var csv = new System.Text.StringBuilder("label," + string.Join(',', Enumerable.Range(0, 20).Select(i => $"p{i}")) + "\n");
        for (int i = 0; i < 3000; i++)
            csv.Append(i % 3).Append(',').AppendJoin(',', Enumerable.Range(0, 20).Select(j => (j / 6 == i % 3 ? 9 : 1) + (i * 7 + j) % 4))
               .Append('\n');
        string data = _dir.WriteText("short.csv", csv.ToString());
        var (exitCode, output, stderr) = await EngineProcess.RunInTerminal(80, "train", "--data", data, "--epochs", "3", "--hidden", "16", "--batch", "4", "--threads", "1");
        string context = $"exit {exitCode}\n--- output ---\n{output}\n--- stderr ---\n{stderr}";
        Assert.True(exitCode == 0, context);
        string text = Escape().Replace(output, "");
        for (int epoch = 1; epoch <= 3; epoch++)
            Assert.True(text.Contains($"epoch {epoch}/3  loss ", StringComparison.Ordinal), $"epoch {epoch}'s bar was never drawn\n{context}");
        string[] lines = text.Split('\n', '\r');
        // Epoch lines stay short of the last column; the bar's row is padded by Spectre to exactly the width.
        foreach (string line in lines.Where(l => l.Contains("train loss", StringComparison.Ordinal)))
            Assert.True(line.TrimEnd().Length < 80, $"an epoch line reaches column 80: '{line}'\n{context}");
        foreach (string line in lines.Where(l => l.Contains(" left ", StringComparison.Ordinal)))
            Assert.True(line.TrimEnd().Length <= 80, $"the bar is wider than the terminal: '{line}'\n{context}");
    }
}
