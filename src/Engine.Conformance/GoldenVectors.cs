using Engine.Data;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Nn;
using Engine.Numerics;
using Engine.Serialization;
using Engine.Training;

namespace Engine.Conformance;

/// <summary>
/// Golden vectors: documented input/output cases computed by the reference backend, written as .npz files plus
/// a manifest.json, so that other implementations (NumPy, C, GPU kernels, another port of this engine) can check
/// themselves against this engine — bit for bit when they follow the numerics contract, within the stated
/// tolerance otherwise. The output is deterministic: the same bytes on every run (inputs come from seeded
/// SplitMix64 streams or are literal, zip members carry a fixed timestamp, NaNs are stored as one canonical
/// pattern, and only the loss's log comes from the C library). conformance/README.md documents the format;
/// conformance/v2 is the set (v1, before exp's flush below 2^−126, is kept unchanged as a record).
/// </summary>
public static class GoldenVectors
{
    internal const string Format = "engine-conformance-vectors";
    internal const int Version = 2;
    internal const string ManifestFile = "manifest.json";

    /// <summary>GEMM shapes (M, N, K): op(A) is M×K, op(B) is K×N, C is M×N.</summary>
    internal static IReadOnlyList<(int M, int N, int K)> GemmShapes { get; } =
        [(1, 1, 1), (7, 5, 3), (17, 33, 65), (31, 10, 128), (64, 129, 257)];

    /// <summary>The stored NaN: the positive quiet NaN with no payload.</summary>
    internal const uint CanonicalNaNBits = 0x7FC00000;

    static readonly ReferenceKernels R = ReferenceKernels.Instance;

    /// <summary>u = 2^-24, the unit roundoff of float32 (round to nearest).</summary>
    const double UnitRoundoff = 1.0 / (1 << 24);

    /// <summary>
    /// Writes every case's .npz and manifest.json into <paramref name="dir"/> (created if missing; existing files
    /// of the same names are replaced atomically). Returns the file names written, in order, manifest last.
    /// </summary>
    public static IReadOnlyList<string> Export(string dir)
    {
        Directory.CreateDirectory(dir);
        var (files, cases) = Build();
        var written = new List<string>();
        var fileList = new JsonArray();
        foreach (var file in files)
        {
            string path = Path.Combine(dir, file.Name);
            Npz.Write(path, file.Arrays);
            byte[] bytes = File.ReadAllBytes(path);
            fileList.Add(new JsonObject
            {
                ["file"] = file.Name,
                ["bytes"] = bytes.Length,
                ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes)),
                ["arrays"] = ManifestJson.Array(file.Arrays.Select(a => (JsonNode?)JsonValue.Create(a.Name))),
            });
            written.Add(file.Name);
        }
        var manifest = new JsonObject
        {
            ["format"] = Format,
            ["version"] = Version,
            ["generator"] = "Engine.Conformance.GoldenVectors.Export: every expected value computed by the engine's reference backend "
                + "(ReferenceKernels, the specification); regenerate with 'engine conformance export DIR'",
            ["documentation"] = "conformance/README.md in the engine's repository",
            ["conventions"] = Conventions(),
            ["files"] = fileList,
            ["cases"] = cases,
        };
        byte[] json = Encoding.UTF8.GetBytes(ManifestJson.Write(manifest));
        AtomicFile.Write(Path.Combine(dir, ManifestFile), s => s.Write(json));
        written.Add(ManifestFile);
        return written;
    }

    /// <summary>The .npz contents, in writing order, and the manifest's cases.</summary>
    internal static (List<NpzContent> Files, JsonArray Cases) Build()
    {
        var files = new List<NpzContent>();
        var cases = new JsonArray();
        for (int s = 0; s < GemmShapes.Count; s++)
        {
            var (m, n, k) = GemmShapes[s];
            cases.Add(Gemm(files, m, n, k, seed: 0x6E00UL + (ulong)s));
        }
        foreach (var c in Activations(files)) cases.Add(c);
        foreach (var c in SoftmaxCrossEntropy(files)) cases.Add(c);
        cases.Add(SgdStep(files));
        return (files, cases);
    }

    static JsonObject Conventions() => new()
    {
        ["dtype"] = "every array is float32, little-endian ('<f4'); labels are stored as float32 holding small integers and are used as integers",
        ["layout"] = "row-major (C order), no padding: element [r, c] of an (R, C) array is at offset r*C + c",
        ["container"] = ".npz: a zip of <array>.npy members (NPY format 1.0), stored uncompressed; numpy.load reads it",
        ["nan"] = "NaN is stored as 0x7FC00000; NaN signs and payloads are not part of the contract, so a NaN result matches any NaN",
        ["arithmetic"] = "float32 throughout unless a case says otherwise; every + - * / is one IEEE 754 operation rounded to nearest even; subnormals are kept (no flush to zero), except that exp (and so sigmoid and softmax) gives +0 below 2^-126: for x < -87.3365478515625 and for any computed result below the smallest normal",
        ["fma"] = "fma(a, b, c) is a*b + c rounded once to float32 (C fmaf, .NET MathF.FusedMultiplyAdd)",
        ["exp_tanh_sigmoid"] = "the engine's own float32 functions (src/Engine/Kernels/Reference/ScalarMath.cs, algorithm in conformance/README.md), not the C library's",
        ["log"] = "the cross-entropy's log is the platform's float32 log (.NET MathF.Log, glibc logf when these files were made); the contract does not fix its last bit, so loss values are not exact_for_contract",
        ["comparison"] = "exact_for_contract true: an implementation that follows the numerics contract must give the same float32 bit patterns (any NaN matches any NaN). "
            + "Every implementation passes with: |got - expected| <= tolerance_abs + tolerance_rel*|expected| element by element, or, where ulps is given, "
            + "got is at most ulps representable float32 values away from expected (+0 and -0 are 0 apart); either way NaN matches only NaN and an infinity only itself",
        ["tolerance_override"] = "an expected array with its own tolerance uses it instead of its case's",
        ["random_inputs"] = "inputs drawn from SplitMix64 (Steele, Lea, Flood 2014) with the given seed: u = (next() >> 40) * 2^-24, value = (2u - 1) * scale; they are stored, so nobody needs to regenerate them",
    };

    // ---- GEMM ------------------------------------------------------------------------------------

    static JsonObject Gemm(List<NpzContent> files, int m, int n, int k, ulong seed)
    {
        var rng = new SplitMix64(seed);
        float[] a = Uniform(ref rng, m * k, 1f), b = Uniform(ref rng, k * n, 1f), cIn = Uniform(ref rng, m * n, 1f);
        float[] c = GemmAllLayouts(a, b, null, m, n, k);
        float[] cAcc = GemmAllLayouts(a, b, cIn, m, n, k);

        var file = new NpzContent($"gemm_{m}x{n}x{k}.npz");
        file.Add("A", [m, k], a);
        file.Add("B", [k, n], b);
        file.Add("C_in", [m, n], cIn);
        file.Add("C", [m, n], c);
        file.Add("C_acc", [m, n], cAcc);
        files.Add(file);

        // Error bound for any evaluation order: |computed − exact| ≤ γ_{K+1}·(|C_in| + Σ|a·b|); expected and
        // got may each be off by it, hence the factor 2. Products of floats are exact in double, and K ≤ 257
        // terms of double sums are exact to ~2^-45 relative: "exact" below means float64.
        double gamma = (k + 1) * UnitRoundoff / (1 - (k + 1) * UnitRoundoff);
        double bound = 0, observed = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double exact = 0, magnitude = 0;
                for (int p = 0; p < k; p++)
                {
                    double prod = (double)a[i * k + p] * b[p * n + j];
                    exact += prod;
                    magnitude += Math.Abs(prod);
                }
                bound = Math.Max(bound, 2 * gamma * (magnitude + Math.Abs(cIn[i * n + j])));
                observed = Math.Max(observed, Math.Abs(c[i * n + j] - exact));
                observed = Math.Max(observed, Math.Abs(cAcc[i * n + j] - (exact + cIn[i * n + j])));
            }

        var variants = new JsonArray();
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                foreach (bool acc in new[] { false, true })
                    variants.Add(new JsonObject
                    {
                        ["trans_a"] = ta,
                        ["trans_b"] = tb,
                        ["accumulate"] = acc,
                        ["a"] = ta ? "transpose(A), stored (K, M)" : "A",
                        ["b"] = tb ? "transpose(B), stored (N, K)" : "B",
                        ["c_in"] = acc ? "C_in" : null,
                        ["expected"] = acc ? "C_acc" : "C",
                    });

        return new CaseBuilder($"gemm_{m}x{n}x{k}", file, "gemm",
                $"C = op(A)*op(B), or C = C_in + op(A)*op(B) when accumulating, with M={m}, N={n}, K={k}. "
                + "Each element: acc = (accumulate ? C_in[i,j] : +0.0); for k = 0, 1, ..., K-1 in this order: acc = fma(op(A)[i,k], op(B)[k,j], acc); C[i,j] = acc. "
                + "op(X) is X, or X transposed when trans is true: the operand passed is then transpose(A) stored row-major as (K, M), i.e. numpy.ascontiguousarray(A.T), and likewise (N, K) for B. "
                + "A and B hold op(A) and op(B), so the expected result is the same for all four transposes: a transpose changes the memory layout, never the fma sequence.")
            .Parameter("m", m).Parameter("n", n).Parameter("k", k).Parameter("seed", seed)
            .Variants(variants)
            .Input("A", "op(A), (M, K); uniform in [-1, 1)")
            .Input("B", "op(B), (K, N); uniform in [-1, 1)")
            .Input("C_in", "the C given when accumulating, (M, N); uniform in [-1, 1)")
            .Expected("C", "op(A)*op(B), fma chain from +0")
            .Expected("C_acc", "C_in + op(A)*op(B), fma chain from C_in")
            .Tolerance(new Tolerance(true, Tolerance.RoundUp(bound), 0, null,
                "bitwise for the contract's fma order. Otherwise the rounding-error bound of any float32 evaluation order, with or without fma: "
                + "|computed - exact| <= gamma_(K+1) * (|C_in| + sum_k |A[i,k]*B[k,j]|), gamma_n = n*u/(1 - n*u), u = 2^-24; "
                + "tolerance_abs is twice its largest value over this case's elements (expected and got may each be off by it), rounded up")
            {
                Observed = observed,
            })
            .ToJson();
    }

    /// <summary>
    /// The reference GEMM of op(A)·op(B) (+C_in) for all four transposes; A and B hold op(A) and op(B). The four
    /// results must be bitwise equal (a transpose changes only where an operand's elements live).
    /// </summary>
    static float[] GemmAllLayouts(float[] a, float[] b, float[]? cIn, int m, int n, int k)
    {
        float[]? first = null;
        foreach (var ta in new[] { Transpose.No, Transpose.Yes })
            foreach (var tb in new[] { Transpose.No, Transpose.Yes })
            {
                float[] c = cIn is null ? new float[m * n] : (float[])cIn.Clone();
                var av = ta == Transpose.No ? new ReadOnlyMatrixView(a, m, k) : new ReadOnlyMatrixView(Transposed(a, m, k), k, m);
                var bv = tb == Transpose.No ? new ReadOnlyMatrixView(b, k, n) : new ReadOnlyMatrixView(Transposed(b, k, n), n, k);
                R.Gemm(ta, tb, av, bv, new MatrixView(c, m, n), accumulate: cIn is not null);
                if (first is null) first = c;
                else if (!BitwiseEqual(first, c))
                    throw new InvalidOperationException($"reference GEMM {m}x{n}x{k} with transposes {ta}/{tb} differs from the untransposed product");
            }
        return first!;
    }

    /// <summary>The transpose of a rows×cols row-major matrix, as a cols×rows row-major matrix.</summary>
    internal static float[] Transposed(float[] x, int rows, int cols)
    {
        var t = new float[x.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) t[c * rows + r] = x[r * cols + c];
        return t;
    }

    // ---- activations ---------------------------------------------------------------------------

    /// <summary>Number of activation inputs: the edge values, then seeded values up to this count (7 rows of 73).</summary>
    internal const int ActivationCount = 511;

    /// <summary>
    /// The edge values at the start of the activation sweep: signed zeros, subnormals, the smallest normal, tiny
    /// values, the tanh series boundary (0.5), exp's overflow threshold and clamps, large values, float max, ±Inf, NaN.
    /// </summary>
    internal static IReadOnlyList<float> ActivationEdges { get; } =
    [
        0f, -0f, float.Epsilon, -float.Epsilon, 1e-40f, -1e-40f, 1.1754942e-38f, -1.1754942e-38f, 1.17549435e-38f, -1.17549435e-38f,
        1e-30f, -1e-30f, 1e-8f, -1e-8f, 1e-4f, -1e-4f, 0.49999997f, -0.49999997f, 0.5f, -0.5f, 0.50000006f, -0.50000006f,
        1f, -1f, 2f, -2f, 9f, -9f, 10f, -10f, 20f, -20f, 44.36142f, -44.36142f, 88.7f, -88.7f, 88.72283f, -88.72284f, 89f, -89f,
        -87.3f, -103.9f, -104f, -200f, 1e30f, -1e30f, float.MaxValue, -float.MaxValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN,
    ];

    static IEnumerable<JsonObject> Activations(List<NpzContent> files)
    {
        const ulong seed = 0xAC7UL;
        var rng = new SplitMix64(seed);
        var x = new float[ActivationCount];
        for (int i = 0; i < ActivationEdges.Count; i++) x[i] = ActivationEdges[i];
        for (int i = ActivationEdges.Count; i < x.Length; i++)
        {
            // Alternately uniform in [-12, 12) and log-uniform magnitudes 2^-30 .. 2^7 with a random sign,
            // built from bits (no C library): exponent e in [-30, 6], 23 random mantissa bits.
            if (i % 2 == 0) x[i] = (2f * rng.NextFloat() - 1f) * 12f;
            else
            {
                ulong r = rng.NextUInt64();
                int e = (int)(r % 37) - 30;
                uint bits = (uint)((r >> 8) & 0x7FFFFF) | (uint)(e + 127) << 23 | (uint)((r >> 40) & 1) << 31;
                x[i] = BitConverter.UInt32BitsToSingle(bits);
            }
        }
        // Upstream gradients: uniform in [-2, 2), finite.
        float[] g = Uniform(ref rng, ActivationCount, 2f);

        var file = new NpzContent("activations.npz");
        file.Add("x", [ActivationCount], x);
        file.Add("g", [ActivationCount], g);
        foreach (var act in new[] { Activation.Tanh, Activation.Relu, Activation.Sigmoid })
        {
            float[] a = (float[])x.Clone();
            R.ActivationForward(act, new MatrixView(a, 1, a.Length));
            float[] grad = (float[])g.Clone();
            R.ActivationBackward(act, new ReadOnlyMatrixView(a, 1, a.Length), new MatrixView(grad, 1, grad.Length));
            file.Add(act.Name(), [ActivationCount], a);
            file.Add(act.Name() + "_backward", [ActivationCount], grad);
        }
        files.Add(file);

        string edges = $"x[0..{ActivationEdges.Count - 1}] are the edge values in this order: "
            + string.Join(", ", ActivationEdges.Select(v => float.IsNaN(v) ? "NaN" : v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))
            + $"; x[{ActivationEdges.Count}..] alternate uniform in [-12, 12) and random-signed log-uniform magnitudes 2^-30 .. 2^7";

        var exactValue = new Tolerance(true, 0, 0, null, "exact in any implementation; compared as values, so relu(-0) may be +0 or -0 (the engine gives +0)");
        var functionUlps = new Tolerance(true, 0, 0, 4,
            "the engine's function is within 3 ulp of the exact value (tested over every 64th float32), so an implementation within 1 ulp of exact is within 4 ulp of these");
        // Backward: the formulas differ only in rounding, |g| < 2: 1 - a*a without fma loses up to u absolutely
        // (times |g| < 2: 2.4e-7); products and 1 - a round each by at most u relative (about 4u in all).
        var backward = new Tolerance(true, 2.5e-7, 5e-7, null,
            "bitwise for the contract's formula; otherwise any float32 evaluation of the same derivative: "
            + "1 - a*a without fma errs by up to 2^-24 absolutely (times |g| < 2), each product or difference by 2^-24 relative");

        yield return Forward("tanh", "a = tanh(x), elementwise, the engine's tanh (conformance/README.md)", functionUlps);
        yield return Backward("tanh", "d = g * fma(-a, a, 1), i.e. g * (1 - a^2) with 1 - a*a rounded once, where a = tanh(x) is given", backward);
        yield return Forward("relu", "a = max(x, 0), elementwise; relu(-0) = +0, relu(NaN) = NaN", exactValue);
        yield return Backward("relu", "d = (a > 0 ? g : 0), elementwise, where a = relu(x) is given (a NaN a gives 0)", exactValue);
        // Not in ulps: where the engine's exp flushes (sigmoid below 2^-126 is +0), an implementation without the flush
        // is many ulps away but less than 2^-126 apart; 4.8e-7 relative is 4 ulps at the bottom of a binade.
        var sigmoidValues = new Tolerance(true, ScalarMath.MinNormal, 4.8e-7, null,
            "the engine's function is within 3 ulp of the exact value where that is at least 2^-126, and +0 below (exp's flush), so an implementation within 1 ulp of exact (with or without the flush) is within these");
        yield return Forward("sigmoid", "a = sigmoid(x) = 1/(1 + e^-x), elementwise: with e = exp(-|x|), a = 1/(1 + e) for x >= 0, else e/(1 + e); the engine's exp (+0 below 2^-126)", sigmoidValues);
        yield return Backward("sigmoid", "d = g * (a * (1 - a)), rounded in that order: t = 1 - a; t = a*t; d = g*t; where a = sigmoid(x) is given", backward);

        JsonObject Forward(string name, string computes, Tolerance tolerance) =>
            new CaseBuilder($"activation_{name}_forward", file, "activation_forward", computes)
                .Parameter("activation", name).Parameter("seed", seed).Parameter("inputs", edges)
                .Input("x", "inputs")
                .Expected(name, $"{name}(x)")
                .Tolerance(tolerance)
                .ToJson();

        JsonObject Backward(string name, string computes, Tolerance tolerance) =>
            new CaseBuilder($"activation_{name}_backward", file, "activation_backward", computes + " (derivative in terms of the output a, as the engine's backward pass has it)")
                .Parameter("activation", name)
                .Input(name, $"a = {name}(x), the forward case's expected output")
                .Input("g", "upstream gradient dL/da, uniform in [-2, 2)")
                .Expected(name + "_backward", $"dL/dx = g * {name}'(x)")
                .Tolerance(tolerance)
                .ToJson();
    }

    // ---- softmax and cross-entropy -------------------------------------------------------------

    const int SoftmaxClasses = 10;

    static IEnumerable<JsonObject> SoftmaxCrossEntropy(List<NpzContent> files)
    {
        const ulong seed = 0x50F7UL;
        var rng = new SplitMix64(seed);
        const float max = float.MaxValue;
        float[][] rows =
        [
            Uniform(ref rng, SoftmaxClasses, 4f),                                    // ordinary logits
            Uniform(ref rng, SoftmaxClasses, 12f),                                   // wider spread
            [0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f],            // all equal: p = fl(1/10)
            [0f, -50f, -100f, -150f, -200f, 10f, 20f, -1000f, 5f, -3e38f],           // most p underflow to 0
            [1000f, 999.5f, 998f, 990f, 900f, 0f, -1000f, 999f, 1000f, 995f],        // e^1000 overflows without the max shift
            [max, 1e30f, -1e30f, -max, 88.7f, 89f, 100f, 1e38f, 0f, -0f],             // float max: z - max overflows to -Inf for -max; p = 1, 0, ...
            [1e30f, 1e30f, 0f, -1f, 1f, 2f, -2f, 3f, -3f, 1e29f],                     // two equal huge maxima: p = 0.5, 0.5
        ];
        int[] labels = [3, 7, 9, 2, 1, 0, 1];
        int batch = rows.Length;
        float[] logits = rows.SelectMany(r => r).ToArray();
        float[] p = new float[logits.Length];
        var lv = new ReadOnlyMatrixView(logits, batch, SoftmaxClasses);
        double lossSum = R.SoftmaxCrossEntropy(lv, labels, new MatrixView(p, batch, SoftmaxClasses));
        float[] rowLoss = RowLosses(logits, labels, batch, SoftmaxClasses, lossSum);
        float scale = 1f / batch;
        float[] d = new float[logits.Length];
        R.SoftmaxCrossEntropyBackward(new ReadOnlyMatrixView(p, batch, SoftmaxClasses), labels, scale, new MatrixView(d, batch, SoftmaxClasses));

        var file = new NpzContent("softmax_cross_entropy.npz");
        file.Add("logits", [batch, SoftmaxClasses], logits);
        file.Add("labels", [batch], labels.Select(l => (float)l).ToArray());
        file.Add("probabilities", [batch, SoftmaxClasses], p);
        file.Add("row_loss", [batch], rowLoss);
        file.Add("dlogits", [batch, SoftmaxClasses], d);
        files.Add(file);

        string rowsDoc = "rows: 0-1 seeded uniform logits in [-4, 4) and [-12, 12); 2 all equal; 3 a spread where most probabilities underflow to 0 (the label's too); "
            + "4 logits near 1000 (e^1000 overflows without the max shift); 5 float max, +-1e30, -float max (z - max overflows to -Inf, exp gives 0); 6 two equal maxima 1e30";

        yield return new CaseBuilder("softmax", file, "softmax",
                "row by row: m = max_j z[j] (float32 max); e[j] = exp(z[j] - m) (subtraction rounded, then the engine's exp); "
                + "s = e[0] + e[1] + ... + e[n-1] added left to right in float32 from +0; p[j] = e[j] / s (a true division, not a multiplication by 1/s)")
            .Parameter("seed", seed).Parameter("rows", rowsDoc)
            .Input("logits", "z, (batch, classes)")
            .Expected("probabilities", "softmax(z) per row")
            .Tolerance(new Tolerance(true, 1e-7, 2e-6, null,
                "bitwise for the contract's order; otherwise float32 softmax with the max shift: exp within 2 ulp, the sum of 10 terms within about 9u relative, "
                + "the shifted logit's rounding within |z - m|*u relative, which is below 1e-7 absolutely after multiplying by p <= e^(z-m)"))
            .ToJson();

        yield return new CaseBuilder("cross_entropy", file, "cross_entropy",
                "row loss = fl(log(s)) - fl(z[y] - m) in float32, with m and s as in the softmax case and log the platform's float32 log "
                + "(-log p[y] computed this way stays exact when p[y] underflows); loss_sum = the row losses converted to float64 and added in row order from 0 "
                + "(the engine's per-batch summed cross-entropy; the batch mean is loss_sum / batch)")
            .Parameter("labels", ManifestJson.Ints(labels))
            .Input("logits", "z, (batch, classes)")
            .Input("labels", "y, (batch,): class indices as float32")
            .Expected("row_loss", "cross-entropy of each row, float32")
            .Scalar("loss_sum", ManifestJson.Float64(lossSum), "sum of row_loss in float64, row order", LossSumTolerance(batch))
            .Tolerance(LossTolerance)
            .ToJson();

        yield return new CaseBuilder("softmax_cross_entropy_backward", file, "softmax_cross_entropy_backward",
                "dlogits[i, j] = (j == y_i ? p[i, j] - 1 : p[i, j]) * scale, each step rounded, with scale = fl(1/batch) computed once in float32 "
                + "(the gradient of the batch-mean cross-entropy)")
            .Parameter("scale", ManifestJson.Float32(scale)).Parameter("batch", batch)
            .Input("probabilities", "p, the softmax case's expected output")
            .Input("labels", "y, (batch,): class indices as float32")
            .Expected("dlogits", "(p - onehot(y)) * scale")
            .Tolerance(new Tolerance(true, 2e-8, 3e-7, null,
                "bitwise for the contract; otherwise (p - onehot)/batch in float32 in any order: p - 1 rounds by up to 2^-25 absolutely (times 1/batch), "
                + "the scaling by a few u relative"))
            .ToJson();
    }

    /// <summary>Per-row cross-entropy: not fixed by the contract, because log is the platform's.</summary>
    static readonly Tolerance LossTolerance = new(false, 2e-6, 1e-6, null,
        "log is not fixed by the contract (bitwise only with the same float32 log as the generator's). log(s) for s in [1, classes] is at most 2.3, "
        + "so a different softmax sum (about 9u relative) or a log off by 1 ulp moves a row by under 2e-6; z[y] - m rounds by u relative");

    /// <summary>The batch sum of the row losses: each row may be off by the row tolerance.</summary>
    static Tolerance LossSumTolerance(int batch) => new(false, batch * LossTolerance.Abs, LossTolerance.Rel, null,
        "the row tolerance summed over the batch: tolerance_abs = batch * 2e-6");

    /// <summary>Each row's cross-entropy as the reference computes it (one row at a time); checks that adding
    /// them in row order in double gives the whole batch's sum bit for bit.</summary>
    static float[] RowLosses(float[] logits, int[] labels, int rows, int cols, double batchSum)
    {
        var result = new float[rows];
        var scratch = new float[cols];
        double sum = 0;
        for (int i = 0; i < rows; i++)
        {
            double term = R.SoftmaxCrossEntropy(new ReadOnlyMatrixView(logits.AsSpan(i * cols, cols), 1, cols), labels.AsSpan(i, 1),
                new MatrixView(scratch, 1, cols));
            result[i] = (float)term;
            if (result[i] != term) throw new InvalidOperationException($"row {i}: the cross-entropy term {term} is not a float32");
            sum += term;
        }
        if (BitConverter.DoubleToInt64Bits(sum) != BitConverter.DoubleToInt64Bits(batchSum))
            throw new InvalidOperationException($"the row losses add up to {sum:R}, the batch gave {batchSum:R}");
        return result;
    }

    // ---- one SGD step --------------------------------------------------------------------------

    internal static IReadOnlyList<int> SgdWidths { get; } = [12, 8, 5];
    internal const int SgdBatch = 6;
    internal const float SgdLearningRate = 0.1f;
    internal const float SgdL2 = 1e-3f;
    internal static IReadOnlyList<int> SgdLabels { get; } = [3, 0, 4, 1, 2, 1];

    static JsonObject SgdStep(List<NpzContent> files)
    {
        const ulong seed = 0x56D1UL;
        int d = SgdWidths[0], h = SgdWidths[1], classes = SgdWidths[2], batch = SgdBatch;
        var net = new Network(d, [h], classes, Activation.Tanh);
        net.InitializeWeights(seed);
        var rng = new SplitMix64(seed);
        foreach (var layer in net.Layers)
        {
            Span<float> bias = layer.Bias(net.Parameters);
            for (int j = 0; j < bias.Length; j++) bias[j] = (2f * rng.NextFloat() - 1f) * 0.1f;
        }
        float[] x = Uniform(ref rng, batch * d, 1f);
        int[] labels = SgdLabels.ToArray();
        float[] initial = (float[])net.Parameters.Clone();
        DenseLayer l1 = net.Layers[0], l2 = net.Layers[1];

        var xv = new ReadOnlyMatrixView(x, batch, d);
        var ws = new Workspace(net, batch);
        double loss = net.Forward(R, xv, labels, ws);
        float[] a1 = ws.Activation(0, batch).Data.ToArray();
        float[] logits = ws.Activation(1, batch).Data.ToArray();
        float[] p = ws.Probabilities(batch).Data.ToArray();
        net.Backward(R, xv, labels, ws);
        float[] dlogits = ws.Delta(1, batch).Data.ToArray();
        float[] dz1 = ws.Delta(0, batch).Data.ToArray();
        float[] grads = (float[])ws.Gradients.Clone();

        // Intermediates the workspace does not keep: z1 (overwritten by tanh) and dL/da1 (overwritten by dz1),
        // recomputed with the same kernel calls DenseLayer makes.
        float[] z1 = new float[batch * h];
        R.Gemm(Transpose.No, Transpose.No, xv, l1.Weights(initial), new MatrixView(z1, batch, h), accumulate: false);
        R.AddBiasToRows(new MatrixView(z1, batch, h), l1.Bias(initial));
        float[] da1 = new float[batch * h];
        R.Gemm(Transpose.No, Transpose.Yes, new ReadOnlyMatrixView(dlogits, batch, classes), l2.Weights(initial), new MatrixView(da1, batch, h), accumulate: false);
        float[] rowLoss = RowLosses(logits, labels, batch, classes, loss);

        // The update through the trainer itself.
        var options = new TrainingOptions(Epochs: 1, BatchSize: batch, LearningRate: SgdLearningRate, L2: SgdL2, Seed: seed, Shuffle: false);
        double stepLoss = new Trainer(net, R, options).Step(xv, labels).LossSum;
        if (BitConverter.DoubleToInt64Bits(stepLoss) != BitConverter.DoubleToInt64Bits(loss))
            throw new InvalidOperationException($"Trainer.Step reported loss {stepLoss:R}, the forward pass {loss:R}");
        float[] updated = net.Parameters;

        var file = new NpzContent("sgd_step_12-8-5_tanh.npz");
        file.Add("x", [batch, d], x);
        file.Add("labels", [batch], labels.Select(l => (float)l).ToArray());
        file.Add("W1", [d, h], Slice(initial, l1.WeightOffset, l1.WeightCount));
        file.Add("b1", [h], Slice(initial, l1.BiasOffset, h));
        file.Add("W2", [h, classes], Slice(initial, l2.WeightOffset, l2.WeightCount));
        file.Add("b2", [classes], Slice(initial, l2.BiasOffset, classes));
        file.Add("z1", [batch, h], z1);
        file.Add("a1", [batch, h], a1);
        file.Add("logits", [batch, classes], logits);
        file.Add("probabilities", [batch, classes], p);
        file.Add("row_loss", [batch], rowLoss);
        file.Add("dlogits", [batch, classes], dlogits);
        file.Add("dW2", [h, classes], Slice(grads, l2.WeightOffset, l2.WeightCount));
        file.Add("db2", [classes], Slice(grads, l2.BiasOffset, classes));
        file.Add("da1", [batch, h], da1);
        file.Add("dz1", [batch, h], dz1);
        file.Add("dW1", [d, h], Slice(grads, l1.WeightOffset, l1.WeightCount));
        file.Add("db1", [h], Slice(grads, l1.BiasOffset, h));
        file.Add("W1_new", [d, h], Slice(updated, l1.WeightOffset, l1.WeightCount));
        file.Add("b1_new", [h], Slice(updated, l1.BiasOffset, h));
        file.Add("W2_new", [h, classes], Slice(updated, l2.WeightOffset, l2.WeightCount));
        file.Add("b2_new", [classes], Slice(updated, l2.BiasOffset, classes));
        files.Add(file);

        return new CaseBuilder("sgd_step_12-8-5_tanh", file, "sgd_step",
                "one mini-batch SGD step of a 12-8-5 network (tanh hidden layer, linear logits, softmax cross-entropy, L2 on weights only): "
                + "forward, backward of the batch-mean cross-entropy, update; every GEMM, activation and softmax follows the cases above")
            .Parameter("widths", ManifestJson.Ints(SgdWidths)).Parameter("hidden_activation", "tanh").Parameter("batch", batch)
            .Parameter("learning_rate", ManifestJson.Float32(SgdLearningRate)).Parameter("l2", ManifestJson.Float32(SgdL2))
            .Parameter("scale", ManifestJson.Float32(1f / batch)).Parameter("labels", ManifestJson.Ints(labels)).Parameter("seed", seed)
            .Parameter("steps", ManifestJson.Array(new[]
            {
                "z1 = x*W1 (gemm, no transposes, from +0), then z1[i,j] = z1[i,j] + b1[j] (a separate float32 add)",
                "a1 = tanh(z1)",
                "logits = a1*W2 (gemm), then logits[i,j] = logits[i,j] + b2[j]",
                "probabilities = softmax(logits); row_loss and loss_sum as in the cross_entropy case",
                "dlogits = (probabilities - onehot(labels)) * scale, scale = fl(1/batch)",
                "dW2 = transpose(a1)*dlogits (gemm, fma over the batch rows 0..B-1 in order); db2[j] = sum over rows i = 0..B-1 in order of dlogits[i,j], float32 from +0",
                "da1 = dlogits*transpose(W2) (gemm, fma over the classes in order)",
                "dz1 = da1 * fma(-a1, a1, 1) (the tanh backward case)",
                "dW1 = transpose(x)*dz1 (gemm); db1 = column sums of dz1 in row order",
                "W_new = fma(-lr, fma(l2, W, dW), W) for W1, W2; b_new = fma(-lr, fma(0, b, db), b) for b1, b2 (no L2 on biases), lr and l2 float32",
            }.Select(s => (JsonNode?)JsonValue.Create(s))))
            .Input("x", "inputs, (batch, 12), uniform in [-1, 1)")
            .Input("labels", "class indices as float32, (batch,)")
            .Input("W1", "initial weights, (12, 8) = (fan_in, fan_out), Glorot uniform")
            .Input("b1", "initial biases, (8,), uniform in [-0.1, 0.1)")
            .Input("W2", "initial weights, (8, 5)")
            .Input("b2", "initial biases, (5,)")
            .Expected("z1", "hidden pre-activation x*W1 + b1")
            .Expected("a1", "hidden activation tanh(z1)")
            .Expected("logits", "a1*W2 + b2")
            .Expected("probabilities", "softmax(logits)")
            .Expected("row_loss", "cross-entropy of each example", LossTolerance)
            .Scalar("loss_sum", ManifestJson.Float64(loss), "per-batch summed cross-entropy (float64, row order); the reported mean is loss_sum / batch", LossSumTolerance(batch))
            .Expected("dlogits", "dL/dlogits of the batch-mean loss")
            .Expected("dW2", "dL/dW2, (8, 5)")
            .Expected("db2", "dL/db2, (5,)")
            .Expected("da1", "dL/da1 = dlogits*transpose(W2)")
            .Expected("dz1", "dL/dz1 = da1 * (1 - a1^2)")
            .Expected("dW1", "dL/dW1, (12, 8)")
            .Expected("db1", "dL/db1, (8,)")
            .Expected("W1_new", "W1 after the step")
            .Expected("b1_new", "b1 after the step")
            .Expected("W2_new", "W2 after the step")
            .Expected("b2_new", "b2 after the step")
            .Tolerance(new Tolerance(true, SgdToleranceAbs, SgdToleranceRel, null,
                "bitwise for the contract; otherwise an implementation of the same step in float32 (any GEMM order, any accurate tanh/exp) or in float64: "
                + "a float64 computation of this step, rounded to float32, stays within a tenth of these (checked by the engine's tests)"))
            .ToJson();
    }

    internal const double SgdToleranceAbs = 1e-6;
    internal const double SgdToleranceRel = 1e-5;

    // ---- helpers --------------------------------------------------------------------------------

    static float[] Slice(float[] x, int offset, int count) => x.AsSpan(offset, count).ToArray();

    /// <summary>n values (2u − 1)·scale, u = SplitMix64.NextFloat() in [0, 1).</summary>
    static float[] Uniform(ref SplitMix64 rng, int n, float scale)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (2f * rng.NextFloat() - 1f) * scale;
        return x;
    }

    static bool BitwiseEqual(float[] a, float[] b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
            if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i])) return false;
        return true;
    }
}

/// <summary>The arrays of one .npz file, in writing order; NaNs are stored as the canonical pattern.</summary>
sealed class NpzContent(string name)
{
    internal string Name { get; } = name;
    internal List<(string Name, NpyArray Array)> Arrays { get; } = [];

    internal void Add(string name, int[] shape, float[] data)
    {
        long count = shape.Aggregate(1L, (p, d) => p * d);
        if (count != data.Length) throw new InvalidOperationException($"{Name}: {name} has {data.Length} values for shape ({string.Join(", ", shape)})");
        if (Arrays.Any(a => a.Name == name)) throw new InvalidOperationException($"{Name}: {name} added twice");
        var copy = data.Select(v => float.IsNaN(v) ? BitConverter.UInt32BitsToSingle(GoldenVectors.CanonicalNaNBits) : v).ToArray();
        Arrays.Add((name, new NpyArray(shape, copy)));
    }

    internal int[] ShapeOf(string name) =>
        Arrays.FirstOrDefault(a => a.Name == name).Array?.Shape ?? throw new InvalidOperationException($"{Name} has no array {name}");
}

/// <summary>One manifest case: what it computes, its parameters, its arrays (inputs, expected) and tolerance.</summary>
sealed class CaseBuilder(string name, NpzContent file, string kind, string computes)
{
    readonly JsonObject _parameters = new();
    readonly JsonArray _arrays = new();
    readonly JsonArray _scalars = new();
    JsonArray? _variants;
    Tolerance? _tolerance;

    internal CaseBuilder Parameter(string key, JsonNode? value)
    {
        _parameters[key] = value;
        return this;
    }

    internal CaseBuilder Parameter(string key, string value) => Parameter(key, JsonValue.Create(value));
    internal CaseBuilder Parameter(string key, int value) => Parameter(key, JsonValue.Create(value));
    internal CaseBuilder Parameter(string key, ulong value) => Parameter(key, JsonValue.Create(value));

    internal CaseBuilder Input(string array, string description) => Add(array, "input", description, null);

    internal CaseBuilder Expected(string array, string description, Tolerance? own = null) => Add(array, "expected", description, own);

    CaseBuilder Add(string array, string role, string description, Tolerance? own)
    {
        var entry = new JsonObject
        {
            ["name"] = array,
            ["shape"] = ManifestJson.Ints(file.ShapeOf(array)),
            ["role"] = role,
            ["description"] = description,
        };
        if (own is not null) entry["tolerance"] = own.ToJson();
        _arrays.Add(entry);
        return this;
    }

    internal CaseBuilder Scalar(string scalar, JsonObject value, string description, Tolerance? own = null)
    {
        var entry = new JsonObject { ["name"] = scalar, ["role"] = "expected", ["description"] = description };
        foreach (var (key, v) in value.ToList())
        {
            value.Remove(key);
            entry[key] = v;
        }
        if (own is not null) entry["tolerance"] = own.ToJson();
        _scalars.Add(entry);
        return this;
    }

    /// <summary>GEMM: the (trans_a, trans_b, accumulate) combinations and the arrays each one uses.</summary>
    internal CaseBuilder Variants(JsonArray variants)
    {
        _variants = variants;
        return this;
    }

    internal CaseBuilder Tolerance(Tolerance tolerance)
    {
        _tolerance = tolerance;
        return this;
    }

    internal JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["name"] = name,
            ["file"] = file.Name,
            ["kind"] = kind,
            ["computes"] = computes,
            ["parameters"] = _parameters,
            ["arrays"] = _arrays,
        };
        if (_scalars.Count > 0) o["scalars"] = _scalars;
        if (_variants is not null) o["variants"] = _variants;
        o["tolerance"] = (_tolerance ?? throw new InvalidOperationException($"case {name} has no tolerance")).ToJson();
        return o;
    }
}
