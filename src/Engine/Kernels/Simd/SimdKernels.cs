using Engine.Numerics;

namespace Engine.Kernels.Simd;

/// <summary>
/// The performance backend: blocked, packed, multi-threaded GEMM (<see cref="PackedGemm"/>) and vectorised
/// element-wise kernels (<see cref="ElementWise{TVec}"/>), each computing exactly the bits of the reference
/// backend (the numerics contract) on every instruction-set path and thread count.
/// Thread safety: one instance serves one caller at a time (it owns packing buffers and a worker pool);
/// give each concurrent trainer or predictor its own instance.
/// </summary>
internal sealed class SimdKernels : KernelsBase, IKernels
{
    public string Name => "simd";
    public InstructionSet InstructionSet { get; }
    public int Threads { get; }

    readonly PackedGemm _gemm;
    readonly IElementWise _ew;

    public SimdKernels(InstructionSet isa, int threads) : this(isa, threads, null) { }

    /// <summary>A backend with the GEMM's block sizes given (tests: any blocking gives the same bits), or derived from this machine's caches.</summary>
    internal SimdKernels(InstructionSet isa, int threads, BlockSizes? blocks)
    {
        if (threads < 1) throw new EngineException($"threads must be at least 1, got {threads}");
        if (!InstructionSets.IsSupported(isa)) throw new EngineException($"instruction set {isa.Name()} is not supported on this CPU");
        InstructionSet = isa;
        Threads = threads;
        _pool = new WorkerPool(threads);
        _gemm = new PackedGemm(isa, _pool, blocks ?? BlockSizes.For(isa, CpuCaches.Current, threads));
        _ew = IElementWise.For(isa);
        _rows = new RowActivation(_ew);
    }


    readonly WorkerPool _pool;
    readonly RowActivation _rows;

    public void Dispose()
    {
        _pool.Dispose();
        foreach (var part in _parts ?? []) part?.Dispose();
    }

    SimdKernels[]? _parts;

    /// <summary>
    /// Single-threaded kernels of the same instruction set, one per part of a row-parallel run (<see cref="RunParts"/>):
    /// each has its own packing buffers, so the parts can run whole layers side by side. Made on first use.
    /// </summary>
    public IKernels PartKernels(int part)
    {
        _parts ??= new SimdKernels[Threads];
        return _parts[part] ??= new SimdKernels(InstructionSet, 1);
    }

    public int Parallelism => Threads;

    /// <summary>Runs <paramref name="work"/> in parts on this backend's threads (part 0 on the caller).</summary>
    public void RunParts(IParallelWork work, int parts) => _pool.Run(work, parts);

    public override void Gemm<TEpilogue>(Transpose transA, Transpose transB, ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView c, in TEpilogue epilogue) =>
        Gemm(transA, transB, a, b, null, c, epilogue);

    PackedWeights? IKernels.PackWeights(ReadOnlyMatrixView w) => _gemm.Pack(w);

    void IKernels.Gemm<TEpilogue>(Transpose transA, ReadOnlyMatrixView a, ReadOnlyMatrixView w, PackedWeights? packed, MatrixView c, in TEpilogue epilogue) =>
        Gemm(transA, Transpose.No, a, w, packed, c, epilogue);

    unsafe void Gemm<TEpilogue>(Transpose transA, Transpose transB, ReadOnlyMatrixView a, ReadOnlyMatrixView b, PackedWeights? packedB, MatrixView c, in TEpilogue epilogue)
        where TEpilogue : struct, IGemmEpilogue
    {
        if (_gemm.Multiply(transA, transB, a, b, c, epilogue, packedB)) return;
        // Products the tile loop does not finish (K past one block, so no tile holds a whole product; K = 0): the
        // product into a scratch matrix (sized once), then the epilogue on its rows.
        var (m, n, _) = GemmShape.Resolve(transA, transB, a, b, c);
        if (_productScratch.Length < m * n) _productScratch = new float[m * n];
        var p = new MatrixView(_productScratch.AsSpan(0, m * n), m, n);
        _gemm.Multiply(transA, transB, a, b, p, new StoreProduct(), packedB);
        fixed (float* pp = p.Data, pc = c.Data) _ew.Finish(epilogue, pp, n, pc, c.Stride, m, n);
    }

    float[] _productScratch = [];

    public void AddBiasToRows(MatrixView z, ReadOnlySpan<float> bias)
    {
        Shape.Require(bias.Length == z.Cols, $"bias has {bias.Length} entries for {z.Cols} columns");
        for (int i = 0; i < z.Rows; i++) _ew.AddInPlace(z.Row(i), bias);
    }

    /// <summary>Below this many elements an activation runs on the calling thread alone.</summary>
    const int MinParallelActivation = 1 << 16;

    public unsafe void ActivationForward(Activation activation, MatrixView z)
    {
        if (_pool.Threads == 1 || (long)z.Rows * z.Cols < MinParallelActivation)
        {
            for (int i = 0; i < z.Rows; i++) _ew.Activate(activation, z.Row(i));
            return;
        }
        // Rows are independent, so splitting them between threads cannot change a bit (e.g. inference batches).
        fixed (float* data = z.Data)
        {
            _rows.Set(data, z.Rows, z.Cols, z.Stride, activation);
            _pool.Run(_rows, _pool.Threads);
            _rows.Set(null, 0, 0, 0, activation);
        }
    }

    /// <summary>The activation of a row range, as a part of a parallel run.</summary>
    sealed unsafe class RowActivation(IElementWise ew) : IParallelWork
    {
        float* _data;
        int _rows, _cols, _stride;
        Activation _activation;

        public void Set(float* data, int rows, int cols, int stride, Activation activation)
        {
            _data = data;
            (_rows, _cols, _stride, _activation) = (rows, cols, stride, activation);
        }

        public void Execute(int part, int parts)
        {
            int start = (int)((long)_rows * part / parts), end = (int)((long)_rows * (part + 1) / parts);
            for (int i = start; i < end; i++) ew.Activate(_activation, new Span<float>(_data + (long)i * _stride, _cols));
        }
    }

    public void ActivationBackward(Activation activation, ReadOnlyMatrixView output, MatrixView gradient)
    {
        Shape.Require(output.Rows == gradient.Rows && output.Cols == gradient.Cols, "activation output and gradient shapes differ");
        for (int i = 0; i < gradient.Rows; i++) _ew.ActivationBackward(activation, output.Row(i), gradient.Row(i));
    }

    public double SoftmaxCrossEntropy(ReadOnlyMatrixView logits, ReadOnlySpan<int> labels, MatrixView probabilities)
    {
        Shape.Require(probabilities.Rows == logits.Rows && probabilities.Cols == logits.Cols, "softmax output shape differs from logits");
        Shape.Require(labels.IsEmpty || labels.Length == logits.Rows, $"{labels.Length} labels for {logits.Rows} rows");
        double lossSum = 0;
        int rows = logits.Rows, cols = logits.Cols;
        // Narrow rows (10 classes) are shorter than a vector: write every row's z − max first, then run the
        // vector exp over the whole contiguous block at once. Same subtraction, same exp: the same bits.
        bool wholeBlock = cols < 32 && rows > 1 && probabilities.Stride == cols;
        if (wholeBlock)
        {
            for (int i = 0; i < rows; i++)
            {
                ReadOnlySpan<float> z = logits.Row(i);
                Span<float> p = probabilities.Row(i);
                float max = RowMax(z);
                for (int j = 0; j < z.Length; j++) p[j] = z[j] - max;
            }
            _ew.Exp(probabilities.Data[..(rows * cols)]);
        }
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<float> z = logits.Row(i);
            Span<float> p = probabilities.Row(i);
            float max = RowMax(z);
            if (!wholeBlock) _ew.ExpShifted(z, max, p);
            float sum = 0f;
            for (int j = 0; j < p.Length; j++) sum += p[j]; // the reference's order
            _ew.Divide(p, sum);
            if (!labels.IsEmpty) lossSum += MathF.Log(sum) - (z[labels[i]] - max);
        }
        return lossSum;
    }

    static float RowMax(ReadOnlySpan<float> z)
    {
        float max = float.NegativeInfinity;
        for (int j = 0; j < z.Length; j++) max = MathF.Max(max, z[j]);
        return max;
    }

    public void SoftmaxCrossEntropyBackward(ReadOnlyMatrixView probabilities, ReadOnlySpan<int> labels, float scale, MatrixView dLogits)
    {
        Shape.Require(labels.Length == probabilities.Rows, $"{labels.Length} labels for {probabilities.Rows} rows");
        Shape.Require(dLogits.Rows == probabilities.Rows && dLogits.Cols == probabilities.Cols, "dLogits shape differs from probabilities");
        for (int i = 0; i < probabilities.Rows; i++)
        {
            _ew.Scale(probabilities.Row(i), scale, dLogits.Row(i));
            int y = labels[i];
            // Like the reference, a label outside the row changes nothing (callers validate labels first).
            if ((uint)y < (uint)probabilities.Cols) dLogits[i, y] = (probabilities[i, y] - 1f) * scale;
        }
    }

    public void ColumnSums(ReadOnlyMatrixView m, Span<float> sums)
    {
        Shape.Require(sums.Length == m.Cols, $"{sums.Length} sums for {m.Cols} columns");
        sums.Clear();
        for (int i = 0; i < m.Rows; i++) _ew.AddInPlace(sums, m.Row(i));
    }

    public void BytesToFloats(ReadOnlySpan<byte> source, Span<float> destination, float divisor)
    {
        Shape.Require(destination.Length == source.Length, "source and destination lengths differ");
        _ew.BytesToFloats(source, destination, divisor);
    }

    public override unsafe void Update<TRule>(in TRule rule, Span<float> weights, ReadOnlySpan<float> gradient, Span<float> first, Span<float> second)
    {
        RequireUpdateLengths<TRule>(weights.Length, gradient.Length, first.Length, second.Length);
        if (!_updates.TryGetValue(typeof(TRule), out object? work)) _updates[typeof(TRule)] = work = new UpdateSlices<TRule>(_ew);
        var slices = (UpdateSlices<TRule>)work;
        fixed (float* w = weights, g = gradient, s1 = first, s2 = second)
        {
            slices.Set(rule, w, g, s1, s2, weights.Length);
            // Element-wise, so any split gives the same bits; each thread updates the part of W whose gradient rows
            // it most likely computed (the weight-gradient GEMM splits the same way), which keeps them in its cache.
            if (_pool.Threads == 1 || weights.Length < MinParallelActivation) slices.Execute(0, 1);
            else _pool.Run(slices, _pool.Threads);
            slices.Set(default, null, null, null, null, 0);
        }
    }

    readonly Dictionary<Type, object> _updates = []; // one UpdateSlices per rule type, made on first use

    /// <summary>An optimizer update of a slice of a tensor (and its state), as a part of a parallel run.</summary>
    sealed unsafe class UpdateSlices<TRule>(IElementWise ew) : IParallelWork where TRule : struct, IUpdateRule
    {
        TRule _rule;
        float* _w, _g, _s1, _s2;
        int _length;

        public void Set(in TRule rule, float* w, float* g, float* s1, float* s2, int length)
        {
            _rule = rule;
            _w = w; _g = g; _s1 = s1; _s2 = s2;
            _length = length;
        }

        public void Execute(int part, int parts)
        {
            // Slice boundaries on multiples of 64 floats (whole cache lines, whole vectors).
            long blocks = (_length + 63) / 64;
            int start = (int)Math.Min(_length, blocks * part / parts * 64), end = (int)Math.Min(_length, blocks * (part + 1) / parts * 64);
            int n = end - start, stateN = TRule.StateVectors >= 1 ? n : 0, secondN = TRule.StateVectors >= 2 ? n : 0;
            ew.Update(_rule, new Span<float>(_w + start, n), new ReadOnlySpan<float>(_g + start, n),
                      new Span<float>(_s1 + start, stateN), new Span<float>(_s2 + start, secondN));
        }
    }

    /// <summary>x = exp(x) with this backend's vector exp (exposed for tests of the exp kernel).</summary>
    internal void Exp(Span<float> x) => _ew.Exp(x);
}
