using Engine.Serialization;
using Engine.Tests.Data;
using Engine.Training;

namespace Engine.Tests.Serialization;

/// <summary>
/// The checkpoint format against a file written before the format moved to Serialization (the v2 layout, by the
/// engine at commit a4c86ec: 4-3-3 tanh network, Adam, early stopping, after 2 epochs), so that a change of the
/// layout cannot pass unnoticed.
/// </summary>
public sealed class CheckpointFileTests : IDisposable
{
    readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    static string FixturePath => Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoint-v2-adam.ckpt");

    [Fact]
    public void A_checkpoint_written_by_an_earlier_engine_loads_with_every_field()
    {
        var c = Checkpoint.Load(FixturePath);
        Assert.Equal(new TrainingOptions(2, 8, 0.01f, 1e-4f, 4, true) { Optimizer = new(OptimizerKind.Adam), EarlyStoppingPatience = 3 }, c.Options);
        Assert.Equal(new TrainingCursor(3, 0, 0, 0), c.Cursor);
        Assert.Equal("4-3-3 tanh", c.Model.Network.Describe());
        Assert.Equal([1, 2], c.Reports.Select(r => r.Epoch));
        Assert.Equal(0.1, c.Reports[1].TestAccuracy);
        Assert.Equal(8, c.Optimizer.Steps);
        Assert.Equal(27, c.Optimizer.First.Length);
        Assert.Equal(27, c.Optimizer.Second.Length);
        Assert.Equal(2, c.Best!.Epoch);
        Assert.Equal(27, c.Best.Parameters.Length);
    }

    [Fact]
    public void Saving_a_loaded_checkpoint_writes_the_same_bytes()
    {
        string path = _dir.File("again.ckpt");
        Checkpoint.Load(FixturePath).Save(path);
        Assert.Equal(File.ReadAllBytes(FixturePath), File.ReadAllBytes(path));
    }

    [Fact]
    public void Every_truncation_is_a_clean_error()
    {
        byte[] bytes = File.ReadAllBytes(FixturePath);
        for (int n = 0; n < bytes.Length; n++)
        {
            var e = Record.Exception(() => CheckpointFile.Read(bytes.AsSpan(0, n), "cut.ckpt"));
            Assert.IsType<EngineException>(e);
        }
    }
}
