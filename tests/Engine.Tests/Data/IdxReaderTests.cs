using System.Buffers.Binary;
using System.IO.Compression;
using Engine.Data;

namespace Engine.Tests.Data;

/// <summary>Builds IDX files byte by byte, including ones that lie.</summary>
internal static class IdxFiles
{
    /// <summary>Magic 00 00 type rank, big-endian dimensions, then <paramref name="data"/> as given.</summary>
    public static byte[] Build(uint[] dims, byte[] data, byte type = 0x08, byte magic0 = 0, byte magic1 = 0)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[0] = magic0;
        bytes[1] = magic1;
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    public static byte[] Images(int count, int rows, int cols, Func<int, byte>? pixel = null)
    {
        var data = new byte[count * rows * cols];
        for (int i = 0; i < data.Length; i++) data[i] = pixel is null ? (byte)(i * 7 % 256) : pixel(i);
        return Build([(uint)count, (uint)rows, (uint)cols], data);
    }

    public static byte[] Labels(params byte[] labels) => Build([(uint)labels.Length], labels);

    public static byte[] Gzip(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var gz = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(content);
        return buffer.ToArray();
    }

    public static byte[] Sequence(int n) => Enumerable.Range(0, n).Select(i => (byte)(i % 251)).ToArray();
}

public sealed class IdxReaderTests : IDisposable
{
    readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    EngineException ReadFails(string name, byte[] content)
    {
        string path = _dir.Write(name, content);
        var e = Assert.Throws<EngineException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    [Fact]
    public void Reads_a_plain_rank3_file()
    {
        byte[] data = IdxFiles.Sequence(3 * 2 * 4);
        string path = _dir.Write("images", IdxFiles.Build([3, 2, 4], data));

        var array = IdxReader.Read(path);

        Assert.Equal([3, 2, 4], array.Dimensions);
        Assert.Equal(data, array.Data);
    }

    [Fact]
    public void Reads_a_gzip_file_the_same_as_the_plain_one()
    {
        byte[] data = IdxFiles.Sequence(5 * 3 * 3);
        byte[] plain = IdxFiles.Build([5, 3, 3], data);
        string plainPath = _dir.Write("images", plain);
        string gzPath = _dir.Write("images.gz", IdxFiles.Gzip(plain));

        var fromPlain = IdxReader.Read(plainPath);
        var fromGz = IdxReader.Read(gzPath);

        Assert.Equal([5, 3, 3], fromGz.Dimensions);
        Assert.Equal(data, fromGz.Data);
        Assert.Equal(fromPlain.Dimensions, fromGz.Dimensions);
        Assert.Equal(fromPlain.Data, fromGz.Data);
    }

    [Fact]
    public void Reads_a_gzip_file_larger_than_the_initial_buffer()
    {
        // 3 MiB of data makes the growing buffer double past its 1 MiB start.
        byte[] data = IdxFiles.Sequence(3 << 20);
        string path = _dir.Write("big.gz", IdxFiles.Gzip(IdxFiles.Build([3, 1024, 1024], data)));

        var array = IdxReader.Read(path);

        Assert.Equal([3, 1024, 1024], array.Dimensions);
        Assert.Equal(data, array.Data);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Reads_every_supported_rank(int rank)
    {
        uint[] dims = Enumerable.Range(0, rank).Select(i => (uint)(i + 2)).ToArray();
        int n = dims.Aggregate(1, (a, d) => a * (int)d);
        byte[] data = IdxFiles.Sequence(n);
        string path = _dir.Write("rank" + rank, IdxFiles.Build(dims, data));

        var array = IdxReader.Read(path);

        Assert.Equal(dims.Select(d => (int)d).ToArray(), array.Dimensions);
        Assert.Equal(data, array.Data);
    }

    [Fact]
    public void Reads_a_file_with_zero_elements()
    {
        string path = _dir.Write("empty-labels", IdxFiles.Build([0], []));
        var array = IdxReader.Read(path);
        Assert.Equal([0], array.Dimensions);
        Assert.Empty(array.Data);
    }

    [Theory]
    [InlineData(0x01, 0x00)]
    [InlineData(0x00, 0x01)]
    [InlineData(0x50, 0x4B)] // a zip file
    public void Bad_magic_is_rejected(byte m0, byte m1)
    {
        var e = ReadFails("bad-magic", IdxFiles.Build([2], [1, 2], magic0: m0, magic1: m1));
        Assert.Contains("not an IDX file", e.Message);
    }

    [Theory]
    [InlineData(0x09)] // signed byte
    [InlineData(0x0B)] // short
    [InlineData(0x0C)] // int
    [InlineData(0x0D)] // float
    [InlineData(0x0E)] // double
    [InlineData(0x00)]
    public void Unsupported_element_types_are_rejected(byte type)
    {
        var e = ReadFails("typed", IdxFiles.Build([2], new byte[2 * 8], type: type));
        Assert.Contains($"0x{type:X2}", e.Message);
        Assert.Contains("not supported", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(255)]
    public void Unsupported_ranks_are_rejected(int rank)
    {
        var bytes = new byte[4 + 4 * rank + 16];
        bytes[2] = 0x08;
        bytes[3] = (byte)rank;
        for (int i = 0; i < rank; i++) BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4 + 4 * i), 1);
        var e = ReadFails("rank" + rank, bytes);
        Assert.Contains($"rank {rank}", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void Files_shorter_than_the_magic_are_rejected(int length)
    {
        var e = ReadFails("short", new byte[length]);
        Assert.Contains("too short", e.Message);
    }

    [Theory]
    [InlineData(4)]  // magic only
    [InlineData(7)]  // first dimension cut
    [InlineData(12)] // two of three dimensions
    [InlineData(15)]
    public void Truncated_headers_are_rejected(int keep)
    {
        byte[] full = IdxFiles.Images(2, 2, 2);
        var e = ReadFails("truncated-header", full[..keep]);
        Assert.Contains("truncated IDX header", e.Message);
    }

    [Fact]
    public void Truncated_header_in_a_gzip_file_is_rejected()
    {
        byte[] full = IdxFiles.Images(2, 2, 2);
        var e = ReadFails("truncated-header.gz", IdxFiles.Gzip(full[..10]));
        Assert.Contains("truncated IDX header", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_lying_header_names_the_file_and_claimed_shape_without_allocating_it(bool gzip)
    {
        // Claims 60000 28x28 images (47,040,000 bytes); 10 bytes are present.
        byte[] content = IdxFiles.Build([60000, 28, 28], IdxFiles.Sequence(10));
        string path = _dir.Write(gzip ? "train-images-idx3-ubyte.gz" : "train-images-idx3-ubyte", gzip ? IdxFiles.Gzip(content) : content);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<EngineException>(() => IdxReader.Read(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains(path, e.Message);
        Assert.Contains("60000x28x28", e.Message);
        Assert.Contains("47040000", e.Message);
        Assert.True(allocated < 8L << 20, $"reading a lying header allocated {allocated:N0} bytes");
    }

    [Theory]
    [InlineData(false, 0x7FFF_FFC0u)] // just under Array.MaxLength: must fail on the length, not allocate
    [InlineData(true, 0x7FFF_FFC0u)]
    [InlineData(false, 0x8000_0000u)] // 2^31
    [InlineData(true, 0x8000_0000u)]
    [InlineData(false, 0xFFFF_FFFFu)]
    [InlineData(true, 0xFFFF_FFFFu)]
    public void A_header_claiming_about_two_to_the_31_elements_fails_without_allocating(bool gzip, uint count)
    {
        byte[] content = IdxFiles.Build([count], IdxFiles.Sequence(10));
        string path = _dir.Write(gzip ? "huge.gz" : "huge", gzip ? IdxFiles.Gzip(content) : content);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<EngineException>(() => IdxReader.Read(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains(path, e.Message);
        Assert.Contains(count.ToString(), e.Message);
        Assert.True(allocated < 8L << 20, $"reading a lying header allocated {allocated:N0} bytes");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_multi_dimensional_claim_above_the_array_limit_names_the_shape(bool gzip)
    {
        // 65536 x 32768 = 2^31 elements: more than any array can hold.
        byte[] content = IdxFiles.Build([65536, 32768, 1], IdxFiles.Sequence(10));
        string path = _dir.Write(gzip ? "wide.gz" : "wide", gzip ? IdxFiles.Gzip(content) : content);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<EngineException>(() => IdxReader.Read(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains(path, e.Message);
        Assert.Contains("65536x32768", e.Message);
        Assert.True(allocated < 8L << 20, $"reading a lying header allocated {allocated:N0} bytes");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_header_claiming_slightly_more_than_present_is_rejected(bool gzip)
    {
        byte[] content = IdxFiles.Build([4, 2, 2], IdxFiles.Sequence(15));
        string path = _dir.Write(gzip ? "short.gz" : "short", gzip ? IdxFiles.Gzip(content) : content);
        var e = Assert.Throws<EngineException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("4x2x2", e.Message);
        Assert.Contains("15", e.Message);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 100)]
    [InlineData(true, 1)]
    [InlineData(true, 100)]
    public void Extra_trailing_bytes_are_rejected(bool gzip, int extra)
    {
        byte[] content = IdxFiles.Build([2, 2, 2], IdxFiles.Sequence(8 + extra));
        string path = _dir.Write(gzip ? "long.gz" : "long", gzip ? IdxFiles.Gzip(content) : content);
        var e = Assert.Throws<EngineException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("2x2x2", e.Message);
    }

    [Fact]
    public void A_corrupt_gzip_body_is_rejected()
    {
        // A gzip header followed by a deflate block of the invalid type 3.
        byte[] content = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        var e = ReadFails("corrupt.gz", content);
        Assert.Contains("gzip", e.Message);
    }

    [Fact]
    public void A_gzip_file_with_a_damaged_checksum_is_rejected()
    {
        byte[] gz = IdxFiles.Gzip(IdxFiles.Images(4, 3, 3));
        gz[^6] ^= 0x5A; // inside the CRC-32 trailer
        ReadFails("bad-crc.gz", gz);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void A_cut_gzip_file_is_rejected(double keep)
    {
        byte[] gz = IdxFiles.Gzip(IdxFiles.Images(20, 8, 8, i => (byte)(i * 31 % 256)));
        ReadFails("cut.gz", gz[..(int)(gz.Length * keep)]);
    }

    [Fact]
    public void A_missing_file_is_reported_by_name()
    {
        string path = _dir.File("no-such-file");
        var e = Assert.Throws<EngineException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not found", e.Message);
    }

    [Fact]
    public void A_file_in_a_missing_directory_is_reported_by_name()
    {
        string path = Path.Combine(_dir.Path, "no-such-dir", "file");
        var e = Assert.Throws<EngineException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void The_bundled_data_loads_with_its_documented_shape()
    {
        var loaded = DataSource.Load(RepoPaths.BundledData);

        Assert.NotNull(loaded.Test);
        var train = loaded.Train;
        var test = loaded.Test!;
        Assert.Equal(8000, train.Count);
        Assert.Equal(2000, test.Count);
        Assert.Equal(784, train.Width);
        Assert.Equal(784, test.Width);
        foreach (var part in new[] { train, test })
        {
            Assert.NotNull(part.Labels);
            Assert.Equal(part.Count, part.Labels!.Length);
            Assert.All(part.Labels, y => Assert.InRange(y, 0, 9));
            Assert.Equal(Enumerable.Range(0, 10), part.Labels.Distinct().Order());
            Assert.Equal(10, part.ClassCountFromLabels());
            float max = float.MinValue, min = float.MaxValue;
            bool integral = true;
            foreach (float v in part.Features)
            {
                max = MathF.Max(max, v);
                min = MathF.Min(min, v);
                integral &= MathF.Round(v) == v;
            }
            Assert.Equal(255f, max);
            Assert.Equal(0f, min);
            Assert.True(integral, "IDX bytes load as whole numbers");
        }
    }
}
