using System.Diagnostics;
using Engine.Data;
using Engine.Evaluation;
using Engine.Kernels;
using Engine.Nn;
using Engine.Numerics;
using Engine.Training;

namespace Engine.Bench;

/// <summary>
/// Where a training epoch's time goes: wraps the backend so every kernel call is timed under its own name
/// and shape, runs epochs of Fashion-MNIST (784-128-10 tanh), and prints each call's share of the epoch.
/// The remainder ("outside kernels") is the trainer's own work: shuffling, gathering the batch rows, loop.
/// Run with: dotnet run -c Release --project bench/Engine.Bench -- profile-step [threads] [batch] [epochs]
/// or: ... -- profile-inference [threads] [rounds] [batch] [hidden widths, e.g. 512 or 256,128]
/// </summary>
static class StepProfile
{
    public static void Run(string[] args)
    {
        int threads = args.Length > 0 ? int.Parse(args[0]) : 1;
        int batch = args.Length > 1 ? int.Parse(args[1]) : 32;
        int epochs = args.Length > 2 ? int.Parse(args[2]) : 5;
        Dataset train = BenchData.TrainingSet();
        using IKernels simd = Backends.Create("simd", threads, InstructionSets.Best);
        var timed = new TimedKernels(simd);
        var network = new Network(784, [128], 10, Activation.Tanh);
        network.InitializeWeights(0);
        var trainer = new Trainer(network, timed, new TrainingOptions(epochs + 1, batch, 0.1f, 1e-4f, 0, true));

        if (args.Length > 3 && args[3] == "steps")
        {
            // Steps on all of the backend's threads (no StepThreads choice), batches in order, after 2 s of warm-up so the
            // tiered JIT has finished: what one step costs on this thread count.
            var x = new ReadOnlyMatrixView(train.Features.AsSpan(0, batch * 784), batch, 784);
            var y = train.Labels.AsSpan(0, batch);
            for (var warm = Stopwatch.StartNew(); warm.Elapsed.TotalSeconds < 2;) trainer.Step(x, y);
            timed.Reset();
            int steps = 60_000 / batch * epochs;
            var clock = Stopwatch.StartNew();
            for (int s = 0; s < steps; s++) trainer.Step(x, y);
            double perEpoch = clock.Elapsed.TotalSeconds / epochs;
            Print(timed, $"simd {InstructionSets.Best}, {threads} thread(s), batch {batch}, steps only", perEpoch, epochs, 60_000 / batch * batch, "samples/s", "outside kernels (loop)");
            return;
        }
        Console.WriteLine($"byte form of the training set: {(train.Bytes is not null ? $"bytes / {train.BytesDivisor:G9}" : "none")}");
        // Warm-up of at least 2 s (tiered JIT, packing buffers, page faults): after one epoch the small kernels still ran
        // tier-0 code and timed 3–8× slower than in steps mode.
        var warmClock = Stopwatch.StartNew();
        do trainer.RunEpoch(train, 0); while (warmClock.Elapsed.TotalSeconds < 2);
        timed.Reset();
        double total = 0;
        for (int e = 1; e <= epochs; e++) total += trainer.RunEpoch(train, e).Seconds;

        string chosen = trainer.StepKernels is { } k ? (k.Parallelism > 1 ? "steps on all threads" : "steps on one thread") : "no choice yet";
        Print(timed, $"simd {InstructionSets.Best}, {threads} thread(s), batch {batch}, {chosen}", total / epochs, epochs, train.Count, "samples/s",
              "outside kernels (shuffle, gather, loop)");
    }

    /// <summary>The same for inference: 10,000 images in batches of 1,000 (the EpochBenchmarks.Inference10k workload).</summary>
    public static void RunInference(string[] args)
    {
        int threads = args.Length > 0 ? int.Parse(args[0]) : 2;
        int rounds = args.Length > 1 ? int.Parse(args[1]) : 50;
        int batch = args.Length > 2 ? int.Parse(args[2]) : 1000;
        int[] hidden = args.Length > 3 ? args[3].Split(',').Select(int.Parse).ToArray() : [128];
        // "raw": the InferenceBenchmarks workload, raw 0..255 rows scaled batch by batch inside the pass (FitMax).
        bool raw = args.Length > 4 && args[4] == "raw";
        Dataset train = raw ? BenchData.RawTrainingSet() : BenchData.TrainingSet();
        Dataset images = train.Subset(Enumerable.Range(0, 10_000).ToArray(), "first 10000");
        InputScaling? scaling = raw ? InputScaling.FitMax(train) : null;
        using IKernels simd = Backends.Create("simd", threads, InstructionSets.Best);
        var timed = new TimedKernels(simd);
        var network = new Network(784, hidden, 10, Activation.Tanh);
        network.InitializeWeights(0);
        var workspaces = new InferenceWorkspaces(); // kept, with the packed weights, as a Classifier keeps them
        var probabilities = new float[images.Count * 10];
        // Warm-up of at least 2 s: after one pass the softmax still ran tier-0 code (8.2 µs a call at batch 32 against 1.8).
        for (var warm = Stopwatch.StartNew(); warm.Elapsed.TotalSeconds < 2;)
            Evaluator.Predict(network, timed, images.Features, scaling, probabilities, workspaces, batch);
        timed.Reset();
        var clock = Stopwatch.StartNew();
        for (int r = 0; r < rounds; r++) Evaluator.Predict(network, timed, images.Features, scaling, probabilities, workspaces, batch);
        Print(timed, $"simd {InstructionSets.Best}, {threads} thread(s), 784-{string.Join('-', hidden)}-10, inference of 10,000{(raw ? " raw rows" : "")} in batches of {batch}",
              clock.Elapsed.TotalSeconds / rounds, rounds, images.Count, "images/s", "outside kernels (workspace, result copy)");
    }

    static void Print(TimedKernels timed, string title, double perPass, int passes, int items, string unit, string outsideLabel)
    {
        double inKernels = 0;
        Console.WriteLine($"{title}: {perPass * 1e3:F2} ms per pass ({items / perPass:N0} {unit}), mean of {passes}");
        Console.WriteLine($"{"kernel call",-44} {"calls/pass",11} {"µs/call",9} {"ms/pass",9} {"share",6} {"GFLOP/s",8}");
        foreach (var (name, entry) in timed.Entries.OrderByDescending(e => e.Value.Ticks))
        {
            double seconds = entry.Ticks / (double)Stopwatch.Frequency / passes;
            inKernels += seconds;
            long calls = entry.Calls / passes;
            string gflops = entry.Flops > 0 ? $"{entry.Flops / passes / seconds / 1e9,8:F1}" : "";
            Console.WriteLine($"{name,-44} {calls,11:N0} {seconds / calls * 1e6,9:F2} {seconds * 1e3,9:F2} {seconds / perPass,6:P0} {gflops}");
        }
        double outside = perPass - inKernels;
        Console.WriteLine($"{outsideLabel,-44} {"",11} {"",9} {outside * 1e3,9:F2} {outside / perPass,6:P0}");
    }

    /// <summary>Times each call of the wrapped backend by name and shape; adds ~50 ns per call.</summary>
    sealed class TimedKernels(IKernels inner, Dictionary<string, TimedKernels.Entry>? shared = null) : IKernels
    {
        public sealed class Entry { public long Ticks, Calls, Flops; }
        public Dictionary<string, Entry> Entries { get; } = shared ?? [];
        public string Name => inner.Name;
        // The same parallel path as the wrapped backend; the parts' own kernel calls are the inner backend's, untimed.
        public int Parallelism => inner.Parallelism;
        void IKernels.RunParts(IParallelWork work, int parts) => inner.RunParts(work, parts);
        // Part 0 runs on the calling thread (and is what the trainer's StepThreads picks for one-thread steps): timed into
        // the same table. Other parts run on workers, concurrently: untimed.
        IKernels IKernels.PartKernels(int part) =>
            part == 0 && inner.Parallelism > 1 ? _part0 ??= new TimedKernels(inner.PartKernels(0), Entries) : inner.PartKernels(part);
        TimedKernels? _part0;

        public void Reset() => Entries.Clear();

        Entry For(string name)
        {
            if (!Entries.TryGetValue(name, out var e)) Entries[name] = e = new Entry();
            return e;
        }

        void Add(string name, long start, long flops = 0)
        {
            var e = For(name);
            e.Ticks += Stopwatch.GetTimestamp() - start;
            e.Calls++;
            e.Flops += flops;
        }

        public void Gemm(Transpose transA, Transpose transB, ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView c, bool accumulate)
        {
            if (accumulate) ((IKernels)this).Gemm(transA, transB, a, b, c, new AccumulateProduct());
            else ((IKernels)this).Gemm(transA, transB, a, b, c, new StoreProduct());
        }

        void IKernels.Gemm<TEpilogue>(Transpose transA, Transpose transB, ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView c, in TEpilogue epilogue)
        {
            long t = Stopwatch.GetTimestamp();
            inner.Gemm(transA, transB, a, b, c, epilogue);
            AddGemm<TEpilogue>(transA, transB, a, c, "", t);
        }

        PackedWeights? IKernels.PackWeights(ReadOnlyMatrixView w) => inner.PackWeights(w);

        void IKernels.Gemm<TEpilogue>(Transpose transA, ReadOnlyMatrixView a, ReadOnlyMatrixView w, PackedWeights? packed, MatrixView c, in TEpilogue epilogue)
        {
            long t = Stopwatch.GetTimestamp();
            inner.Gemm(transA, a, w, packed, c, epilogue);
            AddGemm<TEpilogue>(transA, Transpose.No, a, c, packed is null ? "" : " packed", t);
        }

        /// <summary>One product's entry: "Gemm MxNxK NN[ packed][ then Epilogue]", with its flops.</summary>
        void AddGemm<TEpilogue>(Transpose transA, Transpose transB, ReadOnlyMatrixView a, MatrixView c, string packed, long start) where TEpilogue : struct, IGemmEpilogue
        {
            int k = transA == Transpose.No ? a.Cols : a.Rows;
            string op = $"{(transA == Transpose.No ? 'N' : 'T')}{(transB == Transpose.No ? 'N' : 'T')}";
            string then = TEpilogue.Use == ProductUse.Finish ? $" then {EpilogueName<TEpilogue>()}" : "";
            Add($"Gemm {c.Rows}x{c.Cols}x{k} {op}{packed}{then}", start, 2L * c.Rows * c.Cols * k);
        }

        /// <summary>BiasActivation`1[TanhOperator] → BiasActivation&lt;Tanh&gt;.</summary>
        static string EpilogueName<T>() =>
            typeof(T).IsGenericType ? $"{typeof(T).Name[..typeof(T).Name.IndexOf('`')]}<{typeof(T).GetGenericArguments()[0].Name.Replace("Operator", "").Replace("Rule", "")}>" : typeof(T).Name;

        void IKernels.Update<TRule>(in TRule rule, Span<float> weights, ReadOnlySpan<float> gradient, Span<float> first, Span<float> second)
        {
            long t = Stopwatch.GetTimestamp();
            inner.Update(rule, weights, gradient, first, second);
            Add($"Update<{typeof(TRule).Name.Replace("Rule", "")}> {weights.Length}", t);
        }

        public void AddBiasToRows(MatrixView z, ReadOnlySpan<float> bias)
        {
            long t = Stopwatch.GetTimestamp();
            inner.AddBiasToRows(z, bias);
            Add($"AddBiasToRows {z.Rows}x{z.Cols}", t);
        }

        public void ActivationForward(Activation activation, MatrixView z)
        {
            long t = Stopwatch.GetTimestamp();
            inner.ActivationForward(activation, z);
            Add($"ActivationForward {activation.Name()} {z.Rows}x{z.Cols}", t);
        }

        public void ActivationBackward(Activation activation, ReadOnlyMatrixView output, MatrixView gradient)
        {
            long t = Stopwatch.GetTimestamp();
            inner.ActivationBackward(activation, output, gradient);
            Add($"ActivationBackward {activation.Name()} {gradient.Rows}x{gradient.Cols}", t);
        }

        public double SoftmaxCrossEntropy(ReadOnlyMatrixView logits, ReadOnlySpan<int> labels, MatrixView probabilities)
        {
            long t = Stopwatch.GetTimestamp();
            double loss = inner.SoftmaxCrossEntropy(logits, labels, probabilities);
            Add($"SoftmaxCrossEntropy {logits.Rows}x{logits.Cols}", t);
            return loss;
        }

        public void SoftmaxCrossEntropyBackward(ReadOnlyMatrixView probabilities, ReadOnlySpan<int> labels, float scale, MatrixView dLogits)
        {
            long t = Stopwatch.GetTimestamp();
            inner.SoftmaxCrossEntropyBackward(probabilities, labels, scale, dLogits);
            Add($"SoftmaxCrossEntropyBackward {dLogits.Rows}x{dLogits.Cols}", t);
        }

        public void ColumnSums(ReadOnlyMatrixView m, Span<float> sums)
        {
            long t = Stopwatch.GetTimestamp();
            inner.ColumnSums(m, sums);
            Add($"ColumnSums {m.Rows}x{m.Cols}", t);
        }

        public void BytesToFloats(ReadOnlySpan<byte> source, Span<float> destination, float divisor)
        {
            long t = Stopwatch.GetTimestamp();
            inner.BytesToFloats(source, destination, divisor);
            Add($"BytesToFloats {source.Length}", t);
        }

        public void SgdUpdate(Span<float> weights, ReadOnlySpan<float> gradient, float learningRate, float l2) =>
            ((IKernels)this).Update(new SgdRule(learningRate, l2), weights, gradient, default, default);

        public void MomentumUpdate(Span<float> weights, ReadOnlySpan<float> gradient, Span<float> velocity, float learningRate, float l2, float momentum, bool nesterov) =>
            ((IKernels)this).Update(new MomentumRule(learningRate, l2, momentum, nesterov), weights, gradient, velocity, default);

        public void AdamUpdate(Span<float> weights, ReadOnlySpan<float> gradient, Span<float> firstMoment, Span<float> secondMoment, in AdamStep step) =>
            ((IKernels)this).Update(new AdamRule(step), weights, gradient, firstMoment, secondMoment);
    }
}
