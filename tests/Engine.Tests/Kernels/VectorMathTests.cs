using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Numerics;
using Engine.Kernels.Simd;
using Engine.Training;

namespace Engine.Tests.Kernels;

/// <summary>
/// The vector exp/tanh/sigmoid against their scalar twins, bit for bit, on every instruction-set path, every length
/// 0..256 (so every block and tail path runs), random values across the whole range and the edge values.
/// </summary>
public class VectorMathTests
{
    static readonly float[] Edges =
    [
        0f, -0f, float.Epsilon, -float.Epsilon, 1e-38f, -1e-38f, 1e-30f, 0.49999997f, 0.5f, -0.5f, 0.50000006f,
        1f, -1f, 9f, -9f, 10f, 20f, -20f, 88.7f, 88.8f, 89f, 100f, -87.3f, -88.8f, -100f, -103.9f, -104f, -200f,
        float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN,
    ];

    static float[] Values(int length, ulong seed)
    {
        var rng = new SplitMix64(seed);
        var x = new float[length];
        for (int i = 0; i < length; i++)
            x[i] = rng.NextInt(4) == 0 ? Edges[rng.NextInt(Edges.Length)] : (2f * rng.NextFloat() - 1f) * (rng.NextInt(2) == 0 ? 3f : 120f);
        return x;
    }

    /// <summary>Identical bits, except that any NaN equals any NaN: x86 vector instructions return the default
    /// NaN where scalar code passes the input's payload on, and NaN payloads carry no meaning here.</summary>
    static bool SameBits(float a, float b) =>
        float.IsNaN(a) ? float.IsNaN(b) : BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b);

    public static IEnumerable<object[]> Paths() =>
        Enum.GetValues<InstructionSet>().Where(InstructionSets.IsSupported).Select(i => new object[] { i });

    static void ExpOn(SimdKernels k, Span<float> x) => k.Exp(x);
    static void TanhOn(SimdKernels k, Span<float> x) => k.ActivationForward(Activation.Tanh, new MatrixView(x, 1, x.Length));
    static void SigmoidOn(SimdKernels k, Span<float> x) => k.ActivationForward(Activation.Sigmoid, new MatrixView(x, 1, x.Length));

    delegate void Apply(SimdKernels kernels, Span<float> x);

    [Theory]
    [MemberData(nameof(Paths))]
    public void Vector_kernels_equal_their_scalar_twins_bit_for_bit(InstructionSet isa)
    {
        using var simd = new SimdKernels(isa, 1);
        var kernels = new (string Name, Apply Vector, Func<float, float> Scalar)[]
        {
            ("exp", ExpOn, ScalarMath.Exp),
            ("tanh", TanhOn, ScalarMath.Tanh),
            ("sigmoid", SigmoidOn, ScalarMath.Sigmoid),
        };
        foreach (var (name, vector, scalar) in kernels)
            for (int length = 0; length <= 256; length++)
            {
                float[] x = Values(length, (ulong)length * 31 + 7);
                float[] got = (float[])x.Clone();
                vector(simd, got);
                for (int i = 0; i < length; i++)
                {
                    float expected = scalar(x[i]);
                    Assert.True(SameBits(got[i], expected),
                        $"{name} {isa} length {length} [{i}]: x = {x[i]:R} gives {got[i]:R}, scalar {expected:R}");
                }
            }
    }

    [Fact]
    public void Dense_sweep_agrees_at_full_width()
    {
        // Every 256th float of both signs through the widest path.
        var xs = new List<float>();
        for (int bits = 0; bits < 0x7F800000; bits += 256)
        {
            xs.Add(BitConverter.Int32BitsToSingle(bits));
            xs.Add(-BitConverter.Int32BitsToSingle(bits));
        }
        float[] x = xs.ToArray();
        using var simd = new SimdKernels(InstructionSets.Best, 1);
        foreach (var (vector, scalar) in new (Apply, Func<float, float>)[]
                 { (ExpOn, ScalarMath.Exp), (TanhOn, ScalarMath.Tanh), (SigmoidOn, ScalarMath.Sigmoid) })
        {
            float[] got = (float[])x.Clone();
            vector(simd, got);
            for (int i = 0; i < x.Length; i++)
                if (!SameBits(got[i], scalar(x[i])))
                    Assert.Fail($"x = {x[i]:R}: vector {got[i]:R}, scalar {scalar(x[i]):R}");
        }
    }
}
