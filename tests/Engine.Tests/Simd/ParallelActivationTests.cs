using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Kernels.Simd;
using Engine.Numerics;
using Engine.Training;

namespace Engine.Tests.Simd;

/// <summary>
/// Large activations and SGD updates (≥ 65,536 elements, e.g. inference batches, the 784×128 W1) are split
/// between threads; the result must still equal the reference bit for bit, and padding must stay untouched.
/// </summary>
public class ParallelActivationTests
{
    public static IEnumerable<object[]> Cases() =>
        from isa in Enum.GetValues<InstructionSet>().Where(InstructionSets.IsSupported)
        from threads in new[] { 2, 3 }
        from act in new[] { Activation.Tanh, Activation.Relu, Activation.Sigmoid }
        select new object[] { isa, threads, act };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Split_rows_give_the_reference_bits(InstructionSet isa, int threads, Activation activation)
    {
        const int rows = 301, cols = 257, stride = 260; // 77,357 elements: above the parallel threshold
        var rng = new SplitMix64(77);
        var data = new float[rows * stride];
        for (int i = 0; i < data.Length; i++) data[i] = (rng.NextFloat() - 0.5f) * 20f;
        var expected = (float[])data.Clone();
        ReferenceKernels.Instance.ActivationForward(activation, new MatrixView(expected, rows, cols, stride));
        using var simd = new SimdKernels(isa, threads);
        var got = (float[])data.Clone();
        simd.ActivationForward(activation, new MatrixView(got, rows, cols, stride));
        for (int i = 0; i < got.Length; i++)
        {
            bool same = float.IsNaN(expected[i]) ? float.IsNaN(got[i]) : BitConverter.SingleToInt32Bits(got[i]) == BitConverter.SingleToInt32Bits(expected[i]);
            Assert.True(same, $"{isa} threads {threads} {activation} [{i / stride},{i % stride}]: {got[i]:R} vs reference {expected[i]:R}");
        }
    }

    public static IEnumerable<object[]> SgdCases() =>
        from isa in Enum.GetValues<InstructionSet>().Where(InstructionSets.IsSupported)
        from threads in new[] { 2, 3 }
        from length in new[] { 65_536, 100_352 + 13 }
        select new object[] { isa, threads, length };

    [Theory]
    [MemberData(nameof(SgdCases))]
    public void Split_sgd_update_gives_the_reference_bits(InstructionSet isa, int threads, int length)
    {
        var rng = new SplitMix64((ulong)length);
        var w = new float[length + 5];
        var g = new float[length + 5];
        for (int i = 0; i < w.Length; i++) { w[i] = rng.NextFloat() - 0.5f; g[i] = (rng.NextFloat() - 0.5f) * 1e-2f; }
        var expected = (float[])w.Clone();
        ReferenceKernels.Instance.SgdUpdate(expected.AsSpan(0, length), g.AsSpan(0, length), 0.1f, 1e-4f);
        using var simd = new SimdKernels(isa, threads);
        var got = (float[])w.Clone();
        simd.SgdUpdate(got.AsSpan(0, length), g.AsSpan(0, length), 0.1f, 1e-4f);
        for (int i = 0; i < got.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(got[i]) == BitConverter.SingleToInt32Bits(expected[i]),
                $"{isa} threads {threads} length {length} [{i}]: {got[i]:R} vs reference {expected[i]:R}");
    }
}
