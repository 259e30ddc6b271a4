using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace Engine.Data;

/// <summary>A float32 array with its NumPy shape (C order).</summary>
internal sealed record NpyArray(int[] Shape, float[] Data)
{
    /// <summary>The stored bytes when the array was uint8 in C order (pixel data), else null: Data[i] = Bytes[i].</summary>
    public byte[]? Bytes { get; init; }
}

/// <summary>A NumPy element type the readers take ('f' float, 'i' signed, 'u' unsigned, 'b' bool), read as float32.</summary>
internal readonly record struct ElementKind(char Code, int Size, bool BigEndian)
{
    /// <summary>The kind of a descr such as '&lt;f4', '|u1', '&gt;i8', '|b1'; null for any other (complex, strings, objects).</summary>
    public static ElementKind? Of(string descr)
    {
        char order = descr[0] is '<' or '>' or '|' or '=' ? descr[0] : '=';
        string rest = descr[0] == order ? descr[1..] : descr;
        if (rest.Length < 2 || !int.TryParse(rest[1..], NumberStyles.None, CultureInfo.InvariantCulture, out int size)) return null;
        bool ok = rest[0] switch { 'f' => size is 2 or 4 or 8, 'i' or 'u' => size is 1 or 2 or 4 or 8, 'b' => size == 1, _ => false };
        return ok ? new ElementKind(rest[0], size, order == '>' || (order == '=' && !BitConverter.IsLittleEndian)) : null;
    }

    /// <summary>One element as float32 (integers beyond 2^24 round to the nearest float).</summary>
    public float Read(ReadOnlySpan<byte> b) => (Code, Size) switch
    {
        ('f', 2) => (float)(BigEndian ? BinaryPrimitives.ReadHalfBigEndian(b) : BinaryPrimitives.ReadHalfLittleEndian(b)),
        ('f', 4) => BigEndian ? BinaryPrimitives.ReadSingleBigEndian(b) : BinaryPrimitives.ReadSingleLittleEndian(b),
        ('f', _) => (float)(BigEndian ? BinaryPrimitives.ReadDoubleBigEndian(b) : BinaryPrimitives.ReadDoubleLittleEndian(b)),
        ('u', 1) or ('b', _) => b[0],
        ('i', 1) => (sbyte)b[0],
        ('u', 2) => BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b),
        ('i', 2) => BigEndian ? BinaryPrimitives.ReadInt16BigEndian(b) : BinaryPrimitives.ReadInt16LittleEndian(b),
        ('u', 4) => BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b),
        ('i', 4) => BigEndian ? BinaryPrimitives.ReadInt32BigEndian(b) : BinaryPrimitives.ReadInt32LittleEndian(b),
        ('u', _) => BigEndian ? BinaryPrimitives.ReadUInt64BigEndian(b) : BinaryPrimitives.ReadUInt64LittleEndian(b),
        _ => BigEndian ? BinaryPrimitives.ReadInt64BigEndian(b) : BinaryPrimitives.ReadInt64LittleEndian(b),
    };
}

/// <summary>
/// Reads NumPy .npy (format 1.0/2.0/3.0) and .npz (a zip of .npy members, stored or deflated) arrays: little- or
/// big-endian floats, integers and bools in C or Fortran order, converted to float32 in C order. Every length the file
/// claims is checked against the bytes it has. Data (features and labels) and Serialization (weights) both read through it.
/// </summary>
internal static partial class NpyReader
{
    public static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    const long MaxElements = 1L << 28;

    public static Dictionary<string, NpyArray> ReadNpz(string path)
    {
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                string name = entry.FullName[..^4];
                string member = $"{path}:{entry.FullName}";
                using var s = new CheckedMember(entry.Open(), entry.Length, member);
                result[name] = ReadNpy(s, member, entry.Length);
                s.Finish(entry.Crc32);
            }
            return result;
        }
        catch (FileNotFoundException) { throw new EngineException($"{path}: file not found"); }
        catch (DirectoryNotFoundException) { throw new EngineException($"{path}: directory not found"); }
        catch (InvalidDataException e) { throw new EngineException($"{path}: not a valid .npz (zip) file ({e.Message})"); }
        catch (UnauthorizedAccessException) { throw new EngineException($"{path}: permission denied"); }
        catch (IOException e) { throw new EngineException($"{path}: {e.Message}"); }
    }

    /// <summary>
    /// A zip member's bytes with their count and CRC-32, checked against the central directory when the member ends:
    /// System.IO.Compression checks neither for stored members, so a corrupt member would read as whatever bytes are
    /// there (Python's zipfile refuses it with "Bad CRC-32"). Reading past the declared size is refused at once.
    /// </summary>
    sealed class CheckedMember(Stream inner, long declaredLength, string name) : Stream
    {
        readonly System.IO.Hashing.Crc32 _crc = new();
        long _read;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            _read += n;
            if (_read > declaredLength) throw new EngineException($"{name}: the member holds more than the {declaredLength:N0} bytes the zip directory declares");
            _crc.Append(buffer[..n]);
            return n;
        }

        /// <summary>Reads what the parser left and compares size and CRC-32 with the directory's.</summary>
        public void Finish(uint expectedCrc)
        {
            Span<byte> rest = stackalloc byte[4096];
            while (Read(rest) > 0) { }
            if (_read != declaredLength) throw new EngineException($"{name}: the member holds {_read:N0} bytes, the zip directory declares {declaredLength:N0}");
            if (_crc.GetCurrentHashAsUInt32() != expectedCrc) throw new EngineException($"{name}: Bad CRC-32 (the member is corrupt)");
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => declaredLength;
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    public static NpyArray ReadNpy(Stream stream, string name, long length)
    {
        Span<byte> pre = stackalloc byte[8];
        if (stream.ReadAtLeast(pre, 8, throwOnEndOfStream: false) < 8 || !pre[..6].SequenceEqual(Magic))
            throw new EngineException($"{name}: not a .npy array (bad magic)");
        byte major = pre[6];
        int headerLength;
        int prefix;
        if (major == 1) { headerLength = BinaryPrimitives.ReadUInt16LittleEndian(ReadMore(stream, 2, name)); prefix = 10; }
        else if (major is 2 or 3)
        {
            uint length32 = BinaryPrimitives.ReadUInt32LittleEndian(ReadMore(stream, 4, name));
            if (length32 > 1 << 16) throw new EngineException($"{name}: .npy header of {length32} bytes is too long");
            headerLength = (int)length32;
            prefix = 12;
        }
        else throw new EngineException($"{name}: .npy format version {major} is not supported");
        if (headerLength > 1 << 16) throw new EngineException($"{name}: .npy header of {headerLength} bytes is too long");
        string header = Encoding.Latin1.GetString(ReadMore(stream, headerLength, name));

        var descr = DescrPattern().Match(header);
        var fortran = FortranPattern().Match(header);
        var shapeMatch = ShapePattern().Match(header);
        if (!descr.Success || !fortran.Success || !shapeMatch.Success)
            throw new EngineException($"{name}: cannot parse .npy header {header.Trim()}");
        string dtype = descr.Groups[1].Value;
        var kind = ElementKind.Of(dtype) ?? throw new EngineException($"{name}: dtype {dtype} is not supported (floats, integers or bool)");
        int itemSize = kind.Size;
        bool fortranOrder = fortran.Groups[1].Value == "True";
        int[] shape = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v
                : throw new EngineException($"{name}: bad shape entry '{t}'")).ToArray();
        long elements = 1;
        foreach (int d in shape) { elements *= d; if (elements > MaxElements) throw new EngineException($"{name}: array too large"); }
        long dataBytes = elements * itemSize;
        if (length >= 0 && length - prefix - headerLength != dataBytes)
            throw new EngineException($"{name}: header says {string.Join("x", shape)} {dtype} = {dataBytes} bytes, the member holds {length - prefix - headerLength}");

        if (dataBytes > Array.MaxLength) throw new EngineException($"{name}: array of {dataBytes} bytes is too large");
        byte[] raw = BoundedRead.UpTo(stream, (int)dataBytes);
        if (raw.Length < dataBytes) throw new EngineException($"{name}: truncated .npy data ({raw.Length} of {dataBytes} bytes)");
        var data = new float[elements];
        for (long i = 0; i < elements; i++) data[i] = kind.Read(raw.AsSpan((int)(i * itemSize), itemSize));
        byte[]? bytes = kind.Code == 'u' && itemSize == 1 && !fortranOrder ? raw : null; // pixel data keeps its byte form
        if (fortranOrder && shape.Length == 2) data = Transposed(data, shape[1], shape[0]);
        else if (fortranOrder && shape.Length > 2) throw new EngineException($"{name}: Fortran-order arrays of rank {shape.Length} are not supported");
        return new NpyArray(shape, data) { Bytes = bytes };
    }

    static float[] Transposed(float[] data, int rows, int cols)
    {
        // data holds a rows×cols C-order matrix (the Fortran layout of its cols×rows transpose).
        var result = new float[data.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) result[c * rows + r] = data[r * cols + c];
        return result;
    }

    static Span<byte> ReadMore(Stream stream, int n, string name)
    {
        var buffer = new byte[n];
        if (stream.ReadAtLeast(buffer, n, throwOnEndOfStream: false) < n) throw new EngineException($"{name}: truncated .npy data");
        return buffer;
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([<>|=]?[a-zA-Z]\d+)'")] private static partial Regex DescrPattern();
    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")] private static partial Regex FortranPattern();
    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")] private static partial Regex ShapePattern();
}
