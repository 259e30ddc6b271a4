using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Engine.Serialization;

/// <summary>
/// Reads the little-endian fields of an engine file (model, checkpoint) from memory without trusting them: every
/// read checks that its bytes are there, and an array's claimed length is checked against the bytes left before
/// anything is allocated. Errors name the file and say which <paramref name="kind"/> of file it was meant to be.
/// </summary>
internal ref struct SpanReader(ReadOnlySpan<byte> bytes, string name, string kind)
{
    readonly ReadOnlySpan<byte> _bytes = bytes;
    int _pos;

    public readonly int Remaining => _bytes.Length - _pos;

    public ReadOnlySpan<byte> Take(int n)
    {
        if (n < 0 || Remaining < n) throw new EngineException($"{name}: truncated {kind} (ends at byte {_bytes.Length})");
        var s = _bytes.Slice(_pos, n);
        _pos += n;
        return s;
    }

    public void Skip(int n) => Take(n);
    public byte U8() => Take(1)[0];
    public int I32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    public long I64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));
    public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
    public float F32() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));
    public double F64() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    /// <summary><paramref name="n"/> float32 values, <paramref name="n"/> coming from the file.</summary>
    public float[] F32Array(int n, string what)
    {
        if (n < 0 || Remaining < 4L * n) throw new EngineException($"{name}: truncated {kind} in {what}");
        return MemoryMarshal.Cast<byte, float>(Take(4 * n)).ToArray();
    }

    /// <summary>The whole file, for parsing in memory; I/O errors become <see cref="EngineException"/>s.</summary>
    public static byte[] ReadFile(string path, string kind)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new EngineException($"{kind} name is empty");
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new EngineException($"{path}: {kind} not found");
            if (info.Length > int.MaxValue) throw new EngineException($"{path}: {info.Length} bytes is too large for a {kind}");
            return File.ReadAllBytes(path);
        }
        catch (UnauthorizedAccessException) { throw new EngineException($"{path}: permission denied"); }
        catch (IOException e) { throw new EngineException($"{path}: {e.Message}"); }
    }
}
