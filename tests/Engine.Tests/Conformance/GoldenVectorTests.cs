using Engine.Data;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Engine.Conformance;
using Engine.Kernels;
using Engine.Nn;
using Engine.Numerics;
using Engine.Serialization;
using Engine.Tests.Data;
using Engine.Training;
using static Engine.Tests.Simd.SimdTestSupport;

namespace Engine.Tests.Conformance;

/// <summary>
/// The committed golden vectors (conformance/v2): exporting again reproduces them byte for byte; every backend
/// (reference, and simd on every instruction-set path this machine runs with 1 and 2 threads) reproduces every
/// case bit for bit, driven by the manifest as an outside implementation would be; and the tolerances the
/// manifest states for implementations that do not follow the contract admit an independent float64
/// implementation while the bitwise check still tells a different summation order apart.
/// </summary>
public sealed class GoldenVectorTests : IDisposable
{
    static string CommittedDir => Path.Combine(RepoPaths.Root, "conformance", "v2");

    readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    // ---- the committed files --------------------------------------------------------------------

    [Fact]
    public void Exporting_again_reproduces_the_committed_files_byte_for_byte()
    {
        var written = GoldenVectors.Export(_dir.Path);

        string[] committed = Directory.GetFiles(CommittedDir).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(committed, written.Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(committed, _dir.FileNames());
        var failures = new List<string>();
        foreach (string name in committed)
        {
            byte[] expected = File.ReadAllBytes(Path.Combine(CommittedDir, name)), got = File.ReadAllBytes(_dir.File(name));
            if (expected.AsSpan().SequenceEqual(got)) continue;
            int first = 0;
            while (first < Math.Min(expected.Length, got.Length) && expected[first] == got[first]) first++;
            failures.Add($"{name}: {got.Length} bytes exported, {expected.Length} committed, first difference at byte {first}");
        }
        if (failures.Count > 0)
            Assert.Fail("the export differs from conformance/v2 (if the change is intended, regenerate with "
                + "'engine conformance export conformance/v2' and say why in the commit; on Windows, or with a C library whose logf "
                + "rounds differently, see conformance/README.md, 'Regenerating'):\n" + string.Join("\n", failures));
    }

    [Fact]
    public void Exporting_twice_gives_the_same_bytes()
    {
        string a = Path.Combine(_dir.Path, "a"), b = Path.Combine(_dir.Path, "b");
        GoldenVectors.Export(a);
        GoldenVectors.Export(b);
        foreach (string f in Directory.GetFiles(a))
            Assert.True(File.ReadAllBytes(f).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, Path.GetFileName(f)))), Path.GetFileName(f));
    }

    [Fact]
    public void Npz_members_carry_the_fixed_timestamp()
    {
        string path = _dir.File("t.npz");
        Npz.Write(path, [("x", new NpyArray([2], [1f, 2f])), ("y", new NpyArray([1], [3f]))]);
        using var zip = ZipFile.OpenRead(path);
        Assert.All(zip.Entries, e => Assert.Equal(new DateTime(1980, 1, 1), e.LastWriteTime.DateTime));
    }

    [Fact]
    public void The_committed_set_is_small_and_matches_its_manifest()
    {
        var manifest = Manifest.Value;
        Assert.Equal(GoldenVectors.Format, manifest.Root.GetProperty("format").GetString());
        Assert.Equal(GoldenVectors.Version, manifest.Root.GetProperty("version").GetInt32());
        long total = Directory.GetFiles(CommittedDir).Sum(f => new FileInfo(f).Length);
        Assert.True(total < 600_000, $"conformance/v2 holds {total} bytes");

        foreach (var f in manifest.Root.GetProperty("files").EnumerateArray())
        {
            byte[] bytes = File.ReadAllBytes(Path.Combine(CommittedDir, f.GetProperty("file").GetString()!));
            Assert.Equal(f.GetProperty("bytes").GetInt64(), bytes.LongLength);
            Assert.Equal(f.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
        var kinds = new HashSet<string>();
        foreach (var c in manifest.Cases)
        {
            kinds.Add(c.Kind);
            var arrays = Arrays(c.File);
            foreach (var a in c.Element.GetProperty("arrays").EnumerateArray())
            {
                string name = a.GetProperty("name").GetString()!;
                Assert.True(arrays.ContainsKey(name), $"{c.Name}: {c.File} has no array {name}");
                Assert.Equal(a.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray(), arrays[name].Shape);
            }
            Assert.True(c.Element.TryGetProperty("computes", out _) && c.Element.TryGetProperty("tolerance", out _), c.Name);
        }
        Assert.Equal(["activation_backward", "activation_forward", "cross_entropy", "gemm", "sgd_step", "softmax", "softmax_cross_entropy_backward"],
            kinds.Order(StringComparer.Ordinal));
        Assert.Equal(GoldenVectors.GemmShapes.Count, manifest.Cases.Count(c => c.Kind == "gemm"));
    }

    // ---- every backend reproduces every case ----------------------------------------------------

    public static IEnumerable<object?[]> BackendConfigs()
    {
        yield return ["reference", null, 1];
        foreach (var isa in SupportedIsas)
            foreach (int threads in new[] { 1, 2 })
                yield return ["simd", isa.Name(), threads];
    }

    static IKernels Create(string backend, string? isa, int threads) => Backends.Create(backend, threads, InstructionSets.Parse(isa));

    static string Context(string backend, string? isa, int threads) => isa is null ? backend : $"{backend} {isa} threads {threads}";

    [Theory]
    [MemberData(nameof(BackendConfigs))]
    public void Gemm_cases_are_reproduced_bit_for_bit(string backend, string? isa, int threads)
    {
        using var kernels = Create(backend, isa, threads);
        var failures = new List<string>();
        int checkedVariants = 0;
        foreach (var c in Manifest.Value.Cases.Where(c => c.Kind == "gemm"))
        {
            var arrays = Arrays(c.File);
            int m = c.Parameter("m"), n = c.Parameter("n"), k = c.Parameter("k");
            foreach (var v in c.Element.GetProperty("variants").EnumerateArray())
            {
                bool ta = v.GetProperty("trans_a").GetBoolean(), tb = v.GetProperty("trans_b").GetBoolean(), acc = v.GetProperty("accumulate").GetBoolean();
                float[] a = arrays["A"].Data, b = arrays["B"].Data;
                var av = ta ? new ReadOnlyMatrixView(GoldenVectors.Transposed(a, m, k), k, m) : new ReadOnlyMatrixView(a, m, k);
                var bv = tb ? new ReadOnlyMatrixView(GoldenVectors.Transposed(b, k, n), n, k) : new ReadOnlyMatrixView(b, k, n);
                float[] got = acc ? (float[])arrays[v.GetProperty("c_in").GetString()!].Data.Clone() : Filled(m * n, float.NaN);
                kernels.Gemm(ta ? Transpose.Yes : Transpose.No, tb ? Transpose.Yes : Transpose.No, av, bv, new MatrixView(got, m, n), acc);
                string expected = v.GetProperty("expected").GetString()!;
                CompareBits(failures, $"{c.Name} trans_a {ta} trans_b {tb} accumulate {acc}: {expected}", got, arrays[expected].Data, n);
                checkedVariants++;
            }
        }
        Assert.Equal(GoldenVectors.GemmShapes.Count * 8, checkedVariants);
        Report(failures, Context(backend, isa, threads));
    }

    [Theory]
    [MemberData(nameof(BackendConfigs))]
    public void Activation_cases_are_reproduced_bit_for_bit(string backend, string? isa, int threads)
    {
        using var kernels = Create(backend, isa, threads);
        var failures = new List<string>();
        var cases = Manifest.Value.Cases.Where(c => c.Kind.StartsWith("activation_", StringComparison.Ordinal)).ToArray();
        Assert.Equal(6, cases.Length);
        foreach (var c in cases)
        {
            var arrays = Arrays(c.File);
            string name = c.Element.GetProperty("parameters").GetProperty("activation").GetString()!;
            Assert.True(ActivationNames.TryParse(name, out var act), name);
            float[] x = arrays["x"].Data;
            // The sweep as one row and as 7 rows of 73 (element-wise kernels see different row lengths and tails).
            foreach (var (rows, cols) in new[] { (1, x.Length), (7, x.Length / 7) })
            {
                string context = $"{c.Name} as {rows}x{cols}";
                if (c.Kind == "activation_forward")
                {
                    float[] got = (float[])x.Clone();
                    kernels.ActivationForward(act, new MatrixView(got, rows, cols));
                    CompareBits(failures, context, got, arrays[name].Data, cols);
                }
                else
                {
                    float[] got = (float[])arrays["g"].Data.Clone();
                    kernels.ActivationBackward(act, new ReadOnlyMatrixView(arrays[name].Data, rows, cols), new MatrixView(got, rows, cols));
                    CompareBits(failures, context, got, arrays[name + "_backward"].Data, cols);
                }
            }
        }
        Report(failures, Context(backend, isa, threads));
    }

    [Theory]
    [MemberData(nameof(BackendConfigs))]
    public void Softmax_cross_entropy_cases_are_reproduced_bit_for_bit(string backend, string? isa, int threads)
    {
        using var kernels = Create(backend, isa, threads);
        var failures = new List<string>();
        var softmax = Manifest.Value.Case("softmax");
        var ce = Manifest.Value.Case("cross_entropy");
        var backward = Manifest.Value.Case("softmax_cross_entropy_backward");
        var arrays = Arrays(softmax.File);
        var logits = arrays["logits"];
        int rows = logits.Shape[0], cols = logits.Shape[1];
        int[] labels = Labels(arrays["labels"]);

        // softmax, with and without labels
        foreach (bool withLabels in new[] { false, true })
        {
            float[] p = Filled(rows * cols, float.NaN);
            double loss = kernels.SoftmaxCrossEntropy(new ReadOnlyMatrixView(logits.Data, rows, cols), withLabels ? labels : [], new MatrixView(p, rows, cols));
            CompareBits(failures, $"softmax (labels given: {withLabels})", p, arrays["probabilities"].Data, cols);
            if (withLabels) CheckLoss(failures, "cross_entropy loss_sum", loss, ce.Scalar("loss_sum"), arrays["row_loss"].Data);
        }
        // cross-entropy row by row
        float[] rowLoss = new float[rows];
        for (int i = 0; i < rows; i++)
            rowLoss[i] = (float)kernels.SoftmaxCrossEntropy(new ReadOnlyMatrixView(logits.Data.AsSpan(i * cols, cols), 1, cols), labels.AsSpan(i, 1), new MatrixView(new float[cols], 1, cols));
        CompareLoss(failures, "cross_entropy row_loss", rowLoss, arrays["row_loss"].Data);

        // backward from the golden probabilities
        float scale = backward.Float32Parameter("scale");
        Assert.Equal(1f / rows, scale);
        float[] d = Filled(rows * cols, float.NaN);
        kernels.SoftmaxCrossEntropyBackward(new ReadOnlyMatrixView(arrays["probabilities"].Data, rows, cols), labels, scale, new MatrixView(d, rows, cols));
        CompareBits(failures, "softmax_cross_entropy_backward dlogits", d, arrays["dlogits"].Data, cols);
        Report(failures, Context(backend, isa, threads));
    }

    [Theory]
    [MemberData(nameof(BackendConfigs))]
    public void The_sgd_step_is_reproduced_bit_for_bit_by_the_network_code(string backend, string? isa, int threads)
    {
        using var kernels = Create(backend, isa, threads);
        var failures = new List<string>();
        var c = Manifest.Value.Case("sgd_step_12-8-5_tanh");
        var g = Arrays(c.File);
        int[] widths = c.Element.GetProperty("parameters").GetProperty("widths").EnumerateArray().Select(w => w.GetInt32()).ToArray();
        int batch = c.Parameter("batch"), d = widths[0], h = widths[1], classes = widths[2];
        float lr = c.Float32Parameter("learning_rate"), l2 = c.Float32Parameter("l2");
        int[] labels = Labels(g["labels"]);
        var x = new ReadOnlyMatrixView(g["x"].Data, batch, d);

        var net = NetworkFrom(g, "", widths);
        var ws = new Workspace(net, batch);
        double loss = net.Forward(kernels, x, labels, ws);
        CompareBits(failures, "a1", ws.Activation(0, batch).Data.ToArray(), g["a1"].Data, h);
        CompareBits(failures, "logits", ws.Activation(1, batch).Data.ToArray(), g["logits"].Data, classes);
        CompareBits(failures, "probabilities", ws.Probabilities(batch).Data.ToArray(), g["probabilities"].Data, classes);
        CheckLoss(failures, "loss_sum", loss, c.Scalar("loss_sum"), g["row_loss"].Data);
        net.Backward(kernels, x, labels, ws);
        CompareBits(failures, "dlogits", ws.Delta(1, batch).Data.ToArray(), g["dlogits"].Data, classes);
        CompareBits(failures, "dz1", ws.Delta(0, batch).Data.ToArray(), g["dz1"].Data, h);
        DenseLayer l1 = net.Layers[0], l2Layer = net.Layers[1];
        CompareBits(failures, "dW1", l1.Weights(ws.Gradients).Data.ToArray(), g["dW1"].Data, h);
        CompareBits(failures, "db1", l1.Bias(ws.Gradients).ToArray(), g["db1"].Data, h);
        CompareBits(failures, "dW2", l2Layer.Weights(ws.Gradients).Data.ToArray(), g["dW2"].Data, classes);
        CompareBits(failures, "db2", l2Layer.Bias(ws.Gradients).ToArray(), g["db2"].Data, classes);

        // The intermediates the workspace overwrites, with the calls DenseLayer makes.
        float[] z1 = Filled(batch * h, float.NaN);
        kernels.Gemm(Transpose.No, Transpose.No, x, new ReadOnlyMatrixView(g["W1"].Data, d, h), new MatrixView(z1, batch, h), accumulate: false);
        kernels.AddBiasToRows(new MatrixView(z1, batch, h), g["b1"].Data);
        CompareBits(failures, "z1", z1, g["z1"].Data, h);
        float[] da1 = Filled(batch * h, float.NaN);
        kernels.Gemm(Transpose.No, Transpose.Yes, new ReadOnlyMatrixView(g["dlogits"].Data, batch, classes), new ReadOnlyMatrixView(g["W2"].Data, h, classes),
            new MatrixView(da1, batch, h), accumulate: false);
        CompareBits(failures, "da1", da1, g["da1"].Data, h);

        // The update through the trainer.
        var trained = NetworkFrom(g, "", widths);
        var options = new TrainingOptions(Epochs: 1, BatchSize: batch, LearningRate: lr, L2: l2, Seed: 0, Shuffle: false);
        double stepLoss = new Trainer(trained, kernels, options).Step(x, labels).LossSum;
        Assert.True(SameBits(loss, stepLoss), $"Trainer.Step loss {Show(stepLoss)}, forward {Show(loss)}");
        var expectedNet = NetworkFrom(g, "_new", widths);
        foreach (var (name, layer, weights) in new[] { ("W1", 0, true), ("b1", 0, false), ("W2", 1, true), ("b2", 1, false) })
        {
            DenseLayer gotLayer = trained.Layers[layer];
            float[] got = weights ? gotLayer.Weights(trained.Parameters).Data.ToArray() : gotLayer.Bias(trained.Parameters).ToArray();
            CompareBits(failures, name + "_new", got, g[name + "_new"].Data, gotLayer.FanOut);
        }
        Assert.Equal(expectedNet.Parameters.Length, trained.Parameters.Length);
        Report(failures, Context(backend, isa, threads));
    }

    // ---- the stated tolerances ------------------------------------------------------------------

    /// <summary>
    /// GEMM: float64 products rounded to float32, and a float32 evaluation in another order without fma (k from
    /// K−1 down to 0), both pass the stated tolerance_abs; the latter differs in some bits on the larger shapes,
    /// so the bitwise check does tell the fma order apart.
    /// </summary>
    [Fact]
    public void Gemm_tolerances_admit_other_orders_and_the_bitwise_check_does_not()
    {
        var failures = new List<string>();
        foreach (var c in Manifest.Value.Cases.Where(c => c.Kind == "gemm"))
        {
            var arrays = Arrays(c.File);
            int m = c.Parameter("m"), n = c.Parameter("n"), k = c.Parameter("k");
            var tol = c.Tolerance;
            float[] a = arrays["A"].Data, b = arrays["B"].Data, cIn = arrays["C_in"].Data;
            foreach (bool acc in new[] { false, true })
            {
                float[] expected = arrays[acc ? "C_acc" : "C"].Data;
                var inDouble = new float[m * n];
                var reversed = new float[m * n];
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                    {
                        double s = acc ? cIn[i * n + j] : 0;
                        float r = 0f;
                        for (int p = 0; p < k; p++) s += (double)a[i * k + p] * b[p * n + j];
                        for (int p = k - 1; p >= 0; p--) r += a[i * k + p] * b[p * n + j];
                        inDouble[i * n + j] = (float)s;
                        reversed[i * n + j] = acc ? r + cIn[i * n + j] : r;
                    }
                CompareWithin(failures, $"{c.Name} accumulate {acc} in float64", inDouble, expected, tol);
                CompareWithin(failures, $"{c.Name} accumulate {acc} reversed without fma", reversed, expected, tol);
                if (k >= 65 && CountBitDifferences(reversed, expected) == 0)
                    failures.Add($"{c.Name} accumulate {acc}: a different summation order gave the same bits everywhere; the case cannot tell orders apart");
            }
        }
        Report(failures, "tolerances");
    }

    [Fact]
    public void Activation_tolerances_admit_float64_functions()
    {
        var failures = new List<string>();
        foreach (var c in Manifest.Value.Cases.Where(c => c.Kind.StartsWith("activation_", StringComparison.Ordinal)))
        {
            var arrays = Arrays(c.File);
            string name = c.Element.GetProperty("parameters").GetProperty("activation").GetString()!;
            float[] x = arrays["x"].Data, g = arrays["g"].Data, a = arrays[name].Data;
            float[] got = new float[x.Length];
            for (int i = 0; i < x.Length; i++)
            {
                double xi = x[i], ai = a[i];
                got[i] = (c.Kind, name) switch
                {
                    ("activation_forward", "tanh") => (float)Math.Tanh(xi),
                    ("activation_forward", "sigmoid") => (float)(1 / (1 + Math.Exp(-xi))),
                    ("activation_forward", "relu") => (float)Math.Max(xi, 0),
                    ("activation_backward", "tanh") => (float)(g[i] * (1 - ai * ai)),
                    ("activation_backward", "sigmoid") => (float)(g[i] * ai * (1 - ai)),
                    ("activation_backward", "relu") => ai > 0 ? g[i] : 0f,
                    _ => throw new InvalidOperationException(c.Name),
                };
            }
            CompareWithin(failures, c.Name + " in float64", got, arrays[c.Kind == "activation_forward" ? name : name + "_backward"].Data, c.Tolerance);
        }
        Report(failures, "tolerances");
    }

    [Fact]
    public void Softmax_cross_entropy_tolerances_admit_float64()
    {
        var failures = new List<string>();
        var softmax = Manifest.Value.Case("softmax");
        var ce = Manifest.Value.Case("cross_entropy");
        var backward = Manifest.Value.Case("softmax_cross_entropy_backward");
        var arrays = Arrays(softmax.File);
        int rows = arrays["logits"].Shape[0], cols = arrays["logits"].Shape[1];
        int[] labels = Labels(arrays["labels"]);
        var (p, rowLoss) = DoubleSoftmax(arrays["logits"].Data, labels, rows, cols);
        CompareWithin(failures, "softmax in float64", p.Select(v => (float)v).ToArray(), arrays["probabilities"].Data, softmax.Tolerance);
        CompareWithin(failures, "row_loss in float64", rowLoss.Select(v => (float)v).ToArray(), arrays["row_loss"].Data, ce.Tolerance);
        var d = new float[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) d[i * cols + j] = (float)((arrays["probabilities"].Data[i * cols + j] - (j == labels[i] ? 1.0 : 0.0)) / rows);
        CompareWithin(failures, "dlogits in float64", d, arrays["dlogits"].Data, backward.Tolerance);
        Report(failures, "tolerances");
    }

    /// <summary>
    /// The whole SGD step in float64 (written here from the maths, none of the engine's code), rounded to float32,
    /// stays within a tenth of the stated tolerance, as the manifest says, for every expected array.
    /// </summary>
    [Fact]
    public void Sgd_step_tolerance_admits_float64_with_a_tenfold_margin()
    {
        var failures = new List<string>();
        var c = Manifest.Value.Case("sgd_step_12-8-5_tanh");
        var g = Arrays(c.File);
        int[] widths = c.Element.GetProperty("parameters").GetProperty("widths").EnumerateArray().Select(w => w.GetInt32()).ToArray();
        int batch = c.Parameter("batch"), d = widths[0], h = widths[1], k = widths[2];
        double lr = c.Float32Parameter("learning_rate"), l2 = c.Float32Parameter("l2");
        int[] labels = Labels(g["labels"]);
        double[] x = D(g["x"].Data), w1 = D(g["W1"].Data), b1 = D(g["b1"].Data), w2 = D(g["W2"].Data), b2 = D(g["b2"].Data);

        double[] z1 = AddBias(MatMul(x, w1, batch, d, h), b1, batch, h);
        double[] a1 = z1.Select(Math.Tanh).ToArray();
        double[] logits = AddBias(MatMul(a1, w2, batch, h, k), b2, batch, k);
        var (p, rowLoss) = DoubleSoftmax(logits.Select(v => (float)v).ToArray(), labels, batch, k, logits);
        double[] dlogits = new double[batch * k];
        for (int i = 0; i < batch; i++)
            for (int j = 0; j < k; j++) dlogits[i * k + j] = (p[i * k + j] - (j == labels[i] ? 1 : 0)) / batch;
        double[] dW2 = MatMul(Transposed(a1, batch, h), dlogits, h, batch, k), db2 = ColumnSums(dlogits, batch, k);
        double[] da1 = MatMul(dlogits, Transposed(w2, h, k), batch, k, h);
        double[] dz1 = da1.Select((v, i) => v * (1 - a1[i] * a1[i])).ToArray();
        double[] dW1 = MatMul(Transposed(x, batch, d), dz1, d, batch, h), db1 = ColumnSums(dz1, batch, h);
        double[] Update(double[] w, double[] dw, double decay) => w.Select((v, i) => v - lr * (dw[i] + decay * v)).ToArray();

        var oracle = new Dictionary<string, double[]>
        {
            ["z1"] = z1, ["a1"] = a1, ["logits"] = logits, ["probabilities"] = p, ["row_loss"] = rowLoss, ["dlogits"] = dlogits,
            ["dW2"] = dW2, ["db2"] = db2, ["da1"] = da1, ["dz1"] = dz1, ["dW1"] = dW1, ["db1"] = db1,
            ["W1_new"] = Update(w1, dW1, l2), ["b1_new"] = Update(b1, db1, 0), ["W2_new"] = Update(w2, dW2, l2), ["b2_new"] = Update(b2, db2, 0),
        };
        var expectedNames = c.Element.GetProperty("arrays").EnumerateArray()
            .Where(a => a.GetProperty("role").GetString() == "expected").Select(a => a.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(expectedNames.Order(StringComparer.Ordinal), oracle.Keys.Order(StringComparer.Ordinal));
        foreach (string name in expectedNames)
        {
            var tol = c.ToleranceOf(name);
            var tenth = tol with { Abs = tol.Abs / 10, Rel = tol.Rel / 10 };
            CompareWithin(failures, $"{name} in float64", oracle[name].Select(v => (float)v).ToArray(), g[name].Data, tenth);
        }
        // The independent per-example oracle of the gradient tests agrees on the mean loss and the gradients.
        var net = NetworkFrom(g, "", widths);
        var mlp = Engine.Tests.Nn.DoubleMlp.From(net);
        var (meanLoss, gW, gB) = mlp.LossAndGradients(g["x"].Data, labels);
        Assert.Equal(rowLoss.Sum() / batch, meanLoss, 1e-12);
        foreach (var (got, mine) in new[] { (gW[0], dW1), (gB[0], db1), (gW[1], dW2), (gB[1], db2) })
            for (int i = 0; i < got.Length; i++) Assert.Equal(mine[i], got[i], 1e-12);
        Report(failures, "tolerances");
    }

    // ---- a deliberately wrong implementation fails ----------------------------------------------

    [Fact]
    public void A_one_ulp_change_is_caught_by_the_bitwise_check()
    {
        var arrays = Arrays("gemm_17x33x65.npz");
        float[] expected = arrays["C"].Data;
        float[] got = (float[])expected.Clone();
        got[100] = MathF.BitIncrement(got[100]);
        var failures = new List<string>();
        CompareBits(failures, "C", got, expected, 33);
        Assert.Single(failures);
        Assert.Contains("[3,1]", failures[0]);
    }

    // ---- helpers --------------------------------------------------------------------------------

    sealed record GoldenCase(JsonElement Element)
    {
        public string Name => Element.GetProperty("name").GetString()!;
        public string File => Element.GetProperty("file").GetString()!;
        public string Kind => Element.GetProperty("kind").GetString()!;
        public int Parameter(string name) => Element.GetProperty("parameters").GetProperty(name).GetInt32();

        public float Float32Parameter(string name)
        {
            var p = Element.GetProperty("parameters").GetProperty(name);
            Assert.Equal("float32", p.GetProperty("dtype").GetString());
            float v = BitConverter.UInt32BitsToSingle(Convert.ToUInt32(p.GetProperty("bits").GetString()![2..], 16));
            Assert.Equal((double)v, p.GetProperty("value").GetDouble());
            return v;
        }

        public (double Value, Tolerance Tolerance) Scalar(string name)
        {
            var s = Element.GetProperty("scalars").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
            double v = BitConverter.UInt64BitsToDouble(Convert.ToUInt64(s.GetProperty("bits").GetString()![2..], 16));
            Assert.Equal(v, s.GetProperty("value").GetDouble());
            return (v, s.TryGetProperty("tolerance", out var t) ? ReadTolerance(t) : Tolerance);
        }

        public Tolerance Tolerance => ReadTolerance(Element.GetProperty("tolerance"));

        public Tolerance ToleranceOf(string array)
        {
            var a = Element.GetProperty("arrays").EnumerateArray().Single(e => e.GetProperty("name").GetString() == array);
            return a.TryGetProperty("tolerance", out var t) ? ReadTolerance(t) : Tolerance;
        }

        static Tolerance ReadTolerance(JsonElement t) => new(
            t.GetProperty("exact_for_contract").GetBoolean(), t.GetProperty("tolerance_abs").GetDouble(), t.GetProperty("tolerance_rel").GetDouble(),
            t.TryGetProperty("ulps", out var u) ? u.GetInt32() : null, t.GetProperty("basis").GetString()!);
    }

    sealed record ManifestData(JsonElement Root, GoldenCase[] Cases)
    {
        public GoldenCase Case(string name) => Cases.Single(c => c.Name == name);
    }

    static readonly Lazy<ManifestData> Manifest = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(CommittedDir, GoldenVectors.ManifestFile)));
        var root = doc.RootElement.Clone();
        return new ManifestData(root, root.GetProperty("cases").EnumerateArray().Select(c => new GoldenCase(c)).ToArray());
    });

    static readonly Dictionary<string, Dictionary<string, NpyArray>> Loaded = [];

    static Dictionary<string, NpyArray> Arrays(string file)
    {
        lock (Loaded)
        {
            if (!Loaded.TryGetValue(file, out var arrays)) Loaded[file] = arrays = NpyReader.ReadNpz(Path.Combine(CommittedDir, file));
            return arrays;
        }
    }

    static int[] Labels(NpyArray labels) => labels.Data.Select(v =>
    {
        Assert.True(v == MathF.Floor(v) && v >= 0, $"label {v}");
        return (int)v;
    }).ToArray();

    /// <summary>A network with W1, b1, W2, b2 (with a name suffix, e.g. "_new") from the file.</summary>
    static Network NetworkFrom(Dictionary<string, NpyArray> g, string suffix, int[] widths)
    {
        var net = new Network(widths[0], widths[1..^1], widths[^1], Activation.Tanh);
        for (int l = 0; l < net.Layers.Count; l++)
        {
            var layer = net.Layers[l];
            g[$"W{l + 1}{suffix}"].Data.CopyTo(net.Parameters.AsSpan(layer.WeightOffset, layer.WeightCount));
            g[$"b{l + 1}{suffix}"].Data.CopyTo(net.Parameters.AsSpan(layer.BiasOffset, layer.FanOut));
        }
        return net;
    }

    static float[] Filled(int n, float value)
    {
        var x = new float[n];
        Array.Fill(x, value);
        return x;
    }

    static int CountBitDifferences(float[] a, float[] b) => Enumerable.Range(0, a.Length).Count(i => !SameBits(a[i], b[i]));

    /// <summary>Bitwise (any NaN equals any NaN); records the first difference as [row,col] and how many differ.</summary>
    static void CompareBits(List<string> failures, string what, float[] got, float[] expected, int cols)
    {
        if (got.Length != expected.Length)
        {
            failures.Add($"{what}: {got.Length} values, expected {expected.Length}");
            return;
        }
        int count = 0, first = -1;
        for (int i = 0; i < got.Length; i++)
            if (!SameBits(got[i], expected[i]))
            {
                count++;
                if (first < 0) first = i;
            }
        if (count > 0)
            failures.Add($"{what}: [{first / cols},{first % cols}] = {Show(got[first])}, expected {Show(expected[first])}; {count} of {got.Length} differ");
    }

    /// <summary>The manifest's rule for implementations outside the contract.</summary>
    static bool Within(float got, float expected, Tolerance t)
    {
        if (float.IsNaN(expected) || float.IsNaN(got)) return float.IsNaN(expected) && float.IsNaN(got);
        if (float.IsInfinity(expected) || float.IsInfinity(got)) return got == expected;
        if (t.Ulps is int ulps) return Math.Abs(Ordinal(got) - Ordinal(expected)) <= ulps;
        return Math.Abs((double)got - expected) <= t.Abs + t.Rel * Math.Abs((double)expected);
    }

    /// <summary>Position of a finite float on the number line of floats; +0 and −0 are both 0.</summary>
    static long Ordinal(float x)
    {
        int bits = BitConverter.SingleToInt32Bits(x);
        return bits >= 0 ? bits : -(long)(bits & 0x7FFFFFFF);
    }

    static void CompareWithin(List<string> failures, string what, float[] got, float[] expected, Tolerance t)
    {
        int count = 0, first = -1;
        for (int i = 0; i < got.Length; i++)
            if (!Within(got[i], expected[i], t))
            {
                count++;
                if (first < 0) first = i;
            }
        if (count > 0)
            failures.Add($"{what}: [{first}] = {Show(got[first])}, expected {Show(expected[first])} (abs {t.Abs}, rel {t.Rel}, ulps {t.Ulps}); {count} of {got.Length} outside");
    }

    /// <summary>Loss values go through the platform's float32 log, which the contract does not fix: each row within
    /// 2 float32 steps of the committed one (a log differing in its last bit moves a row by at most that), and the
    /// batch sum exactly the float64 sum of the rows in order.</summary>
    static void CompareLoss(List<string> failures, string what, float[] got, float[] expected)
    {
        for (int i = 0; i < got.Length; i++)
            if (Math.Abs(Ordinal(got[i]) - Ordinal(expected[i])) > 2)
                failures.Add($"{what} row {i}: {Show(got[i])}, expected {Show(expected[i])}");
    }

    static void CheckLoss(List<string> failures, string what, double got, (double Value, Tolerance Tolerance) expected, float[] expectedRows)
    {
        double sum = 0;
        foreach (float r in expectedRows) sum += r;
        if (!SameBits(sum, expected.Value)) failures.Add($"{what}: the committed rows add up to {Show(sum)}, the committed sum is {Show(expected.Value)}");
        if (SameBits(got, expected.Value)) return;
        // Allowed: each row 2 float32 steps off (see CompareLoss), and never more than the manifest's tolerance.
        double allowance = expectedRows.Sum(r => 2.0 * (MathF.BitIncrement(MathF.Abs(r)) - MathF.Abs(r)));
        if (!(Math.Abs(got - expected.Value) <= allowance)) failures.Add($"{what}: {Show(got)}, expected {Show(expected.Value)} (allowance {allowance})");
        var t = expected.Tolerance;
        if (!(Math.Abs(got - expected.Value) <= t.Abs + t.Rel * Math.Abs(expected.Value)))
            failures.Add($"{what}: {Show(got)}, expected {Show(expected.Value)} (tolerance abs {t.Abs}, rel {t.Rel})");
    }

    static void Report(List<string> failures, string context)
    {
        if (failures.Count > 0) Assert.Fail($"{context}: {failures.Count} golden-vector checks failed:\n" + string.Join("\n", failures.Take(30)));
    }

    // ---- float64 maths for the tolerance checks -------------------------------------------------

    static double[] D(float[] x) => x.Select(v => (double)v).ToArray();

    static double[] MatMul(double[] a, double[] b, int m, int k, int n)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
                c[i * n + j] = s;
            }
        return c;
    }

    static double[] Transposed(double[] x, int rows, int cols)
    {
        var t = new double[x.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) t[c * rows + r] = x[r * cols + c];
        return t;
    }

    static double[] AddBias(double[] z, double[] b, int rows, int cols) => z.Select((v, i) => v + b[i % cols]).ToArray();

    static double[] ColumnSums(double[] m, int rows, int cols)
    {
        var s = new double[cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) s[j] += m[i * cols + j];
        return s;
    }

    /// <summary>Softmax and per-row cross-entropy in float64 (logits as float32, or given in float64).</summary>
    static (double[] P, double[] RowLoss) DoubleSoftmax(float[] logits, int[] labels, int rows, int cols, double[]? exactLogits = null)
    {
        var p = new double[rows * cols];
        var loss = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            double[] z = Enumerable.Range(0, cols).Select(j => exactLogits?[i * cols + j] ?? logits[i * cols + j]).ToArray();
            double max = z.Max();
            double[] e = z.Select(v => Math.Exp(v - max)).ToArray();
            double s = e.Sum();
            for (int j = 0; j < cols; j++) p[i * cols + j] = e[j] / s;
            loss[i] = Math.Log(s) - (z[labels[i]] - max);
        }
        return (p, loss);
    }
}
