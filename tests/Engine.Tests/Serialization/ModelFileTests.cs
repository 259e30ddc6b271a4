using System.IO.Hashing;
using System.Buffers.Binary;
using Engine.Data;
using Engine.Kernels;
using Engine.Nn;
using Engine.Serialization;
using Engine.Tests.Data;

namespace Engine.Tests.Serialization;

public sealed class ModelFileTests : IDisposable
{
    readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A network with every parameter set (biases too) from a fixed seed, plus awkward values.</summary>
    internal static Network RandomNetwork(int input, int[] hidden, int classes, Activation activation, int seed)
    {
        var network = new Network(input, hidden, classes, activation);
        var rng = new Random(seed);
        for (int i = 0; i < network.Parameters.Length; i++) network.Parameters[i] = (float)(rng.NextDouble() * 4 - 2);
        network.Parameters[0] = -0f;
        network.Parameters[^1] = float.Epsilon;
        if (network.Parameters.Length > 2) network.Parameters[1] = 1e-30f;
        return network;
    }

    static Model DivideModel() => new(RandomNetwork(5, [4, 3], 3, Activation.Tanh, 1), InputScaling.Divide(255f));

    static Model StandardizeModel()
    {
        var mean = new float[] { 0.5f, -1.25f, 100f, 0f };
        var std = new float[] { 1f, 0.125f, 3.5f, 1e-6f };
        return new Model(RandomNetwork(4, [6], 2, Activation.Relu, 2), InputScaling.Standardize(mean, std));
    }

    static byte[] Bytes(Model model)
    {
        using var stream = new MemoryStream();
        ModelFile.Write(stream, model);
        return stream.ToArray();
    }

    static void AssertSameModel(Model expected, Model actual)
    {
        Assert.Equal(expected.Network.Widths, actual.Network.Widths);
        Assert.Equal(expected.Network.InputWidth, actual.Network.InputWidth);
        Assert.Equal(expected.Network.HiddenWidths, actual.Network.HiddenWidths);
        Assert.Equal(expected.Network.ClassCount, actual.Network.ClassCount);
        Assert.Equal(expected.Network.HiddenActivation, actual.Network.HiddenActivation);
        Assert.Equal(expected.Network.Parameters.Length, actual.Network.Parameters.Length);
        for (int i = 0; i < expected.Network.Parameters.Length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(expected.Network.Parameters[i]), BitConverter.SingleToInt32Bits(actual.Network.Parameters[i]));

        Assert.Equal(expected.Scaling.Mode, actual.Scaling.Mode);
        Assert.Equal(BitConverter.SingleToInt32Bits(expected.Scaling.Divisor), BitConverter.SingleToInt32Bits(actual.Scaling.Divisor));
        Assert.Equal(expected.Scaling.Mean, actual.Scaling.Mean);
        Assert.Equal(expected.Scaling.Std, actual.Scaling.Std);
    }

    EngineException ReadFails(byte[] bytes, string name = "model.bin")
    {
        var e = Assert.Throws<EngineException>(() => ModelFile.Read(bytes, name));
        Assert.StartsWith(name, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    // ---- round trips ----------------------------------------------------------------------------

    [Fact]
    public void Round_trips_a_model_with_divide_scaling()
    {
        var model = DivideModel();
        string path = _dir.File("divide.model");

        ModelFile.Save(path, model);
        var loaded = ModelFile.Load(path);

        AssertSameModel(model, loaded);
        Assert.Equal(255f, loaded.Scaling.Divisor);
        Assert.Equal(["divide.model"], _dir.FileNames());
    }

    [Fact]
    public void Round_trips_a_model_with_standardize_scaling()
    {
        var model = StandardizeModel();
        string path = _dir.File("standardize.model");

        ModelFile.Save(path, model);
        var loaded = ModelFile.Load(path);

        AssertSameModel(model, loaded);
        Assert.Equal(InputScaling.Kind.Standardize, loaded.Scaling.Mode);
        Assert.Equal(4, loaded.Scaling.Width);
    }

    [Theory]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.Sigmoid)]
    public void Round_trips_every_activation_and_no_hidden_layer(Activation activation)
    {
        var model = new Model(RandomNetwork(3, [], 2, activation, 3), InputScaling.Divide(16f));
        var loaded = ModelFile.Read(Bytes(model), "m");
        AssertSameModel(model, loaded);

        var deep = new Model(RandomNetwork(2, [3, 1, 4, 2], 5, activation, 4), InputScaling.Divide(1f));
        AssertSameModel(deep, ModelFile.Read(Bytes(deep), "deep"));
    }

    [Fact]
    public void The_file_layout_matches_the_documented_format()
    {
        var model = DivideModel(); // 5-4-3-3
        byte[] b = Bytes(model);
        Assert.Equal("ENGNMODL"u8.ToArray(), b[..8]);
        Assert.Equal(ModelFile.Version, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(8)));
        Assert.Equal((byte)Activation.Tanh, b[12]);
        Assert.Equal(5u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(16)));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(20)));
        Assert.Equal(4u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(24)));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(28)));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(32)));
        Assert.Equal(1, b[36]);
        Assert.Equal(255f, BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan(40)));
        Assert.Equal((ulong)model.Network.Parameters.Length, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(44)));
        int end = 52 + 4 * model.Network.Parameters.Length;
        Assert.Equal(end + 16, b.Length);
        Assert.Equal(XxHash64.HashToUInt64(b.AsSpan(0, 52)), BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(end)));
        Assert.Equal(XxHash64.HashToUInt64(b.AsSpan(52, end - 52)), BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(end + 8)));
    }

    [Fact]
    public void Any_flipped_bit_in_a_valid_looking_header_or_the_parameters_is_caught_by_a_checksum()
    {
        var model = DivideModel();
        byte[] good = Bytes(model);
        int end = good.Length - 16;
        BinaryPrimitives.WriteSingleLittleEndian(good.AsSpan(40), 254f); // an in-range divisor: only the checksum can tell
        Assert.Contains("header checksum", ReadFails(good).Message);
        good = Bytes(model);
        for (int i = 52; i < end; i++)
        {
            byte[] b = (byte[])good.Clone();
            b[i] ^= (byte)(1 << (i % 8));
            Assert.Contains("parameter checksum", ReadFails(b).Message);
        }
        good[^1] ^= 0x80;
        Assert.Contains("parameter checksum", ReadFails(good).Message);
    }

    [Fact]
    public void Version_1_files_without_checksums_still_load()
    {
        var model = StandardizeModel();
        byte[] v1 = Bytes(model)[..^16];
        BinaryPrimitives.WriteUInt32LittleEndian(v1.AsSpan(8), 1);
        AssertSameModel(model, ModelFile.Read(v1, "old.model"));
    }

    // ---- truncation and corruption --------------------------------------------------------------

    [Fact]
    public void Every_truncation_of_a_divide_model_is_an_engine_error()
    {
        byte[] full = Bytes(DivideModel());
        for (int length = 0; length < full.Length; length++)
        {
            int n = length;
            var e = Record.Exception(() => ModelFile.Read(full.AsSpan(0, n), "cut.model"));
            Assert.True(e is EngineException, $"length {n}: {e?.GetType().Name ?? "no exception"}: {e?.Message}");
            Assert.StartsWith("cut.model", e!.Message);
        }
    }

    [Fact]
    public void Every_truncation_of_a_standardize_model_is_an_engine_error()
    {
        byte[] full = Bytes(StandardizeModel());
        for (int length = 0; length < full.Length; length++)
        {
            int n = length;
            var e = Record.Exception(() => ModelFile.Read(full.AsSpan(0, n), "cut.model"));
            Assert.True(e is EngineException, $"length {n}: {e?.GetType().Name ?? "no exception"}: {e?.Message}");
        }
    }

    [Fact]
    public void Truncated_files_on_disk_are_engine_errors_naming_the_file()
    {
        byte[] full = Bytes(StandardizeModel());
        foreach (int length in new[] { 0, 5, 8, 13, 30, full.Length / 2, full.Length - 1 })
        {
            string path = _dir.Write($"cut{length}.model", full[..length]);
            var e = Assert.Throws<EngineException>(() => ModelFile.Load(path));
            Assert.Contains(path, e.Message);
        }
    }

    [Fact]
    public void Bad_magic_is_rejected()
    {
        byte[] b = Bytes(DivideModel());
        b[0] = (byte)'X';
        Assert.Contains("magic", ReadFails(b).Message);

        Assert.Contains("magic", ReadFails("not a model at all, just text"u8.ToArray()).Message);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(3u)]
    [InlineData(0xFFFF_FFFFu)]
    public void Unsupported_versions_are_rejected(uint version)
    {
        byte[] b = Bytes(DivideModel());
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), version);
        var e = ReadFails(b);
        Assert.Contains($"version {version}", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(255)]
    public void Unknown_activation_codes_are_rejected(byte code)
    {
        byte[] b = Bytes(DivideModel());
        b[12] = code;
        Assert.Contains("activation", ReadFails(b).Message);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(0)]
    public void Unknown_scaling_codes_are_rejected(byte code)
    {
        byte[] b = Bytes(DivideModel());
        b[36] = code;
        Assert.Contains("scaling", ReadFails(b).Message);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-255f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Invalid_divisors_are_rejected(float divisor)
    {
        byte[] b = Bytes(DivideModel());
        BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(40), divisor);
        Assert.Contains("scaling", ReadFails(b).Message);
    }

    [Fact]
    public void Invalid_standard_deviations_are_rejected()
    {
        byte[] b = Bytes(StandardizeModel());
        // std starts after 40 + 4·4 bytes of means.
        BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(40 + 16 + 8), 0f);
        Assert.Contains("scaling", ReadFails(b).Message);
    }

    /// <summary>A header written field by field, for values <see cref="ModelFile.Write"/> never produces.</summary>
    static byte[] Header(uint input, uint[] hidden, uint classes, uint? hiddenCount = null, byte scaling = 1, byte[]? scalingPayload = null,
                         ulong? parameterCount = null, int parameterBytes = 0)
    {
        using var stream = new MemoryStream();
        using var w = new BinaryWriter(stream);
        w.Write("ENGNMODL"u8);
        w.Write(ModelFile.Version);
        w.Write((byte)1); w.Write((byte)0); w.Write((ushort)0);
        w.Write(input);
        w.Write(hiddenCount ?? (uint)hidden.Length);
        foreach (uint h in hidden) w.Write(h);
        w.Write(classes);
        w.Write(scaling); w.Write((byte)0); w.Write((ushort)0);
        w.Write(scalingPayload ?? BitConverter.GetBytes(1f));
        if (parameterCount is ulong count)
        {
            w.Write(count);
            w.Write(new byte[parameterBytes]);
        }
        w.Flush();
        return stream.ToArray();
    }

    static (Exception? Error, long Allocated) ReadMeasured(byte[] bytes)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Record.Exception(() => ModelFile.Read(bytes, "absurd.model"));
        return (e, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData((1u << 24) + 1)]
    [InlineData(0xFFFF_FFFFu)]
    public void Absurd_input_widths_are_rejected(uint input)
    {
        var (e, allocated) = ReadMeasured(Header(input, [4], 3, parameterCount: 1, parameterBytes: 4));
        var engine = Assert.IsType<EngineException>(e);
        Assert.Contains("input width", engine.Message);
        Assert.Contains(input.ToString(), engine.Message);
        Assert.True(allocated < 1 << 20, $"{allocated:N0} bytes allocated");
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData((1u << 24) + 1)]
    [InlineData(0xFFFF_FFFFu)]
    public void Absurd_class_counts_are_rejected(uint classes)
    {
        var e = Assert.IsType<EngineException>(ReadMeasured(Header(3, [4], classes, parameterCount: 1, parameterBytes: 4)).Error);
        Assert.Contains("class count", e.Message);
    }

    [Theory]
    [InlineData(65u)]
    [InlineData(1_000_000u)]
    [InlineData(0xFFFF_FFFFu)]
    public void Absurd_hidden_layer_counts_are_rejected_without_allocating(uint hiddenCount)
    {
        var (e, allocated) = ReadMeasured(Header(3, [4, 4], 2, hiddenCount: hiddenCount, parameterCount: 1, parameterBytes: 4));
        var engine = Assert.IsType<EngineException>(e);
        Assert.Contains($"{hiddenCount} hidden layers", engine.Message);
        Assert.True(allocated < 1 << 20, $"{allocated:N0} bytes allocated");
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(0xFFFF_FFFFu)]
    public void Absurd_hidden_widths_are_rejected(uint width)
    {
        var e = Assert.IsType<EngineException>(ReadMeasured(Header(3, [4, width], 2, parameterCount: 1, parameterBytes: 4)).Error);
        Assert.Contains("hidden layer 2 width", e.Message);
    }

    [Fact]
    public void Huge_but_in_range_widths_with_a_matching_count_fail_on_length_without_allocating()
    {
        const uint big = 1u << 24, classes = Limits.MaxClasses; // the widest layers and the most classes the limits allow
        ulong expected = (ulong)big * big + big + (ulong)big * classes + classes; // 2^24-2^24-10000
        var (e, allocated) = ReadMeasured(Header(big, [big], classes, parameterCount: expected, parameterBytes: 64));
        var engine = Assert.IsType<EngineException>(e);
        Assert.Contains("bytes of parameters", engine.Message);
        Assert.True(allocated < 1 << 20, $"{allocated:N0} bytes allocated");
    }

    [Fact]
    public void A_class_count_beyond_the_limit_is_refused_naming_it()
    {
        var (e, _) = ReadMeasured(Header(784, [16], Limits.MaxClasses + 1, parameterCount: 0, parameterBytes: 64));
        var engine = Assert.IsType<EngineException>(e);
        Assert.Contains("limit of 10,000", engine.Message);
    }

    [Fact]
    public void A_huge_standardize_width_fails_on_length_without_allocating()
    {
        const uint big = 1u << 24;
        var (e, allocated) = ReadMeasured(Header(big, [], 2, scaling: 2, scalingPayload: new byte[16]));
        var engine = Assert.IsType<EngineException>(e);
        Assert.Contains("truncated", engine.Message);
        Assert.True(allocated < 1 << 20, $"{allocated:N0} bytes allocated");
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]  // one parameter missing from the count
    [InlineData(1L)]
    [InlineData(long.MaxValue)]
    public void A_parameter_count_mismatch_is_rejected(long delta)
    {
        var model = DivideModel();
        byte[] b = Bytes(model);
        ulong count = delta == long.MaxValue ? ulong.MaxValue : (ulong)((long)model.Network.Parameters.Length + delta);
        if (delta == 0) count = 0;
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(44), count);
        var e = ReadFails(b);
        Assert.Contains("parameters", e.Message);
        Assert.Contains("5-4-3-3", e.Message);
    }

    [Fact]
    public void A_hidden_width_that_does_not_match_the_parameters_is_rejected()
    {
        byte[] b = Bytes(DivideModel());
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(24), 5); // hidden 4 -> 5
        Assert.Contains("parameters", ReadFails(b).Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(1000)]
    public void Trailing_bytes_are_rejected(int extra)
    {
        byte[] b = [.. Bytes(DivideModel()), .. new byte[extra]];
        var e = ReadFails(b);
        Assert.Contains("padded", e.Message);
    }

    [Fact]
    public void A_missing_model_file_is_reported_by_name()
    {
        string path = _dir.File("absent.model");
        var e = Assert.Throws<EngineException>(() => ModelFile.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not found", e.Message);
    }

    [Fact]
    public void A_directory_given_as_model_file_is_an_engine_error()
    {
        Assert.Throws<EngineException>(() => ModelFile.Load(_dir.Path));
    }

    // ---- AtomicFile -----------------------------------------------------------------------------

    [Fact]
    public void A_writer_that_throws_leaves_the_previous_file_and_no_temp_file()
    {
        string path = _dir.WriteText("keep.txt", "previous content");

        var e = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("partial new content"u8);
            stream.Flush();
            throw new InvalidOperationException("writer failed");
        }));

        Assert.Equal("writer failed", e.Message);
        Assert.Equal("previous content", File.ReadAllText(path));
        Assert.Equal(["keep.txt"], _dir.FileNames());
    }

    [Fact]
    public void A_writer_failing_with_an_io_error_becomes_an_engine_error_and_keeps_the_previous_file()
    {
        string path = _dir.WriteText("keep.txt", "previous content");

        var e = Assert.Throws<EngineException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("partial"u8);
            throw new IOException("disk full");
        }));

        Assert.Contains(path, e.Message);
        Assert.Contains("disk full", e.Message);
        Assert.Equal("previous content", File.ReadAllText(path));
        Assert.Equal(["keep.txt"], _dir.FileNames());
    }

    [Fact]
    public void A_failing_model_save_keeps_the_previous_model()
    {
        string path = _dir.File("model.bin");
        var good = DivideModel();
        ModelFile.Save(path, good);
        byte[] before = File.ReadAllBytes(path);

        // Scaling fitted on 3 features for a 5-input network: Write throws part-way through.
        var mismatched = new Model(good.Network, InputScaling.Standardize([0f, 0f, 0f], [1f, 1f, 1f]));
        Assert.Throws<ArgumentException>(() => ModelFile.Save(path, mismatched));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.bin"], _dir.FileNames());
        AssertSameModel(good, ModelFile.Load(path));
    }

    [Fact]
    public void A_successful_write_replaces_the_file_and_leaves_no_temp_file()
    {
        string path = _dir.WriteText("out.txt", "old");
        AtomicFile.Write(path, stream => stream.Write("new"u8));
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal(["out.txt"], _dir.FileNames());
    }

    [Fact]
    public void Writing_into_a_missing_directory_is_an_engine_error()
    {
        string path = Path.Combine(_dir.Path, "missing", "out.txt");
        bool called = false;
        var e = Assert.Throws<EngineException>(() => AtomicFile.Write(path, _ => called = true));
        Assert.Contains(path, e.Message);
        Assert.False(called);
    }
}
