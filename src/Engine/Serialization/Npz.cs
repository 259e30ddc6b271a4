using Engine.Data;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using Engine.Kernels;
using Engine.Nn;

namespace Engine.Serialization;

/// <summary>
/// Weights as NumPy .npy (format 1.0) and .npz (a zip of .npy members, stored) files: the writer, and the network's
/// interchange layout over <see cref="NpyReader"/>'s arrays. Interchange layout: layer i (1-based) is W{i} (fan_in, fan_out) and b{i} (fan_out), so z = x·W + b.
/// </summary>
internal static class Npz
{

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
        int total = NpyReader.Magic.Length + 2 + 2 + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        string header = dict + new string(' ', padded - total) + "\n";
        stream.Write(NpyReader.Magic);
        stream.Write([1, 0]);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        stream.Write(len);
        stream.Write(Encoding.ASCII.GetBytes(header));
        var bytes = new byte[array.Data.Length * 4];
        for (int i = 0; i < array.Data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), array.Data[i]);
        stream.Write(bytes);
    }

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
        var weights = new List<LayerWeights>();
        for (int l = 1; l <= layers; l++)
        {
            var w = arrays[$"W{l}"];
            if (w.Shape.Length != 2) throw new EngineException($"{name}: W{l} has shape ({string.Join(",", w.Shape)}), expected (fan_in, fan_out)");
            if (!arrays.TryGetValue($"b{l}", out var b)) throw new EngineException($"{name}: W{l} has no b{l}");
            if (b.Shape.Length != 1 || b.Shape[0] != w.Shape[1])
                throw new EngineException($"{name}: b{l} has shape ({string.Join(",", b.Shape)}), expected ({w.Shape[1]},)");
            weights.Add(new LayerWeights(w.Shape[0], w.Shape[1], w.Data, b.Data, new LayerNames($"layer {l}", $"W{l}", $"b{l}")));
        }
        return Network.FromLayers(weights, hiddenActivation, name);
    }
}
