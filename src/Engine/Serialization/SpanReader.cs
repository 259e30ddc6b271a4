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

    /// <summary>
    /// The whole file, for parsing in memory; I/O errors become <see cref="EngineException"/>s. When the first bytes are
    /// not <paramref name="magic"/>, only those are returned (the parser then reports the wrong magic number), so
    /// /dev/zero or a wrong file is refused after a few bytes. A regular file's size is checked before it is read;
    /// anything else (a device, a FIFO) is read in chunks up to the largest array .NET holds.
    /// </summary>
    public static byte[] ReadFile(string path, string kind, ReadOnlySpan<byte> magic = default)
    {
        byte[] expected = magic.ToArray();
        return ReadFile(path, kind, expected.Length, head => head.AsSpan().SequenceEqual(expected));
    }

    /// <summary>As above, with the first <paramref name="prefixLength"/> bytes judged by <paramref name="plausible"/> (formats without a magic number).</summary>
    public static byte[] ReadFile(string path, string kind, int prefixLength, Func<byte[], bool> plausible)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new EngineException($"{kind} name is empty");
        if (Directory.Exists(path)) throw new EngineException($"{path}: is a directory, not a {kind}");
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new EngineException($"{path}: {kind} not found");
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var head = new byte[prefixLength];
            int got = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            if (got < head.Length || !plausible(head)) return head[..got];
            if (stream.CanSeek && stream.Length > 0)
            {
                if (stream.Length > Array.MaxLength) throw new EngineException($"{path}: {stream.Length:N0} bytes is too large for a {kind}");
                var all = new byte[stream.Length];
                head.CopyTo(all, 0);
                stream.ReadExactly(all, head.Length, all.Length - head.Length);
                return all;
            }
            byte[] rest = Engine.Data.BoundedRead.UpTo(stream, Array.MaxLength - head.Length);
            if (rest.Length == Array.MaxLength - head.Length && stream.ReadByte() >= 0)
                throw new EngineException($"{path}: more than {Array.MaxLength:N0} bytes is too large for a {kind}");
            return [.. head, .. rest];
        }
        catch (EndOfStreamException) { throw new EngineException($"{path}: the {kind} shrank while it was read"); }
        catch (UnauthorizedAccessException) { throw new EngineException($"{path}: permission denied"); }
        catch (IOException e) { throw new EngineException($"{path}: {AtomicFile.Describe(e)}"); }
    }
}
