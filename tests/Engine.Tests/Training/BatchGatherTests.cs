using Engine.Data;
using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Kernels.Simd;
using Engine.Numerics;
using Engine.Tests.Data;
using Engine.Training;

namespace Engine.Tests.Training;

/// <summary>The batch gather split over threads writes exactly what the one-thread reference gather writes, rows and labels.</summary>
public class BatchGatherTests
{
    [Theory]
    [InlineData(2, 48)]   // two parts of 24
    [InlineData(2, 37)]   // uneven parts
    [InlineData(2, 9)]    // one part: too few rows to split
    [InlineData(3, 100)]
    public void Split_gather_matches_the_serial_reference(int threads, int batch)
    {
        var raw = DataSource.Load(RepoPaths.BundledData).Train.Subset(Enumerable.Range(0, 500).ToArray(), "first 500");
        Dataset pixels = InputScaling.Divide(255f).Apply(raw);
        Assert.NotNull(pixels.Bytes);
        using var simd = new SimdKernels(InstructionSets.Best, threads);
        var x = new float[batch * pixels.Width];
        var y = new int[batch];
        var expectedX = new float[batch * pixels.Width];
        var expectedY = new int[batch];
        var gather = new BatchGather(x, y);
        int[] order = Enumerable.Range(0, pixels.Count).ToArray();
        SplitMix64.ForStream(3, RandomStreams.Shuffle, 1).Shuffle(order);
        for (int start = 0; start < order.Length; start += batch)
        {
            int rows = Math.Min(batch, order.Length - start);
            x.AsSpan().Fill(float.NaN);
            y.AsSpan().Fill(-1);
            gather.Run(simd, pixels, order, start, rows);
            BatchGather.Gather(ReferenceKernels.Instance, pixels, order.AsSpan(start, rows), expectedX, expectedY);
            Assert.True(expectedX.AsSpan(0, rows * pixels.Width).SequenceEqual(x.AsSpan(0, rows * pixels.Width)), $"rows of the batch at {start}");
            Assert.True(expectedY.AsSpan(0, rows).SequenceEqual(y.AsSpan(0, rows)), $"labels of the batch at {start}");
        }
    }
}
