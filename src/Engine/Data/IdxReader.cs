using System.Buffers.Binary;
using System.IO.Compression;

namespace Engine.Data;

/// <summary>An IDX array: dimensions (outermost first) and its unsigned-byte elements.</summary>
internal sealed record IdxArray(int[] Dimensions, byte[] Data);

/// <summary>
/// Reads IDX files (LeCun's MNIST format), plain or gzip-compressed: magic 0x00 0x00 type rank, then
/// rank big-endian uint32 dimensions, then the elements. Only unsigned-byte elements (type 0x08) are
/// accepted. The header is checked against the bytes actually present before any large allocation:
/// a plain file's length must match exactly; a compressed file is read into a buffer that grows only
/// as real data arrives, so a lying header cannot make the reader allocate what is not there.
/// </summary>
internal static class IdxReader
{
    const byte UnsignedByte = 0x08;
    const int MaxRank = 4;

    /// <param name="checkHeader">Sees the dimensions before any data is read and returns why they are refused, or null;
    /// so a header that disagrees with what is already known (the labels' count) costs no read of its data.</param>
    public static IdxArray Read(string path, Func<int[], string?>? checkHeader = null)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            bool gzip = IsGzip(file);
            using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
            return Read(stream, path, gzip ? null : file.Length, checkHeader);
        }
        catch (FileNotFoundException) { throw new EngineException($"{path}: file not found"); }
        catch (DirectoryNotFoundException) { throw new EngineException($"{path}: directory not found"); }
        catch (UnauthorizedAccessException) { throw new EngineException($"{path}: permission denied"); }
        catch (InvalidDataException e) { throw new EngineException($"{path}: corrupt gzip data ({e.Message})"); }
        catch (IOException e) when (e is not EndOfStreamException) { throw new EngineException($"{path}: {e.Message}"); }
    }

    static bool IsGzip(FileStream file)
    {
        Span<byte> magic = stackalloc byte[2];
        int n = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return n == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
    }

    /// <param name="length">Total length of the (uncompressed) stream when known.</param>
    public static IdxArray Read(Stream stream, string name, long? length, Func<int[], string?>? checkHeader = null)
    {
        Span<byte> head = stackalloc byte[4];
        if (stream.ReadAtLeast(head, 4, throwOnEndOfStream: false) < 4)
            throw new EngineException($"{name}: too short to be an IDX file");
        if (head[0] != 0 || head[1] != 0)
            throw new EngineException($"{name}: not an IDX file (magic bytes {head[0]:X2} {head[1]:X2}, expected 00 00)");
        if (head[2] != UnsignedByte)
            throw new EngineException($"{name}: IDX element type 0x{head[2]:X2} is not supported (only unsigned bytes, 0x08)");
        int rank = head[3];
        if (rank < 1 || rank > MaxRank)
            throw new EngineException($"{name}: IDX rank {rank} is not supported (1 to {MaxRank})");

        Span<byte> dimBytes = stackalloc byte[4 * rank];
        if (stream.ReadAtLeast(dimBytes, dimBytes.Length, throwOnEndOfStream: false) < dimBytes.Length)
            throw new EngineException($"{name}: truncated IDX header");
        var dims = new int[rank];
        long elements = 1;
        for (int i = 0; i < rank; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(dimBytes.Slice(4 * i));
            if (d > int.MaxValue) throw new EngineException($"{name}: IDX dimension {i} is {d}, too large");
            dims[i] = (int)d;
            elements *= d;
            if (elements > Array.MaxLength)
                throw new EngineException($"{name}: IDX header claims {string.Join("x", dims.Take(i + 1))}... elements, more than the engine can hold");
        }
        string shape = string.Join("x", dims);
        if (checkHeader?.Invoke(dims) is string refused) throw new EngineException($"{name}: {refused}");
        long headerLength = 4 + 4L * rank;
        if (length is long total && total - headerLength != elements)
            throw new EngineException($"{name}: IDX header says {shape} = {elements} bytes of data, the file holds {total - headerLength}");

        // A regular file's size was just checked against the header: read into one buffer of that size. A stream of
        // unknown length (gzip) grows its buffer only as data arrives.
        byte[] data = length is null ? BoundedRead.UpTo(stream, (int)elements) : BoundedRead.Backed(stream, (int)elements);
        if (data.Length < elements)
            throw new EngineException($"{name}: truncated: IDX header says {shape} = {elements} bytes of data, the file holds {data.Length}");
        if (stream.ReadByte() >= 0)
            throw new EngineException($"{name}: IDX header says {shape} = {elements} bytes of data, the file holds more");
        return new IdxArray(dims, data);
    }
}
