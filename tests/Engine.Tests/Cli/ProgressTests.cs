
namespace Engine.Tests.Cli;

/// <summary>Progress output: plain epoch lines in a pipe, nothing per epoch with --quiet, a live bar in a terminal.</summary>
public sealed class ProgressTests
{
    [Fact]
    public void In_a_pipe_there_is_one_plain_line_per_epoch_and_no_escape_or_carriage_return()
    {
        var run = EngineProcess.Run("train", "--epochs", "3", "--hidden", "8", "--threads", "1");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain('\u001b', run.Stdout + run.Stderr);
        Assert.DoesNotContain('\r', run.Stdout + run.Stderr);
        var epochLines = run.Stdout.Split('\n').Where(l => l.StartsWith("epoch ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(new[] { "epoch 1/3 ", "epoch 2/3 ", "epoch 3/3 " }, epochLines.Select(l => l[..10]));
        Assert.All(epochLines, l => Assert.Matches(@"train loss \d\.\d{4} .* samples/s\)$", l));
    }

    [Fact]
    public void Quiet_prints_no_epoch_lines_but_still_the_result()
    {
        var run = EngineProcess.Run("train", "--epochs", "2", "--hidden", "8", "--threads", "1", "--quiet");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain(run.Stdout.Split('\n'), l => l.StartsWith("epoch ", StringComparison.Ordinal));
        Assert.Contains("test set (2000 examples): accuracy", run.Stdout);
        Assert.DoesNotContain('\u001b', run.Stdout);
    }

    /// <summary>
    /// Under a pseudo-terminal (util-linux <c>script</c>) the live bar draws (escape sequences and its "samples/s …
    /// left" text) and the run still ends normally with every epoch line. Fails where <c>script</c> is missing (Debian
    /// always has util-linux), rather than passing without having looked.
    /// </summary>
    [Fact]
    public async Task In_a_terminal_the_live_bar_runs_and_the_run_ends_normally()
    {
        // The reference backend makes an epoch last long enough (about a second) for the bar to be drawn.
        var (exitCode, output, stderr) = await EngineProcess.RunInTerminal(120, "train", "--epochs", "2", "--hidden", "32", "--backend", "reference", "--threads", "1");
        string context = $"exit {exitCode}\n--- output ---\n{output}\n--- stderr ---\n{stderr}";
        Assert.True(exitCode == 0, context);
        Assert.Contains('\u001b', output);
        Assert.Matches(@"epoch \d/2  loss \d\.\d{4}  [\d,]+ samples/s  \d+:\d\d left", output);
        Assert.Contains("epoch 1/2  train loss", output);
        Assert.Contains("epoch 2/2  train loss", output);
        Assert.Contains("test set (2000 examples): accuracy", output);
    }
}
