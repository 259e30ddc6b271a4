using Engine.Data;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Engine.Kernels;
using Engine.Nn;

namespace Engine.Serialization;

/// <summary>
/// safetensors (the weights format PyTorch, Hugging Face and others share): an 8-byte little-endian header length,
/// a JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian data.
/// The engine writes and reads the layers with PyTorch's nn.Linear names and layout, as an nn.Sequential of Linear and
/// activation modules names them: layer i (0-based) is "{2i}.weight" of shape (out, in) and "{2i}.bias" (out), so
/// <c>model.load_state_dict(safetensors.torch.load_file(path))</c> fits nn.Sequential(Linear, Tanh, Linear, …).
/// Reading takes any "{prefix}.weight"/"{prefix}.bias" pairs (fc1.weight, 0.weight, layers.3.weight), ordered by
/// prefix with numbers compared as numbers, whose shapes must chain; F32 data (F64 and F16/BF16 are converted).
/// Nothing in the file is trusted: the header length, every range and every shape are checked against the file.
/// </summary>
internal static class Safetensors
{
    /// <summary>The format's own bound on the header (safetensors refuses larger headers too).</summary>
    const long MaxHeaderBytes = 100_000_000;

    public static void Write(string path, Network network) => AtomicFile.Write(path, stream => stream.Write(ToBytes(network)));

    public static byte[] ToBytes(Network network)
    {
        var tensors = new List<(string Name, int[] Shape, float[] Data)>();
        for (int l = 0; l < network.Layers.Count; l++)
        {
            var layer = network.Layers[l];
            var w = network.Parameters.AsSpan(layer.WeightOffset, layer.WeightCount);
            var transposed = new float[w.Length]; // engine (in, out) → PyTorch (out, in)
            for (int i = 0; i < layer.FanIn; i++)
                for (int o = 0; o < layer.FanOut; o++) transposed[o * layer.FanIn + i] = w[i * layer.FanOut + o];
            tensors.Add(($"{2 * l}.weight", [layer.FanOut, layer.FanIn], transposed));
            tensors.Add(($"{2 * l}.bias", [layer.FanOut], network.Parameters.AsSpan(layer.BiasOffset, layer.FanOut).ToArray()));
        }
        var header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\",\"producer\":\"engine\",\"activation\":\"")
            .Append(network.HiddenActivation.Name()).Append("\"}");
        long offset = 0;
        foreach (var (name, shape, data) in tensors)
        {
            header.Append(CultureInfo.InvariantCulture, $",\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{offset},{offset + 4L * data.Length}]}}");
            offset += 4L * data.Length;
        }
        header.Append('}');
        while ((header.Length + 8) % 8 != 0) header.Append(' '); // the data starts 8-byte aligned (the format allows trailing spaces)
        byte[] json = Encoding.UTF8.GetBytes(header.ToString());
        var bytes = new byte[8 + json.Length + offset];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        long at = 8 + json.Length;
        foreach (var (_, _, data) in tensors)
            for (int i = 0; i < data.Length; i++, at += 4) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan((int)at), data[i]);
        return bytes;
    }

    /// <summary>The network in the file, with the given hidden activation (a weights file carries none the engine trusts).</summary>
    public static Network Read(string path, Activation hiddenActivation)
    {
        if (Directory.Exists(path)) throw new EngineException($"{path}: is a directory, not a safetensors file");
        var info = new FileInfo(path);
        if (!info.Exists) throw new EngineException($"{path}: file not found");
        if (info.Length > Array.MaxLength) throw new EngineException($"{path}: {info.Length:N0} bytes is more than the engine reads into memory");
        // An 8-byte header length the format allows, then the JSON header's '{': anything else fails on those 9 bytes.
        byte[] bytes = SpanReader.ReadFile(path, "safetensors file", 9,
            head => BinaryPrimitives.ReadUInt64LittleEndian(head) is >= 2 and <= MaxHeaderBytes && head[8] == (byte)'{');
        return FromBytes(bytes, hiddenActivation, path);
    }

    public static Network FromBytes(byte[] bytes, Activation hiddenActivation, string name)
    {
        var tensors = Tensors(bytes, name);
        // Layers: "{prefix}.weight" with its "{prefix}.bias", in prefix order (numbers as numbers: 0 < 2 < 10, fc1 < fc2 < fc10).
        var prefixes = tensors.Keys.Where(k => k.EndsWith(".weight", StringComparison.Ordinal)).Select(k => k[..^".weight".Length])
                              .OrderBy(p => p, NaturalOrder.Instance).ToList();
        if (prefixes.Count == 0) throw new EngineException($"{name}: no '<layer>.weight' tensor (PyTorch's nn.Linear names: 0.weight, 0.bias, …)");
        foreach (string key in tensors.Keys)
            if (!key.EndsWith(".weight", StringComparison.Ordinal) && !(key.EndsWith(".bias", StringComparison.Ordinal) && prefixes.Contains(key[..^".bias".Length])))
                throw new EngineException($"{name}: tensor '{key}' is not a Linear layer's weight or bias");
        var layers = new List<LayerWeights>();
        foreach (string prefix in prefixes)
        {
            var w = tensors[prefix + ".weight"];
            if (w.Shape.Length != 2) throw new EngineException($"{name}: {prefix}.weight has shape ({string.Join(", ", w.Shape)}), expected (out, in)");
            if (!tensors.TryGetValue(prefix + ".bias", out var b)) throw new EngineException($"{name}: {prefix}.weight has no {prefix}.bias");
            if (b.Shape.Length != 1 || b.Shape[0] != w.Shape[0])
                throw new EngineException($"{name}: {prefix}.bias has shape ({string.Join(", ", b.Shape)}), expected ({w.Shape[0]},)");
            int fanOut = w.Shape[0], fanIn = w.Shape[1];
            var weights = new float[w.Data.Length]; // (out, in) → engine (in, out)
            for (int o = 0; o < fanOut; o++)
                for (int i = 0; i < fanIn; i++) weights[i * fanOut + o] = w.Data[o * fanIn + i];
            layers.Add(new LayerWeights(fanIn, fanOut, weights, b.Data, new LayerNames(prefix, prefix + ".weight", prefix + ".bias")));
        }
        return Network.FromLayers(layers, hiddenActivation, name);
    }

    /// <summary>Every tensor of the file as float32, after checking the header and every byte range against the file.</summary>
    static Dictionary<string, NpyArray> Tensors(byte[] bytes, string name)
    {
        if (bytes.Length < 8) throw new EngineException($"{name}: not a safetensors file (shorter than its 8-byte header length)");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength < 2 || headerLength > MaxHeaderBytes || headerLength > (ulong)(bytes.Length - 8))
            throw new EngineException($"{name}: not a safetensors file (header length {headerLength} for a file of {bytes.Length} bytes)");
        long dataStart = 8 + (long)headerLength, dataLength = bytes.Length - dataStart;
        // JsonDocument checks strings' UTF-8 only when they are read, with an InvalidOperationException; the format
        // requires UTF-8, so check it up front (found by fuzzing).
        if (!System.Text.Unicode.Utf8.IsValid(bytes.AsSpan(8, (int)headerLength)))
            throw new EngineException($"{name}: not a safetensors file (its header is not UTF-8 text)");
        JsonDocument header;
        try
        {
            header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new EngineException($"{name}: not a safetensors file (its header is not JSON: {e.Message.Split('\n')[0]})");
        }
        using (header)
        {
            if (header.RootElement.ValueKind != JsonValueKind.Object) throw new EngineException($"{name}: the safetensors header is not a JSON object");
            var tensors = new Dictionary<string, NpyArray>();
            var ranges = new List<(long Begin, long End, string Name)>();
            foreach (var entry in header.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__") continue;
                var (dtype, shape, begin, end) = Describe(entry, name);
                long count = shape.Aggregate(1L, (a, d) => a * d);
                int size = dtype switch { "F32" => 4, "F64" => 8, "F16" or "BF16" => 2, _ => throw new EngineException($"{name}: tensor '{entry.Name}' has dtype {dtype}; the engine reads F32, F64, F16 and BF16") };
                if (begin < 0 || end < begin || end > dataLength) throw new EngineException($"{name}: tensor '{entry.Name}' lies outside the file's data (bytes {begin}..{end} of {dataLength})");
                if (end - begin != count * size) throw new EngineException($"{name}: tensor '{entry.Name}' has {end - begin} bytes for {count} {dtype} values");
                if (!tensors.TryAdd(entry.Name, new NpyArray(shape, Convert(bytes.AsSpan((int)(dataStart + begin), (int)(end - begin)), dtype))))
                    throw new EngineException($"{name}: tensor '{entry.Name}' appears twice");
                ranges.Add((begin, end, entry.Name));
            }
            // The format requires the tensors to cover the data exactly, without overlaps or holes.
            long at = 0;
            foreach (var r in ranges.OrderBy(r => r.Begin).ThenBy(r => r.End))
            {
                if (r.Begin != at) throw new EngineException($"{name}: tensor '{r.Name}' starts at byte {r.Begin} of the data, expected {at} (overlapping or missing data)");
                at = r.End;
            }
            if (at != dataLength) throw new EngineException($"{name}: {dataLength - at} bytes after the last tensor's data");
            return tensors;
        }
    }

    static (string Dtype, int[] Shape, long Begin, long End) Describe(JsonProperty entry, string name)
    {
        var e = entry.Value;
        string Bad(string what) => $"{name}: tensor '{entry.Name}' has {what}";
        if (e.ValueKind != JsonValueKind.Object) throw new EngineException(Bad("no description"));
        if (!e.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String) throw new EngineException(Bad("no dtype"));
        if (!e.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array || shape.GetArrayLength() > 4) throw new EngineException(Bad("no shape of up to 4 dimensions"));
        if (!e.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2) throw new EngineException(Bad("no data_offsets [begin, end]"));
        var dims = new int[shape.GetArrayLength()];
        long count = 1;
        int d = 0;
        foreach (var dim in shape.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt32(out int n) || n < 0) throw new EngineException(Bad("a dimension that is not a count"));
            dims[d++] = n;
            count *= n;
            if (count > Array.MaxLength) throw new EngineException(Bad("more elements than fit in memory"));
        }
        long[] range = new long[2];
        int k = 0;
        foreach (var o in offsets.EnumerateArray())
            if (o.ValueKind != JsonValueKind.Number || !o.TryGetInt64(out range[k++])) throw new EngineException(Bad("data_offsets that are not byte positions"));
        return (dtype.GetString()!, dims, range[0], range[1]);
    }

    static float[] Convert(ReadOnlySpan<byte> data, string dtype)
    {
        switch (dtype)
        {
            case "F32":
            {
                var values = new float[data.Length / 4];
                for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(4 * i)..]);
                return values;
            }
            case "F64":
            {
                var values = new float[data.Length / 8];
                for (int i = 0; i < values.Length; i++) values[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(data[(8 * i)..]);
                return values;
            }
            case "F16":
            {
                var values = new float[data.Length / 2];
                for (int i = 0; i < values.Length; i++) values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(data[(2 * i)..]);
                return values;
            }
            default: // BF16: the top half of a float32
            {
                var values = new float[data.Length / 2];
                for (int i = 0; i < values.Length; i++) values[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(data[(2 * i)..]) << 16);
                return values;
            }
        }
    }

    /// <summary>Strings compared with runs of digits as numbers: "2" &lt; "10", "fc2" &lt; "fc10", "layers.3" &lt; "layers.12".</summary>
    sealed class NaturalOrder : IComparer<string>
    {
        public static readonly NaturalOrder Instance = new();

        public int Compare(string? a, string? b)
        {
            a ??= ""; b ??= "";
            int i = 0, j = 0;
            while (i < a.Length && j < b.Length)
            {
                if (char.IsAsciiDigit(a[i]) && char.IsAsciiDigit(b[j]))
                {
                    int si = i, sj = j;
                    while (i < a.Length && char.IsAsciiDigit(a[i])) i++;
                    while (j < b.Length && char.IsAsciiDigit(b[j])) j++;
                    string na = a[si..i].TrimStart('0'), nb = b[sj..j].TrimStart('0');
                    int c = na.Length != nb.Length ? na.Length.CompareTo(nb.Length) : string.CompareOrdinal(na, nb);
                    if (c != 0) return c;
                }
                else
                {
                    if (a[i] != b[j]) return a[i].CompareTo(b[j]);
                    i++; j++;
                }
            }
            return (a.Length - i).CompareTo(b.Length - j);
        }
    }
}
