using Xunit;

namespace Engine.Tests.Cli;

/// <summary>An empty file name is a one-line error, not a stack trace from Path.GetFullPath("").</summary>
public class EmptyPathTests
{
    const int Usage = 2, Failure = 1;

    [Theory]
    [InlineData(Failure, "model file name is empty", "evaluate", "--model", "")]
    [InlineData(Failure, "model file name is empty", "predict", "--model", "")]
    [InlineData(Failure, "data path is empty", "train", "--epochs", "1", "--data", " ")]
    [InlineData(Usage, "--out needs a file name", "train", "--epochs", "1", "--out", "")]
    [InlineData(Usage, "--metrics-json needs a file name", "evaluate", "--model", "m.bin", "--metrics-json", "")]
    public void Is_reported_in_one_line(int exitCode, string message, params string[] args)
    {
        var run = EngineProcess.Run(args);
        CliTests.AssertFailsCleanly(run, exitCode, message);
    }
}

public sealed class DataCommandTests : IDisposable
{
    readonly Engine.Tests.Data.ScratchDirectory _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void An_unknown_data_set_is_a_usage_error()
    {
        var run = EngineProcess.Run("data", "fetch", "cifar");
        CliTests.AssertFailsCleanly(run, 2, "unknown data set", "mnist, fashion-mnist");
    }

    [Fact]
    public void A_file_given_as_directory_is_reported_before_any_download()
    {
        string file = _dir.Write("occupied", "x"u8.ToArray());
        var run = EngineProcess.Run("data", "fetch", "mnist", "--dir", file);
        CliTests.AssertFailsCleanly(run, 1, "is a file");
    }
}

public class CompareCommandTests
{
    [Theory]
    [InlineData()]
    [InlineData("--optimizer", "adamw", "--schedule", "cosine")]
    [InlineData("--optimizer", "nesterov")]
    public void Compare_runs_every_backend_and_thread_count_and_finds_the_weights_bit_identical(params string[] rule)
    {
        var run = EngineProcess.Run(["compare", "--epochs", "1", "--hidden", "8", "--threads", "1,2", .. rule]);
        if (rule.Length > 0) Assert.Contains($"{rule[1]} (", run.Stdout); // the header names the optimizer
        Assert.True(run.ExitCode == 0, run.ToString());
        string[] rows = run.Stdout.Split('\n').Where(l => l.StartsWith("simd") || l.StartsWith("reference")).ToArray();
        Assert.Equal(3, rows.Length);
        Assert.Contains("(reference point)", rows[0]);
        Assert.All(rows[1..], r => Assert.EndsWith("bit-identical", r.TrimEnd()));
        Assert.DoesNotContain("DIFFERENT", run.Stdout);
    }

    [Fact]
    public void A_bad_thread_list_is_a_usage_error()
    {
        CliTests.AssertFailsCleanly(EngineProcess.Run("compare", "--threads", "1,x"), 2, "--threads");
    }
}
