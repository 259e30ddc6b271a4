namespace Engine.Kernels.Reference;

/// <summary>
/// The engine's own exp, tanh and sigmoid in float32. They are the specification: a vectorised kernel
/// runs the same operations in the same order and so returns the same bits. MathF.Exp/Tanh are not used
/// because they come from the platform's C library and differ between machines.
/// Accuracy against double-precision Math.Exp/Math.Tanh is tested over a dense sweep (see ScalarMathTests).
/// </summary>
internal static class ScalarMath
{
    // exp(x) = 2^n · e^r with n = round(x·log2 e), r = x − n·ln2 (Cody–Waite: ln2 split into a float
    // head and a tail, each subtracted with one fused multiply-add, so r carries no cancellation error).
    const float Log2E = 1.44269504088896341f;
    const float Ln2Head = 0.693147182464599609375f;       // float(ln 2)
    const float Ln2Tail = -1.904654323148236e-09f;        // ln 2 − Ln2Head
    // Clamping keeps n within [−150, 128]; beyond these, exp is 0 or +Inf in float anyway.
    const float ExpMin = -104f;
    const float ExpMax = 89f;
    /// <summary>The largest float at or below ln 2^−126: below it e^x is subnormal, and exp gives +0.</summary>
    public const float ExpFlushBelow = -87.3365478515625f;

    /// <summary>
    /// e^x for float32. exp(±0) = 1, exp(−Inf) = 0, exp(+Inf) = +Inf, exp(NaN) = NaN; x ≥ 88.73 gives +Inf.
    /// Results below the smallest normal float are +0 (x &lt; <see cref="ExpFlushBelow"/>, or a computed value below
    /// 2^−126): producing a subnormal takes x86's slow path (sigmoid of saturated inputs ran 4.4× slower on Zen 5,
    /// perf-results/2026-12-07-issue13), and a subnormal e^x is below every sum and quotient it enters in the engine
    /// (softmax divides by a sum ≥ 1; sigmoid's 1 + e rounds to 1) by more than float's precision.
    /// </summary>
    public static float Exp(float x)
    {
        if (x < ExpFlushBelow) return 0f;                        // the vector twin computes a harmless lane, then selects 0
        float clamped = MathF.Min(MathF.Max(x, ExpMin), ExpMax); // NaN stays NaN
        float n = MathF.Round(clamped * Log2E);                  // round half to even
        float r = MathF.FusedMultiplyAdd(-n, Ln2Head, clamped);
        r = MathF.FusedMultiplyAdd(-n, Ln2Tail, r);              // |r| ≤ ln2/2 + tiny
        // e^r by its Taylor polynomial of degree 7 (truncation < 6e-9 relative on |r| ≤ 0.347), Horner form.
        float p = 1f / 5040f;
        p = MathF.FusedMultiplyAdd(p, r, 1f / 720f);
        p = MathF.FusedMultiplyAdd(p, r, 1f / 120f);
        p = MathF.FusedMultiplyAdd(p, r, 1f / 24f);
        p = MathF.FusedMultiplyAdd(p, r, 1f / 6f);
        p = MathF.FusedMultiplyAdd(p, r, 0.5f);
        p = MathF.FusedMultiplyAdd(p, r, 1f);
        p = MathF.FusedMultiplyAdd(p, r, 1f);
        // Scale by 2^n in two exact halves so that both factors are normal floats even when the
        // result is subnormal (n down to −150); the second multiply rounds once.
        int ni = (int)n;                  // NaN converts to 0; p is NaN then anyway
        int half = ni >> 1;
        float result = p * PowerOfTwo(half) * PowerOfTwo(ni - half);
        return result < MinNormal ? 0f : result;
    }

    /// <summary>2^k for k in [−126, 127], built from the exponent bits.</summary>
    static float PowerOfTwo(int k) => BitConverter.Int32BitsToSingle((k + 127) << 23);

    // tanh Taylor coefficients: tanh x = x + x·Σ_{k≥1} c_k x^{2k}. On |x| < 0.5 the terms after c8 are
    // below 1e-9 relative.
    const float T1 = -1f / 3f;
    const float T2 = 2f / 15f;
    const float T3 = -17f / 315f;
    const float T4 = 62f / 2835f;
    const float T5 = -1382f / 155925f;
    const float T6 = 21844f / 6081075f;
    const float T7 = -929569f / 638512875f;
    const float T8 = 6404582f / 10854718875f;
    const float TanhSeriesLimit = 0.5f;

    /// <summary>
    /// tanh for float32: an odd Taylor polynomial for |x| &lt; 0.5, else 1 − 2/(e^{2|x|} + 1) with the sign
    /// of x. tanh(±0) = ±0, tanh(±Inf) = ±1, tanh(NaN) = NaN.
    /// </summary>
    public static float Tanh(float x)
    {
        // Work on |x| and restore the sign last: tanh is odd, and this keeps tanh(−0) = −0.
        float a = MathF.Abs(x);
        float t;
        if (a < TanhSeriesLimit)
        {
            float a2 = a * a;
            float q = T8;
            q = MathF.FusedMultiplyAdd(q, a2, T7);
            q = MathF.FusedMultiplyAdd(q, a2, T6);
            q = MathF.FusedMultiplyAdd(q, a2, T5);
            q = MathF.FusedMultiplyAdd(q, a2, T4);
            q = MathF.FusedMultiplyAdd(q, a2, T3);
            q = MathF.FusedMultiplyAdd(q, a2, T2);
            q = MathF.FusedMultiplyAdd(q, a2, T1);
            t = MathF.FusedMultiplyAdd(a * a2, q, a);
        }
        else
        {
            float e = Exp(2f * a);
            t = 1f - 2f / (e + 1f);
        }
        return MathF.CopySign(t, x);
    }

    /// <summary>
    /// Logistic sigmoid: with e = e^{−|x|}, 1/(1 + e) for x ≥ 0 and e/(1 + e) for x &lt; 0, so e never overflows
    /// and tiny results (x below −87) keep their relative accuracy. σ(−Inf) = 0, σ(+Inf) = 1, σ(NaN) = NaN.
    /// </summary>
    public static float Sigmoid(float x)
    {
        float e = Exp(-MathF.Abs(x));
        return x >= 0f ? 1f / (1f + e) : e / (1f + e);
    }

    /// <summary>The smallest normal float, 2^−126; below it (in magnitude) are the subnormals.</summary>
    public const float MinNormal = 1.17549435e-38f;

    /// <summary>
    /// ±0 (x's sign) when x is subnormal, else x itself (zeros, normals, ±Inf and NaN unchanged). The optimizer steps
    /// store their results through it, so no parameter or optimizer state is ever subnormal: arithmetic on subnormals
    /// takes a slow path on x86 cores, and a decaying state (β·m with a zero gradient) otherwise sticks in the
    /// subnormals for good, because β times the smallest ones rounds back to themselves.
    /// </summary>
    public static float FlushSubnormal(float x) => MathF.Abs(x) < MinNormal ? MathF.CopySign(0f, x) : x;

    /// <summary>max(x, 0) with NaN propagated (MathF.Max semantics; ReLU(−0) = +0).</summary>
    public static float Relu(float x) => MathF.Max(x, 0f);
}
