using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using Engine.Nn;
using Engine.Serialization;

namespace Engine.Training;

/// <summary>Where a training run stands: <see cref="Step"/> batches of epoch <see cref="Epoch"/> are done, their
/// cross-entropy summed in <see cref="LossSum"/> and <see cref="Correct"/> of their rows classified right by the
/// forward pass. (Epoch e+1, step 0) is "epoch e finished and reported".</summary>
internal readonly record struct TrainingCursor(int Epoch, int Step, double LossSum, int Correct)
{
    public static TrainingCursor Start => EpochStart(1);
    public static TrainingCursor EpochStart(int epoch) => new(epoch, 0, 0, 0);
}

/// <summary>The optimizer's state vectors (see <see cref="OptimizerState"/>) and its step count.</summary>
internal sealed record OptimizerSnapshot(float[] First, float[] Second, long Steps);

/// <summary>Early stopping's memory: the epoch with the lowest evaluation loss so far (0: none yet) and its weights.</summary>
internal sealed record BestWeights(int Epoch, double Loss, float[] Parameters);

/// <summary>What a run starts from and what it may be asked to do while it runs.</summary>
internal sealed record RunControl(Checkpointer? Checkpointer, TrainingCursor From, IReadOnlyList<EpochReport> Reports,
                                  CancellationToken Cancellation, Action<TrainingProgress>? OnProgress,
                                  OptimizerSnapshot? Optimizer = null, BestWeights? Best = null)
{
    public static RunControl Plain { get; } = new(null, TrainingCursor.Start, [], CancellationToken.None, null);
}

/// <summary>A run's state at a point, as the trainer hands it to the checkpointer (arrays are the live ones: write them out at once).</summary>
internal sealed record TrainingState(Network Network, TrainingOptions Options, TrainingCursor Cursor, IReadOnlyList<EpochReport> Reports,
                                     OptimizerSnapshot Optimizer, BestWeights? Best);

/// <summary>Training was asked to stop (SIGINT, SIGTERM, a cancellation token); the step in progress finished.</summary>
public sealed class TrainingInterruptedException : OperationCanceledException
{
    /// <summary>The checkpoint written at the stop, or null when the run had no checkpoint directory.</summary>
    public string? CheckpointPath { get; }
    /// <summary>The epoch that was in progress (from 1).</summary>
    public int Epoch { get; }
    /// <summary>Steps of that epoch completed.</summary>
    public int Step { get; }

    /// <summary>Records where training stopped.</summary>
    public TrainingInterruptedException(string? checkpointPath, int epoch, int step)
        : base(checkpointPath is null
            ? $"training interrupted in epoch {epoch} after step {step}; no checkpoint directory, nothing saved"
            : $"training interrupted in epoch {epoch} after step {step}; checkpoint written to {checkpointPath}")
    {
        CheckpointPath = checkpointPath;
        Epoch = epoch;
        Step = step;
    }
}

/// <summary>How a run saves and resumes its state.</summary>
/// <param name="Directory">Where checkpoints go (created if missing; its parent must exist).</param>
/// <param name="EverySteps">Also save every this many steps inside an epoch (0: only at the end of each epoch).</param>
/// <param name="Keep">How many of the newest checkpoints to keep (≥ 1); older ones are deleted after a save.</param>
/// <param name="Resume">Continue from the newest checkpoint in <paramref name="Directory"/> (there must be one).</param>
public sealed record CheckpointOptions(string Directory, int EverySteps = 0, int Keep = 3, bool Resume = false);

/// <summary>Writes checkpoint files into one directory, atomically, keeping the newest <c>Keep</c>.</summary>
internal sealed class Checkpointer
{
    readonly CheckpointOptions _options;
    readonly Func<Network, Model> _model;

    public Checkpointer(CheckpointOptions options, Func<Network, Model> model)
    {
        if (options.Keep < 1) throw EngineException.ForParameter("checkpoints to keep", $"must be at least 1, got {options.Keep}");
        if (options.EverySteps < 0) throw EngineException.ForParameter("checkpoint interval", $"must be 0 or more steps, got {options.EverySteps}");
        if (string.IsNullOrWhiteSpace(options.Directory)) throw new EngineException("checkpoint directory name is empty");
        _options = options;
        _model = model;
        string full = Path.GetFullPath(options.Directory);
        if (File.Exists(full)) throw new EngineException($"{options.Directory}: is a file, expected a checkpoint directory");
        string? parent = Path.GetDirectoryName(full);
        if (parent is not null && !System.IO.Directory.Exists(parent)) throw new EngineException($"{options.Directory}: parent directory {parent} does not exist");
        System.IO.Directory.CreateDirectory(full);
    }

    public int EverySteps => _options.EverySteps;

    /// <summary>Saves the state and prunes old checkpoints; returns the file written.</summary>
    public string Save(TrainingState state)
    {
        string path = Path.Combine(_options.Directory, CheckpointFile.Name(state.Cursor));
        CheckpointFile.Save(path, new Checkpoint(_model(state.Network), state.Options, state.Cursor, state.Reports, state.Optimizer, state.Best));
        foreach (string old in CheckpointFile.List(_options.Directory).SkipLast(_options.Keep)) File.Delete(old);
        return path;
    }
}

/// <summary>Everything needed to continue a run exactly: weights and scaling, settings, cursor, the epochs so far, the
/// optimizer's state and early stopping's best weights.</summary>
internal sealed record Checkpoint(Model Model, TrainingOptions Options, TrainingCursor Cursor, IReadOnlyList<EpochReport> Reports,
                                  OptimizerSnapshot Optimizer, BestWeights? Best);

/// <summary>
/// Checkpoint files, little-endian: magic "ENGNCKPT" | version u32 = 2 | epochs i32 | batch i32 | lr f32 | l2 f32 |
/// seed u64 | shuffle u8 | optimizer u8 | momentum f32 | β1 f32 | β2 f32 | ε f32 | schedule u8 | step epochs i32 |
/// γ f32 | min lr f32 | patience i32 | epoch i32 | step i32 | lossSum f64 | correct i32 | reportCount i32 | reports
/// (epoch i32, trainLoss f64, trainAccuracy f64, testAccuracy f64, testLoss f64 (NaN when absent), seconds f64, lr f32) |
/// model length i64 | model file bytes | optimizer steps i64 | first-state count i32 + f32s | second-state count i32 + f32s |
/// best epoch i32 (−1: no early stopping) | best loss f64 | best-weights count i32 + f32s |
/// XxHash64 of everything before it (u64). Names sort by position: checkpoint-e0003-s000120.ckpt.
/// </summary>
internal static class CheckpointFile
{
    static ReadOnlySpan<byte> Magic => "ENGNCKPT"u8;
    const uint Version = 2; // 1: without the correct count, train accuracy and learning rate (not read: resume needs them)
    const string Prefix = "checkpoint-", Suffix = ".ckpt";

    public static string Name(TrainingCursor c) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}e{c.Epoch:D4}-s{c.Step:D7}{Suffix}");

    /// <summary>The directory's checkpoint files, oldest first (temp files of interrupted saves are not listed).</summary>
    public static IEnumerable<string> List(string directory) =>
        System.IO.Directory.EnumerateFiles(directory, Prefix + "*" + Suffix)
            .Where(f => Path.GetFileName(f).StartsWith(Prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    public static void Save(string path, Checkpoint c) => AtomicFile.Write(path, stream =>
    {
        var body = new MemoryStream();
        using (var w = new BinaryWriter(body, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            var o = c.Options;
            w.Write(o.Epochs); w.Write(o.BatchSize); w.Write(o.LearningRate); w.Write(o.L2); w.Write(o.Seed); w.Write((byte)(o.Shuffle ? 1 : 0));
            w.Write((byte)o.Optimizer.Kind); w.Write(o.Optimizer.Momentum); w.Write(o.Optimizer.Beta1); w.Write(o.Optimizer.Beta2); w.Write(o.Optimizer.Epsilon);
            w.Write((byte)o.Schedule.Kind); w.Write(o.Schedule.StepEpochs); w.Write(o.Schedule.Gamma); w.Write(o.Schedule.MinLearningRate);
            w.Write(o.EarlyStoppingPatience);
            w.Write(c.Cursor.Epoch); w.Write(c.Cursor.Step); w.Write(c.Cursor.LossSum); w.Write(c.Cursor.Correct);
            w.Write(c.Reports.Count);
            foreach (var r in c.Reports)
            {
                w.Write(r.Epoch); w.Write(r.TrainLoss); w.Write(r.TrainAccuracy); w.Write(r.TestAccuracy ?? double.NaN); w.Write(r.TestLoss ?? double.NaN); w.Write(r.Seconds); w.Write(r.LearningRate);
            }
            var model = new MemoryStream();
            ModelFile.Write(model, c.Model);
            w.Write(model.Length);
            model.Position = 0;
            w.Flush();
            model.CopyTo(body);
            w.Write(c.Optimizer.Steps);
            WriteFloats(w, c.Optimizer.First);
            WriteFloats(w, c.Optimizer.Second);
            w.Write(c.Best?.Epoch ?? -1);
            w.Write(c.Best?.Loss ?? double.NaN);
            WriteFloats(w, c.Best?.Parameters ?? []);
        }
        Span<byte> hash = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(hash, XxHash64.HashToUInt64(body.GetBuffer().AsSpan(0, (int)body.Length)));
        body.Position = 0;
        body.CopyTo(stream);
        stream.Write(hash);
    });

    public static Checkpoint Load(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new EngineException($"{path}: {e.Message}"); }
        if (bytes.Length < Magic.Length + 12 || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new EngineException($"{path}: not an engine checkpoint file");
        var body = bytes.AsSpan(0, bytes.Length - 8);
        if (XxHash64.HashToUInt64(body) != BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8)))
            throw new EngineException($"{path}: checksum mismatch (the checkpoint is truncated or corrupted)");
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes, 0, body.Length));
            r.ReadBytes(Magic.Length);
            uint version = r.ReadUInt32();
            if (version != Version) throw new EngineException($"{path}: checkpoint version {version} is not supported (this engine reads {Version})");
            var options = new TrainingOptions(r.ReadInt32(), r.ReadInt32(), r.ReadSingle(), r.ReadSingle(), r.ReadUInt64(), r.ReadByte() != 0)
            {
                Optimizer = new Optimizer((OptimizerKind)r.ReadByte(), r.ReadSingle(), r.ReadSingle(), r.ReadSingle(), r.ReadSingle()),
                Schedule = new LearningRateSchedule((ScheduleKind)r.ReadByte(), r.ReadInt32(), r.ReadSingle(), r.ReadSingle()),
                EarlyStoppingPatience = r.ReadInt32(),
            };
            try { options.Validate(); }
            catch (EngineException e) { throw new EngineException($"{path}: invalid settings in the checkpoint ({e.Message})"); }
            var cursor = new TrainingCursor(r.ReadInt32(), r.ReadInt32(), r.ReadDouble(), r.ReadInt32());
            int count = r.ReadInt32();
            if (count < 0 || count > 1_000_000) throw new EngineException($"{path}: {count} epoch reports is not plausible");
            var reports = new List<EpochReport>(count);
            for (int i = 0; i < count; i++)
            {
                int epoch = r.ReadInt32();
                double loss = r.ReadDouble(), trainAccuracy = r.ReadDouble(), accuracy = r.ReadDouble(), testLoss = r.ReadDouble(), seconds = r.ReadDouble();
                float learningRate = r.ReadSingle();
                reports.Add(new EpochReport(epoch, loss, trainAccuracy, double.IsNaN(accuracy) ? null : accuracy, double.IsNaN(testLoss) ? null : testLoss, seconds, learningRate));
            }
            long modelLength = r.ReadInt64();
            long at = r.BaseStream.Position;
            if (modelLength < 0 || modelLength > body.Length - at) throw new EngineException($"{path}: model section of {modelLength} bytes does not fit the file");
            Model model = ModelFile.Read(body.Slice((int)at, (int)modelLength), path);
            r.BaseStream.Position = at + modelLength;
            int parameters = model.Network.Parameters.Length, stateVectors = options.Optimizer.StateVectors;
            long steps = r.ReadInt64();
            float[] first = ReadFloats(r, stateVectors >= 1 ? parameters : 0, path, "optimizer state");
            float[] second = ReadFloats(r, stateVectors >= 2 ? parameters : 0, path, "optimizer state");
            int bestEpoch = r.ReadInt32();
            double bestLoss = r.ReadDouble();
            float[] bestParameters = ReadFloats(r, bestEpoch > 0 ? parameters : 0, path, "best weights");
            if (steps < 0 || bestEpoch < -1 || (bestEpoch == -1) != (options.EarlyStoppingPatience == 0))
                throw new EngineException($"{path}: inconsistent optimizer or early-stopping state");
            if (r.BaseStream.Position != body.Length) throw new EngineException($"{path}: {body.Length - r.BaseStream.Position} unexpected bytes at the end");
            BestWeights? best = bestEpoch < 0 ? null : new BestWeights(bestEpoch, bestLoss, bestParameters);
            return new Checkpoint(model, options, cursor, reports, new OptimizerSnapshot(first, second, steps), best);
        }
        catch (EndOfStreamException) { throw new EngineException($"{path}: truncated checkpoint"); }
    }

    static void WriteFloats(BinaryWriter w, float[] values)
    {
        w.Write(values.Length);
        w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
    }

    /// <summary>A count that must equal <paramref name="expected"/> (checked before anything is allocated), then the floats.</summary>
    static float[] ReadFloats(BinaryReader r, int expected, string path, string what)
    {
        int count = r.ReadInt32();
        if (count != expected) throw new EngineException($"{path}: {what} holds {count} values, expected {expected}");
        if ((long)count * 4 > r.BaseStream.Length - r.BaseStream.Position) throw new EngineException($"{path}: truncated checkpoint");
        var values = new float[count];
        if (r.Read(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())) != count * 4) throw new EngineException($"{path}: truncated checkpoint");
        return values;
    }
}
