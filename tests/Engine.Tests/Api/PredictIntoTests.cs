using Engine.Data;
using Engine.Evaluation;
using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Nn;
using Engine.Numerics;
using Engine.Tests.Data;
using Engine.Tests.Support;

namespace Engine.Tests.Api;

/// <summary>
/// Inference from the caller's rows into the caller's memory (<see cref="Classifier.PredictProbabilities(ReadOnlySpan{float}, Span{float})"/>):
/// the scaling applied batch by batch inside the pass gives the bits of scaling the whole input first and predicting
/// from that, on every backend and thread count, for batch edges and both scalings; a warm call allocates nothing;
/// wrong sizes are one clear error.
/// </summary>
public class PredictIntoTests
{
    static readonly Lazy<Dataset> Digits = new(() => DataSource.Load(RepoPaths.BundledData).Train.Subset(Enumerable.Range(0, 2100).ToArray(), "2100"));

    static Classifier Model(InputScaling scaling, ComputeOptions compute, string hidden = "64") =>
        Classifier.Create(784, hidden.Split(',').Select(int.Parse).ToArray(), 10, Activation.Tanh, scaling, seed: 5, compute);

    public static IEnumerable<object[]> Computes() =>
        from backend in new[] { "reference", "simd" }
        from threads in backend == "simd" ? new[] { 1, 2 } : new[] { 1 }
        from standardize in new[] { false, true }
        select new object[] { backend, threads, standardize };

    [Theory]
    [MemberData(nameof(Computes))]
    public void Scaling_inside_the_pass_gives_the_bits_of_scaling_the_input_first(string backend, int threads, bool standardize)
    {
        Dataset data = Digits.Value;
        InputScaling scaling = standardize ? InputScaling.FitStandardize(data) : InputScaling.FitMax(data);
        using var model = Model(scaling, new ComputeOptions(backend, threads));
        var network = new Network(784, [64], 10, Activation.Tanh); // the classifier's own network: same shape, same seed
        network.InitializeWeights(5);
        foreach (int rows in new[] { 1, 15, 31, 32, 33, 999, 1000, 1001, 2100 })
        {
            var raw = data.Features.AsSpan(0, rows * 784);
            // The composition the old path ran: the whole input scaled first, then the forward pass on it (reference kernels).
            var expected = Evaluator.Predict(network, ReferenceKernels.Instance, scaling.Apply(data.Subset(Enumerable.Range(0, rows).ToArray(), "first")));
            var got = new float[rows * 10];
            model.PredictProbabilities(raw, got);
            Assert.True(expected.AsSpan().SequenceEqual(got), $"{backend} {threads} threads, {rows} rows");
            Assert.True(expected.AsSpan().SequenceEqual(model.PredictProbabilities(raw, rows)), $"array overload, {rows} rows");
        }
        Assert.True(Evaluator.Predict(network, ReferenceKernels.Instance, scaling.Apply(data)).AsSpan().SequenceEqual(model.PredictProbabilities(data)));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 32)]
    [InlineData(2, 1)]
    [InlineData(2, 1000)]
    public void A_warm_call_allocates_nothing(int threads, int rows)
    {
        Dataset data = Digits.Value;
        using var model = Model(InputScaling.FitMax(data), new ComputeOptions("simd", threads), hidden: "128");
        var raw = data.Features.AsMemory(0, rows * 784);
        var probabilities = new float[rows * 10];
        model.PredictProbabilities(raw.Span, probabilities); // sizes the workspaces
        model.PredictProbabilities(raw.Span, probabilities);
        long allocated = SteadyState.AllocatedBytes(() => model.PredictProbabilities(raw.Span, probabilities), calls: 5);
        Assert.True(allocated == 0, $"{allocated} bytes allocated by 5 warm calls of {rows} rows on {threads} threads");
    }

    [Fact]
    public void Wrong_sizes_are_one_clear_error_and_nothing_is_written()
    {
        using var model = Model(InputScaling.Divide(255f), new ComputeOptions("simd", 1));
        var probabilities = new float[20];
        Array.Fill(probabilities, -1f);
        var e = Assert.Throws<EngineException>(() => model.PredictProbabilities(new float[784 + 5], probabilities));
        Assert.Contains("not whole rows of 784", e.Message);
        e = Assert.Throws<EngineException>(() => model.PredictProbabilities(new float[784 * 3], probabilities));
        Assert.Contains("3 rows of 10 classes need 30", e.Message);
        Assert.All(probabilities, p => Assert.Equal(-1f, p));
        model.PredictProbabilities(ReadOnlySpan<float>.Empty, Span<float>.Empty); // no rows: nothing to do
    }

    [Fact]
    public void Vector_scaling_equals_the_plain_loop_for_every_length_and_both_modes()
    {
        var rng = new SplitMix64(11);
        foreach (int width in new[] { 1, 3, 7, 8, 15, 16, 17, 33, 784 })
        {
            var mean = new float[width];
            var std = new float[width];
            for (int j = 0; j < width; j++) { mean[j] = 300f * rng.NextFloat() - 20f; std[j] = 0.01f + 90f * rng.NextFloat(); }
            std[0] = 1e-38f; // a near-constant feature: quotients overflow to ±Inf, in the vector lanes as in the loop
            foreach (var scaling in new[] { InputScaling.Divide(255f), InputScaling.Divide(7.3f), InputScaling.Standardize(mean, std) })
                foreach (int rows in new[] { 0, 1, 2, 5 })
                {
                    var x = new float[rows * width];
                    for (int i = 0; i < x.Length; i++) x[i] = rng.NextInt(8) == 0 ? rng.NextInt(256) : 1e3f * (rng.NextFloat() - 0.5f);
                    var got = new float[x.Length];
                    scaling.ApplyRows(x, got, width);
                    for (int i = 0; i < x.Length; i++)
                    {
                        int j = i % width;
                        float expected = scaling.Mode == InputScaling.Kind.Divide ? x[i] / scaling.Divisor : (x[i] - mean[j]) / std[j];
                        Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(got[i]) || (float.IsNaN(expected) && float.IsNaN(got[i])),
                            $"{scaling.Mode} width {width} element {i}: {got[i]} vs {expected}");
                    }
                }
        }
    }
}
