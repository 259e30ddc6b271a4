using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Engine.Nn;

namespace Engine.Serialization;

// The file's own records, not Training's: Serialization may not use Training (Training uses Serialization), so
// Training's Checkpoint converts its records (options, cursor, reports, optimizer state) to and from these.

/// <summary>What a checkpoint file holds, field for field.</summary>
internal sealed record CheckpointContent(Model Model, CheckpointSettings Settings, CheckpointCursor Cursor, IReadOnlyList<CheckpointEpoch> Epochs,
                                         CheckpointOptimizer Optimizer, CheckpointBest? Best);

/// <summary>The run's settings; <see cref="Optimizer"/> and <see cref="Schedule"/> are the kinds' enum values.</summary>
internal readonly record struct CheckpointSettings(int Epochs, int BatchSize, float LearningRate, float L2, ulong Seed, bool Shuffle,
                                                   byte Optimizer, float Momentum, float Beta1, float Beta2, float Epsilon,
                                                   byte Schedule, int StepEpochs, float Gamma, float MinLearningRate, int EarlyStoppingPatience);

/// <summary>Steps done in an epoch, their summed loss and correct count.</summary>
internal readonly record struct CheckpointCursor(int Epoch, int Step, double LossSum, int Correct);

/// <summary>One finished epoch's report.</summary>
internal readonly record struct CheckpointEpoch(int Epoch, double TrainLoss, double TrainAccuracy, double? TestAccuracy, double? TestLoss,
                                                double Seconds, float LearningRate);

/// <summary>The optimizer's step count and state vectors (each empty or one value per parameter).</summary>
internal sealed record CheckpointOptimizer(long Steps, float[] First, float[] Second);

/// <summary>Early stopping's best epoch so far (0: none yet), its loss and weights (empty when none yet).</summary>
internal sealed record CheckpointBest(int Epoch, double Loss, float[] Parameters);

/// <summary>
/// Checkpoint files, little-endian:
/// <code>
/// magic "ENGNCKPT" (8 bytes) | version u32 = 2
/// epochs i32 | batch i32 | lr f32 | l2 f32 | seed u64 | shuffle u8
/// optimizer u8 | momentum f32 | β1 f32 | β2 f32 | ε f32 | schedule u8 | step epochs i32 | γ f32 | min lr f32 | patience i32
/// epoch i32 | step i32 | lossSum f64 | correct i32
/// reportCount i32 | reports × reportCount: epoch i32, trainLoss f64, trainAccuracy f64, testAccuracy f64, testLoss f64
///                   (NaN when absent), seconds f64, lr f32
/// model length i64 | model file bytes (<see cref="ModelFile"/>)
/// optimizer steps i64 | first-state count i32 + f32s | second-state count i32 + f32s
/// best epoch i32 (−1: no early stopping) | best loss f64 | best-weights count i32 + f32s
/// XxHash64 of everything before it (u64)
/// </code>
/// Read like the model file: the checksum first, then every length checked against the bytes left before anything
/// is allocated. Names sort by position: checkpoint-e0003-s0000120.ckpt.
/// </summary>
internal static class CheckpointFile
{
    static ReadOnlySpan<byte> Magic => "ENGNCKPT"u8;
    const uint Version = 2; // 1: without the correct count, train accuracy and learning rate (not read: resume needs them)
    const string Prefix = "checkpoint-", Suffix = ".ckpt", FileKind = "checkpoint file";
    const int EpochBytes = 4 + 5 * 8 + 4;

    public static string Name(int epoch, int step) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}e{epoch:D4}-s{step:D7}{Suffix}");

    /// <summary>The directory's checkpoint files, oldest first (temp files of interrupted saves are not listed).</summary>
    public static IEnumerable<string> List(string directory) =>
        Directory.EnumerateFiles(directory, Prefix + "*" + Suffix)
            .Where(f => Path.GetFileName(f).StartsWith(Prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    public static void Save(string path, CheckpointContent c) => AtomicFile.Write(path, stream => Write(stream, c));

    public static void Write(Stream stream, CheckpointContent c)
    {
        var body = new MemoryStream();
        using (var w = new BinaryWriter(body, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            var s = c.Settings;
            w.Write(s.Epochs); w.Write(s.BatchSize); w.Write(s.LearningRate); w.Write(s.L2); w.Write(s.Seed); w.Write((byte)(s.Shuffle ? 1 : 0));
            w.Write(s.Optimizer); w.Write(s.Momentum); w.Write(s.Beta1); w.Write(s.Beta2); w.Write(s.Epsilon);
            w.Write(s.Schedule); w.Write(s.StepEpochs); w.Write(s.Gamma); w.Write(s.MinLearningRate);
            w.Write(s.EarlyStoppingPatience);
            w.Write(c.Cursor.Epoch); w.Write(c.Cursor.Step); w.Write(c.Cursor.LossSum); w.Write(c.Cursor.Correct);
            w.Write(c.Epochs.Count);
            foreach (var e in c.Epochs)
            {
                w.Write(e.Epoch); w.Write(e.TrainLoss); w.Write(e.TrainAccuracy); w.Write(e.TestAccuracy ?? double.NaN); w.Write(e.TestLoss ?? double.NaN);
                w.Write(e.Seconds); w.Write(e.LearningRate);
            }
            var model = new MemoryStream();
            ModelFile.Write(model, c.Model);
            w.Write(model.Length);
            w.Write(model.GetBuffer().AsSpan(0, (int)model.Length));
            w.Write(c.Optimizer.Steps);
            WriteFloats(w, c.Optimizer.First);
            WriteFloats(w, c.Optimizer.Second);
            w.Write(c.Best?.Epoch ?? -1);
            w.Write(c.Best?.Loss ?? double.NaN);
            WriteFloats(w, c.Best?.Parameters ?? []);
        }
        var bodyBytes = body.GetBuffer().AsSpan(0, (int)body.Length);
        Span<byte> checksum = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(checksum, XxHash64.HashToUInt64(bodyBytes));
        stream.Write(bodyBytes);
        stream.Write(checksum);
    }

    public static CheckpointContent Load(string path) => Read(SpanReader.ReadFile(path, FileKind, Magic), path);

    public static CheckpointContent Read(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length < Magic.Length + 12 || !bytes[..Magic.Length].SequenceEqual(Magic))
            throw new EngineException($"{name}: not an engine checkpoint file");
        var body = bytes[..^8];
        if (XxHash64.HashToUInt64(body) != BinaryPrimitives.ReadUInt64LittleEndian(bytes[^8..]))
            throw new EngineException($"{name}: checksum mismatch (the checkpoint is truncated or corrupted)");
        var r = new SpanReader(body, name, FileKind);
        r.Skip(Magic.Length);
        uint version = r.U32();
        if (version != Version) throw new EngineException($"{name}: checkpoint version {version} is not supported (this engine reads {Version})");
        var settings = new CheckpointSettings(r.I32(), r.I32(), r.F32(), r.F32(), r.U64(), r.U8() != 0,
                                              r.U8(), r.F32(), r.F32(), r.F32(), r.F32(),
                                              r.U8(), r.I32(), r.F32(), r.F32(), r.I32());
        var cursor = new CheckpointCursor(r.I32(), r.I32(), r.F64(), r.I32());
        int count = r.I32();
        if (count < 0 || (long)count * EpochBytes > r.Remaining) throw new EngineException($"{name}: {count} epoch reports do not fit the file");
        var epochs = new CheckpointEpoch[count];
        for (int i = 0; i < count; i++)
        {
            int epoch = r.I32();
            double trainLoss = r.F64(), trainAccuracy = r.F64(), testAccuracy = r.F64(), testLoss = r.F64(), seconds = r.F64();
            float learningRate = r.F32();
            epochs[i] = new CheckpointEpoch(epoch, trainLoss, trainAccuracy, double.IsNaN(testAccuracy) ? null : testAccuracy,
                                            double.IsNaN(testLoss) ? null : testLoss, seconds, learningRate);
        }
        long modelLength = r.I64();
        if (modelLength < 0 || modelLength > r.Remaining) throw new EngineException($"{name}: model section of {modelLength} bytes does not fit the file");
        Model model = ModelFile.Read(r.Take((int)modelLength), name);
        int parameters = model.Network.Parameters.Length;
        long steps = r.I64();
        float[] first = ReadFloats(ref r, parameters, name, "optimizer state");
        float[] second = ReadFloats(ref r, parameters, name, "optimizer state");
        int bestEpoch = r.I32();
        double bestLoss = r.F64();
        float[] bestParameters = ReadFloats(ref r, parameters, name, "best weights");
        if (steps < 0 || bestEpoch < -1) throw new EngineException($"{name}: inconsistent optimizer or early-stopping state");
        if (r.Remaining != 0) throw new EngineException($"{name}: {r.Remaining} unexpected bytes at the end");
        return new CheckpointContent(model, settings, cursor, epochs, new CheckpointOptimizer(steps, first, second),
                                     bestEpoch < 0 ? null : new CheckpointBest(bestEpoch, bestLoss, bestParameters));
    }

    static void WriteFloats(BinaryWriter w, float[] values)
    {
        w.Write(values.Length);
        w.Write(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    /// <summary>A count that must be 0 or the model's parameter count, then that many floats.</summary>
    static float[] ReadFloats(ref SpanReader r, int parameters, string name, string what)
    {
        int count = r.I32();
        if (count != 0 && count != parameters) throw new EngineException($"{name}: {what} holds {count} values, expected 0 or {parameters}");
        return r.F32Array(count, what);
    }
}
