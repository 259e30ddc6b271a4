using System.Buffers.Binary;
using System.Text;
using Engine.Kernels;
using Engine.Nn;
using Engine.Serialization;

namespace Engine.Tests.Serialization;

/// <summary>safetensors with PyTorch's nn.Linear names and layout: written, read back, and every lie in a file refused.</summary>
public class SafetensorsTests
{
    /// <summary>A safetensors file from (name, dtype, shape, data bytes), data laid out in the given order.</summary>
    static byte[] File((string Name, string Dtype, int[] Shape, byte[] Data)[] tensors, string? headerOverride = null, byte[]? extraData = null)
    {
        var header = new StringBuilder("{");
        long offset = 0;
        foreach (var (name, dtype, shape, data) in tensors)
        {
            if (header.Length > 1) header.Append(',');
            header.Append($"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{offset},{offset + data.Length}]}}");
            offset += data.Length;
        }
        header.Append('}');
        byte[] json = Encoding.UTF8.GetBytes(headerOverride ?? header.ToString());
        var bytes = new List<byte>(new byte[8]);
        BinaryPrimitives.WriteUInt64LittleEndian(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes), (ulong)json.Length);
        bytes.AddRange(json);
        foreach (var t in tensors) bytes.AddRange(t.Data);
        if (extraData is not null) bytes.AddRange(extraData);
        return bytes.ToArray();
    }

    static byte[] F32(params float[] values) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    static float[] Range(int n, float scale = 0.1f) => Enumerable.Range(0, n).Select(i => (i - n / 2) * scale).ToArray();

    [Theory]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Relu)]
    public void Written_then_read_gives_the_same_network_and_bits(Activation activation)
    {
        var network = new Network(6, [5, 4], 3, activation);
        network.InitializeWeights(7);
        for (int i = 0; i < network.Parameters.Length; i++) network.Parameters[i] += i * 1e-3f;
        byte[] bytes = Safetensors.ToBytes(network);
        Network back = Safetensors.FromBytes(bytes, activation, "w.safetensors");
        Assert.Equal(network.Describe(), back.Describe());
        Assert.Equal(network.Parameters, back.Parameters);
        Assert.Equal(0, (8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes)) % 8); // data 8-byte aligned
    }

    [Fact]
    public void The_layout_is_PyTorchs_Linear_out_by_in_under_Sequential_names()
    {
        var network = new Network(3, [2], 2, Activation.Tanh);
        network.InitializeWeights(1);
        byte[] bytes = Safetensors.ToBytes(network);
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        string header = Encoding.UTF8.GetString(bytes, 8, headerLength);
        Assert.Contains("\"0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3]", header);
        Assert.Contains("\"2.weight\":{\"dtype\":\"F32\",\"shape\":[2,2]", header);
        Assert.Contains("\"2.bias\"", header);
        // 0.weight[o, i] is the engine's W1[i, o].
        var layer = network.Layers[0];
        float w10 = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + headerLength + 4 * (1 * 3 + 0)));
        Assert.Equal(network.Parameters[layer.WeightOffset + 0 * 2 + 1], w10);
    }

    [Fact]
    public void Layers_are_ordered_by_prefix_with_numbers_as_numbers_and_other_dtypes_are_converted()
    {
        // fc10 after fc2 (natural order); file order deliberately scrambled; F64, F16 and BF16 data.
        float[] w1 = Range(4 * 3), w2 = Range(5 * 4), w3 = Range(2 * 5);
        byte[] file = File(
        [
            ("fc10.weight", "F32", [2, 5], F32(w3)), ("fc10.bias", "BF16", [2], [0x80, 0x3F, 0x00, 0x40]),            // 1, 2
            ("fc1.weight", "F64", [4, 3], w1.SelectMany(v => BitConverter.GetBytes((double)v)).ToArray()), ("fc1.bias", "F32", [4], F32(0, 0, 0, 0)),
            ("fc2.weight", "F16", [5, 4], w2.SelectMany(v => BitConverter.GetBytes((Half)v)).ToArray()), ("fc2.bias", "F32", [5], F32(1, 1, 1, 1, 1)),
        ]);
        Network network = Safetensors.FromBytes(file, Activation.Relu, "f.safetensors");
        Assert.Equal("3-4-5-2 relu", network.Describe());
        Assert.Equal(1f, network.Parameters[network.Layers[2].BiasOffset]);
        Assert.Equal(2f, network.Parameters[network.Layers[2].BiasOffset + 1]);
        Assert.Equal(w1[1 * 3 + 2], network.Parameters[network.Layers[0].WeightOffset + 2 * 4 + 1]); // fc1.weight[1, 2] = W1[2, 1]
        Assert.Equal((float)(Half)w2[3], network.Parameters[network.Layers[1].WeightOffset + 3 * 5 + 0]);
    }

    public static IEnumerable<object[]> Lies()
    {
        byte[] w = F32(Range(6)), b = F32(0, 0, 0);
        (string, string, int[], byte[])[] good = [("0.weight", "F32", [3, 2], w), ("0.bias", "F32", [3], b)];
        yield return ["shorter than its header length", new byte[5], "shorter than its 8-byte header length"];
        yield return ["a header longer than the file", Lengthen(File(good), 1_000_000), "header length 1000000"];
        yield return ["a header that is not JSON", File(good, headerOverride: "{not json"), "is not JSON"];
        yield return ["a header that is a JSON array", File(good, headerOverride: "[1,2]"), "not a JSON object"];
        yield return ["a range outside the data", File(good, headerOverride: "{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]},\"0.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[24,4000]}}"), "lies outside the file's data"];
        yield return ["overlapping tensors", File(good, headerOverride: "{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]},\"0.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[20,32]}}", extraData: new byte[4]), "overlapping or missing data"];
        yield return ["bytes after the last tensor", File(good, extraData: new byte[4]), "4 bytes after the last tensor's data"];
        yield return ["a size that disagrees with the shape", File([("0.weight", "F32", [3, 3], w), ("0.bias", "F32", [3], b)]), "has 24 bytes for 9 F32 values"];
        yield return ["an unknown dtype", File([("0.weight", "I64", [3, 2], new byte[48]), ("0.bias", "F32", [3], b)]), "has dtype I64"];
        yield return ["a weight without its bias", File([("0.weight", "F32", [3, 2], w)]), "0.weight has no 0.bias"];
        yield return ["a tensor that is not a Linear layer", File([.. good, ("bn.running_mean", "F32", [3], b)]), "'bn.running_mean' is not a Linear layer's weight or bias"];
        yield return ["shapes that do not chain", File([.. good, ("1.weight", "F32", [2, 4], F32(Range(8))), ("1.bias", "F32", [2], F32(0, 0))]), "1.weight takes 4 inputs but 0 gives 3"];
        yield return ["one class", File([("0.weight", "F32", [1, 2], F32(1, 2)), ("0.bias", "F32", [1], F32(0))]), "needs at least 2 classes"];
        yield return ["a NaN weight", File([("0.weight", "F32", [3, 2], F32(1, 2, float.NaN, 4, 5, 6)), ("0.bias", "F32", [3], b)]), "NaN or infinite"];
        yield return ["a negative dimension", File(good, headerOverride: "{\"0.weight\":{\"dtype\":\"F32\",\"shape\":[-3,2],\"data_offsets\":[0,24]},\"0.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[24,36]}}"), "a dimension that is not a count"];
        yield return ["no layers", File([("x", "F32", [3], b)]), "no '<layer>.weight' tensor"];

        static byte[] Lengthen(byte[] file, ulong claimed)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(file, claimed);
            return file;
        }
    }

    [Theory]
    [MemberData(nameof(Lies))]
    public void A_file_that_lies_is_refused_with_one_line(string what, byte[] file, string message)
    {
        var e = Assert.Throws<EngineException>(() => Safetensors.FromBytes(file, Activation.Tanh, "w.safetensors"));
        Assert.Contains(message, e.Message);
        Assert.StartsWith("w.safetensors: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.NotNull(what);
    }

    [Fact]
    public void Every_truncation_is_refused_as_a_file_error()
    {
        var network = new Network(4, [3], 2, Activation.Tanh);
        network.InitializeWeights(2);
        byte[] bytes = Safetensors.ToBytes(network);
        for (int n = 0; n < bytes.Length; n++)
            Assert.Throws<EngineException>(() => Safetensors.FromBytes(bytes[..n], Activation.Tanh, "cut"));
    }

    [Fact]
    public void A_header_that_is_not_utf8_is_refused_not_thrown_from_json() // fuzzing finding (a 0x93 byte in a name)
    {
        byte[] file = File([("0.weight", "F32", [2, 3], F32(Range(6))), ("0.bias", "F32", [2], F32(0, 1))]);
        int at = Array.IndexOf(file, (byte)'.', 8);
        file[at] = 0x93;
        var e = Assert.Throws<EngineException>(() => Safetensors.FromBytes(file, Activation.Tanh, "w.safetensors"));
        Assert.Contains("not UTF-8", e.Message);
    }
}
