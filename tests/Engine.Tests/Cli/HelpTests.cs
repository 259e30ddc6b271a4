namespace Engine.Tests.Cli;

/// <summary>`--help` groups a command's options, lists every option once, and works even when required options are missing.</summary>
public class HelpTests
{
    [Fact]
    public void Train_help_groups_every_option_once_with_placeholders_and_defaults()
    {
        var run = EngineProcess.Run("train", "--help");
        Assert.True(run.ExitCode == 0, run.ToString());
        string help = run.Stdout;
        string[] sections = ["Data options:", "Network options:", "Training options:", "Compute options:", "Output options:"];
        int at = -1;
        foreach (string section in sections)
        {
            int next = help.IndexOf(section, StringComparison.Ordinal);
            Assert.True(next > at, $"'{section}' missing or out of order\n{help}");
            at = next;
        }
        foreach (string option in new[] { "--data", "--hidden", "--epochs", "--lr", "--threads", "--out", "--metrics-json", "--resume", "--help" })
            Assert.Equal(1, help.Split('\n').Count(line => line.TrimStart().StartsWith(option + " ", StringComparison.Ordinal)
                                                          || line.TrimStart().StartsWith(option + ",", StringComparison.Ordinal)
                                                          || line.Contains(", " + option, StringComparison.Ordinal)));
        Assert.Contains("--data <DIR|FILE.csv|FILE.npz|->", help);
        Assert.Contains("[default: 30]", help);   // --epochs
        Assert.DoesNotContain("System.", help);
    }

    [Fact]
    public void Help_works_when_a_required_option_is_missing()
    {
        var run = EngineProcess.Run("import", "--help");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Output options:", run.Stdout);
        Assert.Equal("", run.Stderr.Trim());
    }
}
