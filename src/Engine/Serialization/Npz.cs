using Engine.Data;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using Engine.Kernels;
using Engine.Nn;

namespace Engine.Serialization;

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
/// NumPy .npy (format 1.0/2.0) and .npz (a zip of .npy members, stored or deflated) for float32 weights.
/// Reading accepts little- or big-endian floats, integers and bools in C or Fortran order and converts to float32 C order.
/// Interchange layout: layer i (1-based) is W{i} (fan_in, fan_out) and b{i} (fan_out), so z = x·W + b.
/// </summary>
internal static partial class Npz
{
    static ReadOnlySpan<byte> NpyMagic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    const long MaxElements = 1L << 28;

    /// <summary>The timestamp of every member: the zip epoch, 1980-01-01 00:00, not the clock.</summary>
    static readonly DateTimeOffset EntryTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Writes the arrays, in order, as stored (uncompressed) members. Every member carries the same fixed
    /// timestamp, so the same arrays give the same bytes on every run (the conformance vectors rely on it).
    /// </summary>
    public static void Write(string path, IEnumerable<(string Name, NpyArray Array)> arrays) => AtomicFile.Write(path, stream =>
    {
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var (name, array) in arrays)
        {
            var entry = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression);
            entry.LastWriteTime = EntryTime;
            using var s = entry.Open();
            WriteNpy(s, array);
        }
    });

    public static void WriteNpy(Stream stream, NpyArray array)
    {
        string shape = array.Shape.Length == 1 ? $"({array.Shape[0]},)" : $"({string.Join(", ", array.Shape)})";
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}";
        int total = NpyMagic.Length + 2 + 2 + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        string header = dict + new string(' ', padded - total) + "\n";
        stream.Write(NpyMagic);
        stream.Write([1, 0]);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        stream.Write(len);
        stream.Write(Encoding.ASCII.GetBytes(header));
        var bytes = new byte[array.Data.Length * 4];
        for (int i = 0; i < array.Data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), array.Data[i]);
        stream.Write(bytes);
    }

    public static Dictionary<string, NpyArray> Read(string path)
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
        if (stream.ReadAtLeast(pre, 8, throwOnEndOfStream: false) < 8 || !pre[..6].SequenceEqual(NpyMagic))
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

    /// <summary>W1, b1, … of a network in the interchange layout.</summary>
    public static IEnumerable<(string, NpyArray)> FromNetwork(Network network)
    {
        for (int l = 0; l < network.Layers.Count; l++)
        {
            var layer = network.Layers[l];
            yield return ($"W{l + 1}", new NpyArray([layer.FanIn, layer.FanOut], network.Parameters.AsSpan(layer.WeightOffset, layer.WeightCount).ToArray()));
            yield return ($"b{l + 1}", new NpyArray([layer.FanOut], network.Parameters.AsSpan(layer.BiasOffset, layer.FanOut).ToArray()));
        }
    }

    /// <summary>
    /// Builds a network from W1, b1, … W{n}, b{n}: the layer widths come from the shapes, which must chain
    /// (fan_out of layer i = fan_in of layer i+1).
    /// </summary>
    public static Network ToNetwork(Dictionary<string, NpyArray> arrays, Activation hiddenActivation, string name)
    {
        int layers = 0;
        while (arrays.ContainsKey($"W{layers + 1}")) layers++;
        if (layers == 0) throw new EngineException($"{name}: no W1 array (expected W1, b1, W2, b2, ...)");
        // A bias past the last weight means a missing weight: reading up to the gap would build a smaller network.
        foreach (string key in arrays.Keys)
            if (key.Length > 1 && key[0] is 'W' or 'b' && int.TryParse(key.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int k) && k > layers)
                throw new EngineException(key[0] == 'b' && k == layers + 1
                    ? $"{name}: {key} has no W{k} (the layers must be W1, b1, W2, b2, ... without gaps)"
                    : $"{name}: {key} but no W{layers + 1} (the layers must be W1, b1, W2, b2, ... without gaps)");
        var widths = new List<int>();
        for (int l = 1; l <= layers; l++)
        {
            var w = arrays[$"W{l}"];
            if (w.Shape.Length != 2) throw new EngineException($"{name}: W{l} has shape ({string.Join(",", w.Shape)}), expected (fan_in, fan_out)");
            if (!arrays.TryGetValue($"b{l}", out var b)) throw new EngineException($"{name}: W{l} has no b{l}");
            if (b.Shape.Length != 1 || b.Shape[0] != w.Shape[1])
                throw new EngineException($"{name}: b{l} has shape ({string.Join(",", b.Shape)}), expected ({w.Shape[1]},)");
            if (l == 1) widths.Add(w.Shape[0]);
            else if (w.Shape[0] != widths[^1])
                throw new EngineException($"{name}: W{l} has fan_in {w.Shape[0]} but layer {l - 1} has fan_out {widths[^1]}");
            widths.Add(w.Shape[1]);
            if (!AllFinite(w.Data)) throw new EngineException($"{name}: W{l} has a NaN or infinite value");
            if (!AllFinite(b.Data)) throw new EngineException($"{name}: b{l} has a NaN or infinite value");
        }
        Limits.CheckNetwork(widths[0], widths.Skip(1).Take(layers - 1).ToArray(), widths[^1], name);
        var network = new Network(widths[0], widths.Skip(1).Take(layers - 1).ToArray(), widths[^1], hiddenActivation);
        for (int l = 0; l < layers; l++)
        {
            var layer = network.Layers[l];
            arrays[$"W{l + 1}"].Data.CopyTo(network.Parameters.AsSpan(layer.WeightOffset, layer.WeightCount));
            arrays[$"b{l + 1}"].Data.CopyTo(network.Parameters.AsSpan(layer.BiasOffset, layer.FanOut));
        }
        return network;
    }

    static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
            if (!float.IsFinite(v)) return false;
        return true;
    }
}
