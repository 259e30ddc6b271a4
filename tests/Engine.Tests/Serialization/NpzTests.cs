using Engine.Data;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Engine.Kernels;
using Engine.Nn;
using Engine.Serialization;
using Engine.Tests.Data;

namespace Engine.Tests.Serialization;

public sealed class NpzTests : IDisposable
{
    readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    static string FixturePath => Path.Combine(AppContext.BaseDirectory, "Fixtures", "numpy-weights.npz");

    static void AssertBitsEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"element {i}: expected {expected[i]:R}, got {actual[i]:R}");
    }

    static NpyArray Array2(int rows, int cols, Func<int, int, float> value)
    {
        var data = new float[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) data[r * cols + c] = value(r, c);
        return new NpyArray([rows, cols], data);
    }

    static NpyArray Vector(int n, Func<int, float> value) => new([n], Enumerable.Range(0, n).Select(value).ToArray());

    // ---- Write / Read ---------------------------------------------------------------------------

    [Fact]
    public void Write_then_read_round_trips_shapes_and_values()
    {
        var matrix = Array2(2, 3, (r, c) => r * 10 + c + 0.5f);
        var vector = Vector(4, i => -i * 1.25f);
        var single = new NpyArray([1, 1], [float.Epsilon]);
        var odd = new NpyArray([3], [-0f, float.MaxValue, float.MinValue]);
        string path = _dir.File("arrays.npz");

        Npz.Write(path, [("matrix", matrix), ("vector", vector), ("single", single), ("odd", odd)]);
        var read = NpyReader.ReadNpz(path);

        Assert.Equal(["matrix", "odd", "single", "vector"], read.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, expected) in new[] { ("matrix", matrix), ("vector", vector), ("single", single), ("odd", odd) })
        {
            Assert.Equal(expected.Shape, read[name].Shape);
            AssertBitsEqual(expected.Data, read[name].Data);
        }
        Assert.Equal(["arrays.npz"], _dir.FileNames());
    }

    [Fact]
    public void Written_members_are_standard_npy_version_1_with_aligned_headers()
    {
        string path = _dir.File("one.npz");
        Npz.Write(path, [("W1", Array2(3, 2, (r, c) => r - c))]);

        using var zip = ZipFile.OpenRead(path);
        var entry = Assert.Single(zip.Entries);
        Assert.Equal("W1.npy", entry.FullName);
        using var s = entry.Open();
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        byte[] b = ms.ToArray();
        Assert.Equal(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }, b[..8]);
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(8));
        Assert.Equal(0, (10 + headerLength) % 64);
        string header = Encoding.ASCII.GetString(b, 10, headerLength);
        Assert.Contains("'descr': '<f4'", header);
        Assert.Contains("'fortran_order': False", header);
        Assert.Contains("'shape': (3, 2)", header);
        Assert.EndsWith("\n", header);
        Assert.Equal(10 + headerLength + 6 * 4, b.Length);
    }

    [Fact]
    public void A_network_round_trips_through_an_npz_file()
    {
        var network = ModelFileTests.RandomNetwork(4, [5, 3], 2, Activation.Sigmoid, 7);
        string path = _dir.File("weights.npz");

        Npz.Write(path, Npz.FromNetwork(network));
        var arrays = NpyReader.ReadNpz(path);
        var back = Npz.ToNetwork(arrays, Activation.Sigmoid, path);

        Assert.Equal(["W1", "W2", "W3", "b1", "b2", "b3"], arrays.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([4, 5], arrays["W1"].Shape);
        Assert.Equal([5], arrays["b1"].Shape);
        Assert.Equal([3, 2], arrays["W3"].Shape);
        Assert.Equal(network.Widths, back.Widths);
        Assert.Equal(Activation.Sigmoid, back.HiddenActivation);
        AssertBitsEqual(network.Parameters, back.Parameters);
    }

    [Fact]
    public void FromNetwork_uses_the_interchange_layout()
    {
        var network = ModelFileTests.RandomNetwork(3, [2], 2, Activation.Tanh, 8);
        var arrays = Npz.FromNetwork(network).ToDictionary(a => a.Item1, a => a.Item2);
        var l1 = network.Layers[0];

        Assert.Equal([3, 2], arrays["W1"].Shape);
        AssertBitsEqual(network.Parameters.AsSpan(l1.WeightOffset, 6), arrays["W1"].Data);
        AssertBitsEqual(network.Parameters.AsSpan(l1.BiasOffset, 2), arrays["b1"].Data);
        var back = Npz.ToNetwork(arrays, Activation.Relu, "mem");
        Assert.Equal(Activation.Relu, back.HiddenActivation);
        AssertBitsEqual(network.Parameters, back.Parameters);
    }

    [Fact]
    public void Shapes_that_do_not_chain_are_rejected()
    {
        var arrays = new Dictionary<string, NpyArray>
        {
            ["W1"] = Array2(3, 4, (r, c) => 0),
            ["b1"] = Vector(4, i => 0),
            ["W2"] = Array2(5, 2, (r, c) => 0),
            ["b2"] = Vector(2, i => 0),
        };
        var e = Assert.Throws<EngineException>(() => Npz.ToNetwork(arrays, Activation.Tanh, "bad.npz"));
        Assert.StartsWith("bad.npz", e.Message);
        Assert.Contains("W2", e.Message);
        Assert.Contains("5", e.Message);
        Assert.Contains("4", e.Message);
    }

    [Fact]
    public void A_bias_of_the_wrong_length_is_rejected()
    {
        var arrays = new Dictionary<string, NpyArray>
        {
            ["W1"] = Array2(3, 4, (r, c) => 0),
            ["b1"] = Vector(3, i => 0),
        };
        var e = Assert.Throws<EngineException>(() => Npz.ToNetwork(arrays, Activation.Tanh, "bad.npz"));
        Assert.Contains("b1", e.Message);
    }

    [Fact]
    public void A_missing_bias_is_rejected()
    {
        var arrays = new Dictionary<string, NpyArray>
        {
            ["W1"] = Array2(3, 4, (r, c) => 0),
            ["b1"] = Vector(4, i => 0),
            ["W2"] = Array2(4, 2, (r, c) => 0),
        };
        var e = Assert.Throws<EngineException>(() => Npz.ToNetwork(arrays, Activation.Tanh, "bad.npz"));
        Assert.Contains("b2", e.Message);
    }

    [Fact]
    public void Missing_W1_and_non_matrix_weights_are_rejected()
    {
        var none = new Dictionary<string, NpyArray> { ["b1"] = Vector(2, i => 0) };
        Assert.Contains("W1", Assert.Throws<EngineException>(() => Npz.ToNetwork(none, Activation.Tanh, "x.npz")).Message);

        var vectorW = new Dictionary<string, NpyArray> { ["W1"] = Vector(4, i => 0), ["b1"] = Vector(4, i => 0) };
        Assert.Contains("W1", Assert.Throws<EngineException>(() => Npz.ToNetwork(vectorW, Activation.Tanh, "x.npz")).Message);

        var oneClass = new Dictionary<string, NpyArray> { ["W1"] = Array2(3, 1, (r, c) => 0), ["b1"] = Vector(1, i => 0) };
        Assert.Throws<EngineException>(() => Npz.ToNetwork(oneClass, Activation.Tanh, "x.npz"));
    }

    [Fact]
    public void Files_that_are_not_npz_are_engine_errors()
    {
        string missing = _dir.File("missing.npz");
        Assert.Contains(missing, Assert.Throws<EngineException>(() => NpyReader.ReadNpz(missing)).Message);

        string text = _dir.WriteText("text.npz", "this is not a zip file");
        Assert.Contains(text, Assert.Throws<EngineException>(() => NpyReader.ReadNpz(text)).Message);
    }

    // ---- .npy members written by hand -----------------------------------------------------------

    static byte[] Npy(string dict, byte[] data, byte major = 1)
    {
        int prefix = major == 1 ? 10 : 12;
        int total = prefix + dict.Length + 1;
        string header = dict + new string(' ', (total + 63) / 64 * 64 - total) + "\n";
        using var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', major, 0]);
        if (major == 1) ms.Write(BitConverter.GetBytes((ushort)header.Length));
        else ms.Write(BitConverter.GetBytes((uint)header.Length));
        ms.Write(Encoding.ASCII.GetBytes(header));
        ms.Write(data);
        return ms.ToArray();
    }

    static NpyArray ReadNpy(byte[] bytes) => NpyReader.ReadNpy(new MemoryStream(bytes), "member.npy", bytes.Length);

    [Fact]
    public void Reads_big_endian_float64_fortran_order_and_version_2_members()
    {
        // (2, 3) matrix m[r, c] = r * 3 + c, stored in Fortran (column-major) order as big-endian doubles.
        var data = new byte[6 * 8];
        int k = 0;
        for (int c = 0; c < 3; c++)
            for (int r = 0; r < 2; r++) BinaryPrimitives.WriteDoubleBigEndian(data.AsSpan(8 * k++), r * 3 + c);
        var array = ReadNpy(Npy("{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }", data, major: 2));

        Assert.Equal([2, 3], array.Shape);
        Assert.Equal([0f, 1f, 2f, 3f, 4f, 5f], array.Data);
    }

    [Theory]
    [InlineData("<c8")]
    [InlineData("<U4")]
    [InlineData("|S3")]
    public void Unsupported_dtypes_are_rejected(string dtype)
    {
        var e = Assert.Throws<EngineException>(() => ReadNpy(Npy($"{{'descr': '{dtype}', 'fortran_order': False, 'shape': (2,), }}", new byte[8])));
        Assert.Contains(dtype, e.Message);
    }

    [Fact]
    public void Npy_members_whose_header_disagrees_with_their_length_are_rejected()
    {
        byte[] bytes = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (60000, 784), }", new byte[16]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<EngineException>(() => ReadNpy(bytes));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8 << 20);
        Assert.Contains("60000x784", e.Message);

        Assert.Throws<EngineException>(() => ReadNpy(bytes[..20]));
        Assert.Throws<EngineException>(() => ReadNpy([.. "not numpy"u8]));
        Assert.Throws<EngineException>(() => ReadNpy(Npy("{'descr': '<f4', 'shape': (2,), }", new byte[8])));
        Assert.Throws<EngineException>(() => ReadNpy(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", new byte[8])));
        Assert.Throws<EngineException>(() => ReadNpy(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536), }", new byte[8])));
    }

    [Theory]
    [InlineData(0x8000_0000u)]
    [InlineData(0xFFFF_FFFFu)]
    [InlineData(0x0001_0001u)]
    public void A_version_2_header_length_that_is_too_large_is_an_engine_error(uint headerLength)
    {
        var bytes = new byte[64];
        new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 2, 0 }.CopyTo(bytes, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), headerLength);
        var e = Record.Exception(() => ReadNpy(bytes));
        Assert.True(e is EngineException, $"expected EngineException, got {e?.GetType().FullName ?? "none"}: {e?.Message}");
    }

    /// <summary>
    /// An .npz whose single member W1.npy holds a tiny array, but whose zip directory and .npy header both claim
    /// <paramref name="rows"/>×<paramref name="cols"/> <paramref name="dtype"/> elements.
    /// </summary>
    static byte[] LyingNpz(string dtype, int rows, int cols, int itemSize)
    {
        byte[] npy = Npy($"{{'descr': '{dtype}', 'fortran_order': False, 'shape': ({rows}, {cols}), }}", new byte[64]);
        int headerBytes = npy.Length - 64;
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            var entry = zip.CreateEntry("W1.npy", CompressionLevel.Optimal);
            using var s = entry.Open();
            s.Write(npy);
        }
        byte[] bytes = ms.ToArray();
        uint claimed = checked((uint)(headerBytes + (long)rows * cols * itemSize));
        // Patch the uncompressed size in the local file header (offset 22) and the central directory entry (offset 24).
        int local = 0;
        Assert.Equal(0x04034b50u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(local)));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(local + 22), claimed);
        int central = bytes.AsSpan().IndexOf(new byte[] { 0x50, 0x4b, 0x01, 0x02 });
        Assert.True(central > 0);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(central + 24), claimed);
        return bytes;
    }

    [Theory]
    [InlineData("<f4", 60000, 784, 4)]     // 188 MB claimed, 64 bytes present
    [InlineData("<f8", 16384, 16384, 8)]   // 2^28 float64 = 2 GiB claimed
    public void A_member_whose_zip_size_and_header_lie_fails_without_allocating_the_claim(string dtype, int rows, int cols, int itemSize)
    {
        string path = _dir.Write("lying.npz", LyingNpz(dtype, rows, cols, itemSize));

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Record.Exception(() => NpyReader.ReadNpz(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(e is EngineException, $"expected EngineException, got {e?.GetType().FullName ?? "none"}: {e?.Message}");
        Assert.Contains(path, e!.Message);
        Assert.True(allocated < 64L << 20, $"reading a lying .npz allocated {allocated:N0} bytes");
    }

    // ---- a file written by NumPy (tools/make-npz-fixture.py) --------------------------------------

    static float W1(int i, int j) => (i * 4 + j) * 0.25f - 1.5f;
    static float B1(int j) => (float)(j * 0.1 - 0.05);
    static float W2(int i, int j) => (i * 2 + j + 1f) / 8f;
    static float B2(int j) => j - 0.5f;

    [Fact]
    public void Reads_the_numpy_fixture_with_c_and_fortran_order_and_float64()
    {
        Assert.True(File.Exists(FixturePath), $"{FixturePath} is missing (Fixtures/** should be copied to the output directory)");
        var arrays = NpyReader.ReadNpz(FixturePath);

        Assert.Equal(["W1", "W2", "b1", "b2"], arrays.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([3, 4], arrays["W1"].Shape);
        Assert.Equal([4], arrays["b1"].Shape);
        Assert.Equal([4, 2], arrays["W2"].Shape);
        Assert.Equal([2], arrays["b2"].Shape);

        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++) Assert.Equal(W1(i, j), arrays["W1"].Data[i * 4 + j]);
        for (int j = 0; j < 4; j++) Assert.Equal(B1(j), arrays["b1"].Data[j]);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 2; j++) Assert.Equal(W2(i, j), arrays["W2"].Data[i * 2 + j]);
        for (int j = 0; j < 2; j++) Assert.Equal(B2(j), arrays["b2"].Data[j]);
    }

    [Fact]
    public void The_numpy_fixture_becomes_a_3_4_2_network()
    {
        var network = Npz.ToNetwork(NpyReader.ReadNpz(FixturePath), Activation.Tanh, FixturePath);

        Assert.Equal([3, 4, 2], network.Widths);
        var l1 = network.Layers[0];
        var l2 = network.Layers[1];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++) Assert.Equal(W1(i, j), network.Parameters[l1.WeightOffset + i * 4 + j]);
        for (int j = 0; j < 4; j++) Assert.Equal(B1(j), network.Parameters[l1.BiasOffset + j]);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 2; j++) Assert.Equal(W2(i, j), network.Parameters[l2.WeightOffset + i * 2 + j]);
        for (int j = 0; j < 2; j++) Assert.Equal(B2(j), network.Parameters[l2.BiasOffset + j]);
    }
}
