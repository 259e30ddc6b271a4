using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Engine.Data;
using Engine.Kernels;
using Engine.Nn;

namespace Engine.Serialization;

/// <summary>
/// The engine's model file, little-endian:
/// <code>
/// magic "ENGNMODL" (8 bytes) | version u32 = 2
/// activation u8 (1 tanh, 2 relu, 3 sigmoid) | 3 zero bytes
/// inputWidth u32 | hiddenCount u32 | hidden widths u32 × hiddenCount | classCount u32
/// scaling u8 (1 divide, 2 standardize) | 3 zero bytes
///   divide: divisor f32 | standardize: mean f32 × inputWidth, std f32 × inputWidth
/// parameterCount u64 | parameters f32 × parameterCount (W1, b1, W2, b2, …; W_i row-major (fanIn, fanOut))
/// header checksum u64 | parameter checksum u64      (version 2: XxHash64 of the bytes from the magic to
///                                                    parameterCount, and of the parameter bytes)
/// </code>
/// Every field is validated, and the sizes it implies are checked against the file's length before anything
/// large is allocated; then the checksums catch corruption that leaves every field in range. Version 1 files
/// (the same layout without the checksums) are still read.
/// </summary>
internal static class ModelFile
{
    static ReadOnlySpan<byte> Magic => "ENGNMODL"u8;
    public const uint Version = 2;
    const uint VersionWithoutChecksums = 1;
    const string FileKind = "model file";

    public static void Save(string path, Model model) => AtomicFile.Write(path, stream => Write(stream, model));

    public static void Write(Stream stream, Model model)
    {
        var net = model.Network;
        var header = new MemoryStream();
        using (var w = new BinaryWriter(header, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write((byte)net.HiddenActivation); w.Write((byte)0); w.Write((ushort)0);
            w.Write((uint)net.InputWidth);
            w.Write((uint)net.HiddenWidths.Count);
            foreach (int h in net.HiddenWidths) w.Write((uint)h);
            w.Write((uint)net.ClassCount);
            var s = model.Scaling;
            w.Write((byte)s.Mode); w.Write((byte)0); w.Write((ushort)0);
            if (s.Mode == InputScaling.Kind.Divide) w.Write(s.Divisor);
            else
            {
                if (s.Mean.Length != net.InputWidth) throw new ArgumentException("scaling width differs from the network's input width");
                foreach (float m in s.Mean) w.Write(m);
                foreach (float d in s.Std) w.Write(d);
            }
            w.Write((ulong)net.Parameters.Length);
        }
        var headerBytes = header.GetBuffer().AsSpan(0, (int)header.Length);
        var parameterBytes = MemoryMarshal.AsBytes(net.Parameters.AsSpan());
        Span<byte> checksums = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(checksums, XxHash64.HashToUInt64(headerBytes));
        BinaryPrimitives.WriteUInt64LittleEndian(checksums[8..], XxHash64.HashToUInt64(parameterBytes));
        stream.Write(headerBytes);
        stream.Write(parameterBytes);
        stream.Write(checksums);
    }

    public static Model Load(string path) => Read(SpanReader.ReadFile(path, FileKind, Magic), path);

    public static Model Read(ReadOnlySpan<byte> bytes, string name)
    {
        var r = new SpanReader(bytes, name, FileKind);
        if (bytes.Length < Magic.Length || !bytes[..Magic.Length].SequenceEqual(Magic))
            throw new EngineException($"{name}: not an engine model file (bad magic number)");
        r.Skip(Magic.Length);
        uint version = r.U32();
        if (version is not (Version or VersionWithoutChecksums))
            throw new EngineException($"{name}: model format version {version} is not supported (this engine reads versions {VersionWithoutChecksums} and {Version})");
        byte act = r.U8(); r.Skip(3);
        if (act is < 1 or > 3) throw new EngineException($"{name}: unknown activation code {act}");
        int input = Width(ref r, name, "input width");
        uint hiddenCount = r.U32();
        if (hiddenCount > Limits.MaxHiddenLayers) throw new EngineException($"{name}: {hiddenCount} hidden layers is more than the limit of {Limits.MaxHiddenLayers}");
        var hidden = new int[hiddenCount];
        for (int i = 0; i < hidden.Length; i++) hidden[i] = Width(ref r, name, $"hidden layer {i + 1} width");
        int classes = Width(ref r, name, "class count");
        if (classes < 2) throw new EngineException($"{name}: class count {classes} is below 2");
        Limits.CheckNetwork(input, hidden, classes, name);
        byte scalingKind = r.U8(); r.Skip(3);
        InputScaling scaling;
        try
        {
            if (scalingKind == (byte)InputScaling.Kind.Divide) scaling = InputScaling.Divide(r.F32());
            else if (scalingKind == (byte)InputScaling.Kind.Standardize)
            {
                float[] mean = r.F32Array(input, "scaling means");
                float[] std = r.F32Array(input, "scaling deviations");
                scaling = InputScaling.Standardize(mean, std);
            }
            else throw new EngineException($"{name}: unknown scaling code {scalingKind}");
        }
        catch (EngineException e) when (!e.Message.StartsWith(name, StringComparison.Ordinal))
        {
            throw new EngineException($"{name}: invalid input scaling ({e.Message})");
        }
        ulong count = r.U64();
        long expected = 0;
        int[] widths = [input, .. hidden, classes];
        for (int l = 0; l + 1 < widths.Length; l++) expected += (long)widths[l] * widths[l + 1] + widths[l + 1];
        if ((long)count != expected)
            throw new EngineException($"{name}: stores {count} parameters, layers {string.Join("-", widths)} need {expected}");
        int trailer = version == Version ? 16 : 0;
        if (r.Remaining != expected * 4 + trailer)
            throw new EngineException($"{name}: {r.Remaining - trailer} bytes of parameters, expected {expected * 4} (truncated or padded file)");
        int headerEnd = bytes.Length - r.Remaining;
        var parameterBytes = bytes.Slice(headerEnd, (int)(expected * 4));
        if (trailer > 0)
        {
            var sums = bytes[^16..];
            if (XxHash64.HashToUInt64(bytes[..headerEnd]) != BinaryPrimitives.ReadUInt64LittleEndian(sums))
                throw new EngineException($"{name}: header checksum mismatch (the file is corrupted)");
            if (XxHash64.HashToUInt64(parameterBytes) != BinaryPrimitives.ReadUInt64LittleEndian(sums[8..]))
                throw new EngineException($"{name}: parameter checksum mismatch (the file is corrupted)");
        }
        var network = new Network(input, hidden, classes, (Activation)act);
        MemoryMarshal.Cast<byte, float>(parameterBytes).CopyTo(network.Parameters);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
        return new Model(network, scaling);
    }

    static int Width(ref SpanReader r, string name, string what)
    {
        uint v = r.U32();
        if (v < 1 || v > Limits.MaxWidth) throw new EngineException($"{name}: {what} {v} is out of range (1..{Limits.MaxWidth}, the limit)");
        return (int)v;
    }
}
