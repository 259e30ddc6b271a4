using Engine.Data;
using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Kernels.Simd;
using Engine.Nn;
using Engine.Training;

namespace Engine.Tests.Data;

/// <summary>
/// The byte form of pixel data, which the shuffled gather reads: made by the readers of byte data and kept by
/// dividing scaling, never by inspecting floats; its rows have the float rows' bits, and training with it gives the
/// weights of training without it.
/// </summary>
public class ByteFormTests
{
    static readonly IKernels Reference = ReferenceKernels.Instance;

    /// <summary>The first 600 bundled training images, scaled by their largest value as the CLI does.</summary>
    static Dataset ScaledPixels()
    {
        var raw = DataSource.Load(RepoPaths.BundledData).Train.Subset(Enumerable.Range(0, 600).ToArray(), "first 600");
        return InputScaling.FitMax(raw).Apply(raw);
    }

    /// <summary>The same features in a dataset made from floats (so with no byte form).</summary>
    static Dataset FloatsOnly(Dataset data) => new((float[])data.Features.Clone(), data.Labels, data.Count, data.Width, data.Source);

    [Fact]
    public void Rows_of_a_scaled_pixel_dataset_have_the_float_rows_bits()
    {
        var data = ScaledPixels();
        Assert.Equal(255f, data.BytesDivisor);
        using var simd = new SimdKernels(InstructionSets.Best, 1);
        foreach (IKernels kernels in new[] { Reference, simd })
        {
            Assert.NotNull(data.Bytes);
            var row = new float[data.Width];
            for (int i = 0; i < data.Count; i++)
            {
                kernels.BytesToFloats(data.ByteRow(i), row, data.BytesDivisor);
                Assert.True(data.Row(i).SequenceEqual(row), $"{kernels.Name}: row {i} differs");
            }
        }
    }

    [Fact]
    public void Subsets_keep_the_byte_form_raw_bytes_have_divisor_1_and_standardized_data_have_none()
    {
        var data = ScaledPixels();
        Assert.NotNull(data.Subset([5, 3, 599], "three").Bytes);
        Assert.Null(FloatsOnly(data).Bytes);
        var raw = DataSource.Load(RepoPaths.BundledData).Train.Subset(Enumerable.Range(0, 50).ToArray(), "raw");
        // Was Assert.Null: raw data had no divisor hint. The reader now states its bytes, with divisor 1.
        Assert.NotNull(raw.Bytes);
        Assert.Equal(1f, raw.BytesDivisor);
        Assert.Null(InputScaling.FitStandardize(raw).Apply(raw).Bytes);
    }

    [Theory]
    [InlineData(0.5f / 255f)]          // between two bytes
    [InlineData(-0f)]                  // −0 / 255 is −0, not the +0 of byte 0
    [InlineData(float.NaN)]
    [InlineData(256f / 255f)]          // past the largest byte
    [InlineData(-1f / 255f)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(0.0039215689f * 1.0000001f)] // one ulp off 1/255
    public void A_feature_that_is_not_exactly_a_byte_over_the_divisor_means_no_byte_form(float changed)
    {
        // A byte form's features are computed from its bytes, so features that are not byte / divisor can only be
        // in a dataset made from floats; dividing it again gives floats too.
        var features = (float[])ScaledPixels().Features.Clone();
        features[features.Length / 2 + 7] = changed;
        var data = new Dataset(features, null, 600, 784, "changed");
        Assert.Null(data.Bytes);
        Assert.Null(InputScaling.Divide(1f).Apply(data).Bytes);
    }

    [Fact]
    public void Training_with_the_byte_form_gives_the_weights_of_training_without_it_and_a_changed_dataset_falls_back()
    {
        var hinted = ScaledPixels();
        var plain = FloatsOnly(hinted);
        var features = (float[])hinted.Features.Clone();
        for (int i = 0; i < features.Length; i += 97) features[i] *= 0.75f; // no longer byte / 255
        var changedPlain = new Dataset(features, hinted.Labels, hinted.Count, hinted.Width, "changed");
        var changed = FloatsOnly(changedPlain);
        Assert.Null(changed.Bytes);

        using var simd = new SimdKernels(InstructionSets.Best, 2);
        foreach (IKernels kernels in new[] { Reference, simd })
        {
            Assert.Equal(Train(kernels, plain), Train(kernels, hinted));
            Assert.Equal(Train(kernels, changedPlain), Train(kernels, changed));
            Assert.NotEqual(Train(kernels, plain), Train(kernels, changed)); // the comparison can tell data apart
        }
    }

    [Fact]
    public void Byte_features_are_the_division_the_scaling_does_for_every_byte_and_divisor()
    {
        var bytes = new byte[256 * 3];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(i * 7);
        var raw = new Dataset((byte[])bytes.Clone(), 1f, null, 256, 3, "all bytes");
        Assert.Equal(Bits(bytes.Select(b => (float)b).ToArray()), Bits(raw.Features));
        foreach (float divisor in new[] { 255f, 16f, 3f, 7.3f, 0.1f, 1e-3f, 1e30f, float.Epsilon, float.MaxValue })
        {
            var scaling = InputScaling.Divide(divisor);
            var byDivision = new float[raw.Features.Length];
            scaling.ApplyRows(raw.Features, byDivision, raw.Width);
            Dataset scaled = scaling.Apply(raw);
            Assert.Same(raw.Bytes, scaled.Bytes);
            Assert.Equal(divisor, scaled.BytesDivisor);
            Assert.Equal(Bits(byDivision), Bits(scaled.Features));
            // Scaling scaled data again divides floats: no byte form, the float division's bits.
            Dataset twice = scaling.Apply(scaled);
            Assert.Null(twice.Bytes);
            scaling.ApplyRows(scaled.Features, byDivision, raw.Width);
            Assert.Equal(Bits(byDivision), Bits(twice.Features));
        }
    }

    [Theory]
    [InlineData("0,1,255,7.0,1e2", true)]     // integers 0..255, however written
    [InlineData("0,1,255,7,0.5", false)]      // a fraction
    [InlineData("0,1,255,7,-0", false)]       // −0 is not byte 0's +0
    [InlineData("0,1,256,7,3", false)]        // past the largest byte
    [InlineData("0,-1,255,7,3", false)]
    [InlineData("0,1,255,7,1e-45", false)]    // the smallest subnormal
    [InlineData("0,1,254.99998,7,3", false)]  // one ulp under 255
    public void A_csv_of_integers_0_to_255_is_read_as_bytes(string row, bool bytes)
    {
        var data = CsvReader.Read(new StringReader("label,a,b,c,d,e\n3," + row + "\n1,9,8,7,6,5\n"), "pixels.csv");
        float[] expected = row.Split(',').Concat(["9", "8", "7", "6", "5"])
            .Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(Bits(expected), Bits(data.Features)); // −0 included
        Assert.Equal(bytes, data.Bytes is not null);
        if (bytes)
        {
            Assert.Equal(1f, data.BytesDivisor);
            Assert.NotNull(InputScaling.FitMax(data).Apply(data).Bytes);
        }
        else Assert.Null(InputScaling.FitMax(data).Apply(data).Bytes);
    }

    static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    /// <summary>Two shuffled epochs (batch 32, last batch 24) of 784-16-10; the final weights' bits.</summary>
    static int[] Train(IKernels kernels, Dataset data)
    {
        var network = new Network(784, [16], 10, Activation.Tanh);
        network.InitializeWeights(3);
        new Trainer(network, kernels, new TrainingOptions(2, 32, 0.1f, 1e-4f, 5, Shuffle: true)).Train(data, null);
        return network.Parameters.ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();
    }
}
