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
