using Engine.Data;
using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Kernels.Simd;
using Engine.Nn;
using Engine.Training;

namespace Engine.Tests.Data;

/// <summary>
/// The byte form of a scaled pixel dataset, which the shuffled gather reads: only made when every feature is exactly
/// byte / divisor, its rows have the float rows' bits, and training with it gives the weights of training without it.
/// </summary>
public class ByteRowsTests
{
    static readonly IKernels Reference = ReferenceKernels.Instance;

    /// <summary>The first 600 bundled training images, scaled by their largest value as the CLI does.</summary>
    static Dataset ScaledPixels()
    {
        var raw = DataSource.Load(RepoPaths.BundledData).Train.Subset(Enumerable.Range(0, 600).ToArray(), "first 600");
        return InputScaling.FitMax(raw).Apply(raw);
    }

    /// <summary>The same features in a dataset without the divisor hint (so with no byte form).</summary>
    static Dataset WithoutHint(Dataset data) => new((float[])data.Features.Clone(), data.Labels, data.Count, data.Width, data.Source);

    [Fact]
    public void Rows_of_a_scaled_pixel_dataset_have_the_float_rows_bits()
    {
        var data = ScaledPixels();
        Assert.Equal(255f, data.ByteDivisor);
        using var simd = new SimdKernels(InstructionSets.Best, 1);
        foreach (IKernels kernels in new[] { Reference, simd })
        {
            var rows = ByteRows.TryCreate(data, kernels);
            Assert.NotNull(rows);
            var row = new float[data.Width];
            for (int i = 0; i < data.Count; i++)
            {
                rows.CopyRow(kernels, i, row);
                Assert.True(data.Row(i).SequenceEqual(row), $"{kernels.Name}: row {i} differs");
            }
        }
    }

    [Fact]
    public void Subsets_keep_the_hint_and_unscaled_or_standardized_data_have_none()
    {
        var data = ScaledPixels();
        Assert.NotNull(ByteRows.TryCreate(data.Subset([5, 3, 599], "three"), Reference));
        Assert.Null(ByteRows.TryCreate(WithoutHint(data), Reference));
        var raw = DataSource.Load(RepoPaths.BundledData).Train.Subset(Enumerable.Range(0, 50).ToArray(), "raw");
        Assert.Null(ByteRows.TryCreate(raw, Reference));
        Assert.Null(ByteRows.TryCreate(InputScaling.FitStandardize(raw).Apply(raw), Reference));
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
        var data = ScaledPixels();
        data.Features[data.Features.Length / 2 + 7] = changed; // changed after scaling: the hint is now wrong
        Assert.Null(ByteRows.TryCreate(data, Reference));
    }

    [Fact]
    public void Training_with_the_byte_form_gives_the_weights_of_training_without_it_and_a_changed_dataset_falls_back()
    {
        var hinted = ScaledPixels();
        var plain = WithoutHint(hinted);
        var changed = ScaledPixels();
        for (int i = 0; i < changed.Features.Length; i += 97) changed.Features[i] *= 0.75f; // no longer byte / 255
        var changedPlain = WithoutHint(changed);
        Assert.Null(ByteRows.TryCreate(changed, Reference));

        using var simd = new SimdKernels(InstructionSets.Best, 2);
        foreach (IKernels kernels in new[] { Reference, simd })
        {
            Assert.Equal(Train(kernels, plain), Train(kernels, hinted));
            Assert.Equal(Train(kernels, changedPlain), Train(kernels, changed));
            Assert.NotEqual(Train(kernels, plain), Train(kernels, changed)); // the comparison can tell data apart
        }
    }

    /// <summary>Two shuffled epochs (batch 32, last batch 24) of 784-16-10; the final weights' bits.</summary>
    static int[] Train(IKernels kernels, Dataset data)
    {
        var network = new Network(784, [16], 10, Activation.Tanh);
        network.InitializeWeights(3);
        new Trainer(network, kernels, new TrainingOptions(2, 32, 0.1f, 1e-4f, 5, Shuffle: true)).Train(data, null);
        return network.Parameters.ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();
    }
}
