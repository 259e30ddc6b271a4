using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Engine.Data;
using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Kernels.Simd;
using Engine.Nn;
using Engine.Numerics;
using Engine.Tests.Data;
using Engine.Training;
using static Engine.Tests.Simd.SimdTestSupport;

namespace Engine.Tests.Training;

/// <summary>
/// The shuffled gather reads the byte form of pixel data and yields the batches the float rows give, on every backend;
/// and training on data with and without a byte form gives the weights it gave before the byte form became a
/// representation of the data (hashes pinned from commit a4c86ec, where the trainer checked a hint instead).
/// </summary>
public class ByteFormTrainingTests
{
    /// <summary>A CSV of <paramref name="rows"/>×20 features: fractional values, or integers 0..255 (pixel-like).</summary>
    static Dataset GeneratedCsv(int rows, bool integers)
    {
        var text = new StringBuilder("label," + string.Join(",", Enumerable.Range(0, 20).Select(j => $"f{j}")) + "\n");
        for (int i = 0; i < rows; i++)
        {
            text.Append(((i * 7 + i / 5) % 4).ToString(CultureInfo.InvariantCulture));
            for (int j = 0; j < 20; j++)
            {
                int k = (i * 31 + j * 17 + i * j) % 97;
                string value = integers ? (k * 255 / 96).ToString(CultureInfo.InvariantCulture) : (k / 8.0 - 3.25).ToString("R", CultureInfo.InvariantCulture);
                text.Append(',').Append(value);
            }
            text.Append('\n');
        }
        return CsvReader.Read(new StringReader(text.ToString()), integers ? "integers.csv" : "fractions.csv");
    }

    static Dataset BundledFirst600() => DataSource.Load(RepoPaths.BundledData).Train.Subset(Enumerable.Range(0, 600).ToArray(), "first 600");

    /// <summary>Shuffled epochs (last batch partial) with the given optimizer; the first 16 hex digits of the weights' SHA-256.</summary>
    static string TrainHash(IKernels kernels, Dataset data, int[] hidden, int classes, Optimizer optimizer)
    {
        var network = new Network(data.Width, hidden, classes, Activation.Tanh);
        network.InitializeWeights(3);
        var options = new TrainingOptions(2, 32, 0.05f, 1e-4f, 5, Shuffle: true) { Optimizer = optimizer };
        new Trainer(network, kernels, options).Train(data, null);
        return Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(network.Parameters.ToArray().AsSpan())))[..16];
    }

    public static TheoryData<string> Backends =>
        new(new[] { "reference" }.Concat(SupportedIsas.Select(isa => isa.ToString())));

    [Theory]
    [MemberData(nameof(Backends))]
    public void The_byte_gather_gives_the_float_gathers_batches_in_shuffled_epochs(string backend)
    {
        var raw = DataSource.Load(RepoPaths.BundledData).Train.Subset(Enumerable.Range(0, 1000).ToArray(), "first 1000");
        using var simd = backend == "reference" ? null : new SimdKernels(Enum.Parse<InstructionSet>(backend), 1);
        IKernels kernels = simd is null ? ReferenceKernels.Instance : simd;
        foreach (Dataset pixels in new[] { InputScaling.FitMax(raw).Apply(raw), InputScaling.Divide(7.3f).Apply(raw), raw })
        {
            Assert.NotNull(pixels.Bytes);
            var floats = new Dataset((float[])pixels.Features.Clone(), pixels.Labels, pixels.Count, pixels.Width, "floats only");
            const int batch = 48; // 1000 = 20·48 + 40: a partial last batch
            var fromBytes = new float[batch * pixels.Width];
            var fromFloats = new float[batch * pixels.Width];
            int[] labelsFromBytes = new int[batch], labelsFromFloats = new int[batch];
            for (ulong epoch = 1; epoch <= 3; epoch++)
            {
                int[] order = Enumerable.Range(0, pixels.Count).ToArray();
                SplitMix64.ForStream(5, RandomStreams.Shuffle, epoch).Shuffle(order);
                for (int start = 0; start < order.Length; start += batch)
                {
                    ReadOnlySpan<int> rows = order.AsSpan(start, Math.Min(batch, order.Length - start));
                    fromBytes.AsSpan().Fill(float.NaN);
                    BatchGather.Gather(kernels, pixels, rows, fromBytes, labelsFromBytes);
                    BatchGather.Gather(kernels, floats, rows, fromFloats, labelsFromFloats);
                    int n = rows.Length * pixels.Width;
                    for (int j = 0; j < n; j++)
                        Assert.True(ExactBits(fromFloats[j], fromBytes[j]),
                            $"divisor {pixels.BytesDivisor}, epoch {epoch}, batch at {start}, value {j}: {Show(fromBytes[j])} from bytes, {Show(fromFloats[j])} from floats");
                    Assert.True(labelsFromBytes.AsSpan(0, rows.Length).SequenceEqual(labelsFromFloats.AsSpan(0, rows.Length)));
                    for (int r = 0; r < rows.Length; r++)
                        Assert.True(fromFloats.AsSpan(r * pixels.Width, pixels.Width).SequenceEqual(pixels.Row(rows[r])));
                }
            }
        }
    }

    public static TheoryData<string, string, string> Pinned => new()
    {
        { "standardized pixels", "sgd", "87bc8fad94bc6819" },
        { "standardized pixels", "adam", "8823ed51ae6fbb01" },
        { "fractional csv", "sgd", "e5cc08c130ce6617" },
        { "fractional csv", "adam", "cdd5b1b7105974f4" },
        { "integer csv", "sgd", "f16babea90d6c07d" },
        { "integer csv", "adam", "7f4b8322ceaf1286" },
        { "scaled pixels", "sgd", "781abada393aba23" },
        { "scaled pixels", "adam", "3f9e2e22a1a7b28e" },
    };

    [Theory]
    [MemberData(nameof(Pinned))]
    public void Training_gives_the_weights_it_gave_before_on_every_backend(string data, string optimizer, string expected)
    {
        Dataset raw = data switch
        {
            "fractional csv" => GeneratedCsv(300, integers: false),
            "integer csv" => GeneratedCsv(300, integers: true),
            _ => BundledFirst600(),
        };
        Dataset scaled = (data == "standardized pixels" ? InputScaling.FitStandardize(raw) : InputScaling.FitMax(raw)).Apply(raw);
        int[] hidden = raw.Width == 20 ? [8] : [16];
        int classes = raw.Width == 20 ? 4 : 10;
        var rule = optimizer == "adam" ? new Optimizer(OptimizerKind.Adam) : Optimizer.Sgd;
        Assert.Equal(expected, TrainHash(ReferenceKernels.Instance, scaled, hidden, classes, rule));
        using var simd = new SimdKernels(InstructionSets.Best, 2);
        Assert.Equal(expected, TrainHash(simd, scaled, hidden, classes, rule));
    }
}
