using System.Globalization;
using CsCheck;
using Engine.Data;
using Engine.Kernels;
using Engine.Nn;
using Engine.Numerics;
using Engine.Serialization;
using Engine.Tests.Serialization;
using Xunit;

namespace Engine.Tests.Properties;

/// <summary>Property-based tests (CsCheck generates the cases and shrinks a failure to a small one).</summary>
public class PropertyTests
{
    static readonly Gen<Activation> Activations = Gen.Int[0, 2].Select(i => i switch { 0 => Activation.Tanh, 1 => Activation.Relu, _ => Activation.Sigmoid });

    /// <summary>A small random model: widths, activation, seed, and divide or standardize scaling.</summary>
    static readonly Gen<Model> Models =
        from input in Gen.Int[1, 12]
        from hidden in Gen.Int[1, 9].Array[0, 3]
        from classes in Gen.Int[2, 6]
        from activation in Activations
        from seed in Gen.Int[0, 1000]
        from standardize in Gen.Bool
        from divisor in Gen.Float[0.5f, 300f]
        select new Model(ModelFileTests.RandomNetwork(input, hidden, classes, activation, seed),
                         standardize
                             ? InputScaling.Standardize(Enumerable.Range(0, input).Select(i => i * 0.5f).ToArray(), Enumerable.Range(0, input).Select(i => 1f + i).ToArray())
                             : InputScaling.Divide(divisor));

    static byte[] Bytes(Model m)
    {
        var s = new MemoryStream();
        ModelFile.Write(s, m);
        return s.ToArray();
    }

    [Fact]
    public void Model_files_round_trip_bit_for_bit()
    {
        Models.Sample(m =>
        {
            byte[] b = Bytes(m);
            Model back = ModelFile.Read(b, "m");
            return back.Network.Describe() == m.Network.Describe()
                && back.Network.Parameters.AsSpan().SequenceEqual(m.Network.Parameters)
                && Bytes(back).AsSpan().SequenceEqual(b);
        }, iter: 300);
    }

    [Fact]
    public void A_mutated_model_file_is_an_engine_error_or_the_same_model_never_anything_else()
    {
        Gen.Select(Models, Gen.Int[0, int.MaxValue], Gen.Byte, Gen.Int[0, 3]).Sample((m, at, value, kind) =>
        {
            byte[] b = Bytes(m);
            int i = at % b.Length;
            byte[] mutated = kind switch
            {
                0 => b[..i],                                        // truncated
                1 => [.. b[..i], value, .. b[i..]],                 // a byte inserted
                _ => b.Select((x, j) => j == i ? value : x).ToArray(), // a byte replaced
            };
            var e = Record.Exception(() => ModelFile.Read(mutated, "mutated"));
            return e is EngineException || (e is null && mutated.AsSpan().SequenceEqual(b));
        }, iter: 2000);
    }

    [Fact]
    public void Csv_files_of_integers_read_back_every_value_and_label()
    {
        var rows = Gen.Select(Gen.Int[0, 9], Gen.Int[0, 255].Array[3]).Array[1, 20];
        rows.Sample(data =>
        {
            var text = new StringWriter(CultureInfo.InvariantCulture);
            text.WriteLine("label,a,b,c");
            foreach (var (label, pixels) in data) text.WriteLine($"{label},{string.Join(',', pixels)}");
            Dataset d = CsvReader.Read(new StringReader(text.ToString()), "p.csv");
            return d.Count == data.Length && d.Width == 3
                && data.Select((r, i) => d.Labels![i] == r.Item1 && d.Row(i).ToArray().SequenceEqual(r.Item2.Select(v => (float)v))).All(ok => ok);
        }, iter: 300);
    }

    [Fact]
    public void Simd_gemm_equals_the_reference_bit_for_bit_on_generated_shapes()
    {
        using IKernels reference = Backends.Create("reference");
        using IKernels simd = Backends.Create("simd", 2);
        Gen.Select(Gen.Int[1, 70], Gen.Int[1, 70], Gen.Int[0, 140], Gen.Bool, Gen.Bool, Gen.Bool, Gen.Int[0, 1000]).Sample((m, n, k, ta, tb, acc, seed) =>
        {
            var rng = new Random(seed);
            float[] Fill(int count) => Enumerable.Range(0, count).Select(_ => rng.NextSingle() - 0.5f).ToArray();
            float[] a = Fill(m * k), b = Fill(k * n), c0 = Fill(m * n);
            float[] c1 = (float[])c0.Clone(), c2 = (float[])c0.Clone();
            Transpose TA = ta ? Transpose.Yes : Transpose.No, TB = tb ? Transpose.Yes : Transpose.No;
            var av = ta ? new ReadOnlyMatrixView(a, k, m) : new ReadOnlyMatrixView(a, m, k);
            var bv = tb ? new ReadOnlyMatrixView(b, n, k) : new ReadOnlyMatrixView(b, k, n);
            reference.Gemm(TA, TB, av, bv, new MatrixView(c1, m, n), acc);
            simd.Gemm(TA, TB, av, bv, new MatrixView(c2, m, n), acc);
            return c1.AsSpan().SequenceEqual(c2);
        }, iter: 300, threads: 1); // one backend instance: its calls must not overlap
    }
}
