using Engine.Tests.Data;
using Xunit;

namespace Engine.Tests.Cli;

/// <summary>Signals against a real <c>engine train</c>: SIGINT checkpoints and exits 130, SIGKILL in the middle of
/// saves loses nothing already saved, and resuming gives the uninterrupted run's weights bit for bit.</summary>
public sealed class InterruptTests : IDisposable
{
    const int SigInt = 2, SigKill = 9, Interrupted = 130;
    readonly ScratchDirectory _dir = new();
    public void Dispose() => _dir.Dispose();

    // Long enough that the signal, sent when epoch 1 is reported, lands while training runs.
    static string[] Train(string backend, params string[] extra) =>
        ["train", "--epochs", backend == "simd" ? "40" : "12", "--hidden", "32", "--batch", "32", "--threads", "1", "--backend", backend, .. extra];

    static bool EpochDone(string stdout) => System.Text.RegularExpressions.Regex.IsMatch(stdout, @"epoch +1/");

    [Theory]
    [InlineData("simd")]
    [InlineData("reference")]
    public void Sigint_writes_a_checkpoint_exits_130_and_resume_matches_the_uninterrupted_run(string backend)
    {
        string ckpt = _dir.File("ckpt"), resumedNpz = _dir.File("resumed.npz"), straightNpz = _dir.File("straight.npz");
        var straight = EngineProcess.Run(Train(backend, "--export-npz", straightNpz));
        Assert.True(straight.ExitCode == 0, straight.ToString());

        var stopped = EngineProcess.RunAndSignal(SigInt, EpochDone, Train(backend, "--checkpoint-dir", ckpt));
        Assert.True(stopped.ExitCode == Interrupted, stopped.ToString());
        Assert.Single(stopped.StderrLines);
        Assert.Contains("checkpoint written to", stopped.Stderr);
        Assert.NotEmpty(Directory.GetFiles(ckpt, "*.ckpt"));

        var resumed = EngineProcess.Run(Train(backend, "--checkpoint-dir", ckpt, "--resume", "--export-npz", resumedNpz));
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("resuming from", resumed.Stdout);
        Assert.Equal(File.ReadAllBytes(straightNpz), File.ReadAllBytes(resumedNpz));
    }

    [Fact]
    public void Sigint_without_a_checkpoint_directory_saves_nothing_and_exits_130()
    {
        string model = _dir.File("model.bin");
        var stopped = EngineProcess.RunAndSignal(SigInt, EpochDone, Train("simd", "--out", model));
        Assert.True(stopped.ExitCode == Interrupted, stopped.ToString());
        Assert.Contains("nothing saved", stopped.Stderr);
        Assert.False(File.Exists(model));
    }

    [Fact]
    public void Sigkill_during_saves_leaves_the_previous_model_and_a_resumable_checkpoint()
    {
        string model = _dir.File("model.bin"), ckpt = _dir.File("ckpt");
        var first = EngineProcess.Run(["train", "--epochs", "1", "--hidden", "32", "--out", model]);
        Assert.True(first.ExitCode == 0, first.ToString());
        byte[] before = File.ReadAllBytes(model);

        // A checkpoint after every step: the process spends most of its time saving when the kill lands.
        var killed = EngineProcess.RunAndSignal(SigKill, EpochDone, Train("simd", "--checkpoint-dir", ckpt, "--checkpoint-every", "1", "--out", model));
        Assert.NotEqual(0, killed.ExitCode);
        Assert.Equal(before, File.ReadAllBytes(model));
        var evaluate = EngineProcess.Run("evaluate", "--model", model);
        Assert.True(evaluate.ExitCode == 0, evaluate.ToString());

        var resumed = EngineProcess.Run(Train("simd", "--checkpoint-dir", ckpt, "--checkpoint-every", "1", "--resume"));
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("epoch 40/40", resumed.Stdout);
    }
}
