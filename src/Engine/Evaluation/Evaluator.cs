using Engine.Data;
using Engine.Kernels;
using Engine.Nn;
using Engine.Numerics;

namespace Engine.Evaluation;

/// <summary>Per-class figures from the confusion matrix (one-vs-rest).</summary>
/// <param name="Label">The class index.</param>
/// <param name="Support">TP + FN: examples whose true class is this one.</param>
/// <param name="Predicted">TP + FP: examples predicted as this class.</param>
/// <param name="Sensitivity">TP / (TP + FN): of the examples of this class, the share recognised. NaN without support.</param>
/// <param name="Specificity">TN / (TN + FP): of the other examples, the share not labelled as this class.</param>
/// <param name="Precision">TP / (TP + FP): of the predictions of this class, the share right. NaN when never predicted.</param>
public sealed record ClassMetrics(int Label, int Support, int Predicted, double Sensitivity, double Specificity, double Precision);

/// <summary>Accuracy, mean cross-entropy, confusion matrix and per-class metrics of a model on a labelled set.</summary>
public sealed class EvaluationResult
{
    /// <summary>Confusion[t][p] counts examples of true class t predicted as p.</summary>
    public int[][] Confusion { get; }
    /// <summary>Number of examples evaluated (the sum of the confusion matrix).</summary>
    public int Samples { get; }
    /// <summary>Mean cross-entropy per example, in nats.</summary>
    public double Loss { get; }
    /// <summary>Share of examples whose arg-max prediction is the true class, in [0, 1]; NaN when there are none.</summary>
    public double Accuracy { get; }
    /// <summary>One-vs-rest metrics, indexed by class.</summary>
    public IReadOnlyList<ClassMetrics> Classes { get; }

    /// <summary>Derives the counts and metrics from a confusion matrix.</summary>
    /// <param name="confusion">Square, confusion[t][p] = examples of true class t predicted as p; kept, not copied.</param>
    /// <param name="loss">Mean cross-entropy per example.</param>
    public EvaluationResult(int[][] confusion, double loss)
    {
        Confusion = confusion;
        int k = confusion.Length;
        Samples = confusion.Sum(r => r.Sum());
        Loss = loss;
        int correct = 0;
        for (int c = 0; c < k; c++) correct += confusion[c][c];
        Accuracy = Samples == 0 ? double.NaN : (double)correct / Samples;
        var classes = new ClassMetrics[k];
        for (int c = 0; c < k; c++)
        {
            int tp = confusion[c][c];
            int support = confusion[c].Sum();
            int predicted = 0;
            for (int t = 0; t < k; t++) predicted += confusion[t][c];
            int fn = support - tp, fp = predicted - tp, tn = Samples - tp - fn - fp;
            classes[c] = new ClassMetrics(c, support, predicted, Ratio(tp, tp + fn), Ratio(tn, tn + fp), Ratio(tp, tp + fp));
        }
        Classes = classes;
    }

    static double Ratio(int a, int b) => b == 0 ? double.NaN : (double)a / b;
}

internal static class Evaluator
{
    public const int DefaultBatch = 1000;

    /// <summary>Evaluates on a scaled, labelled dataset (with <paramref name="workspaces"/> kept from earlier calls, if given).</summary>
    public static EvaluationResult Evaluate(Network network, IKernels kernels, Dataset data, int batchSize = DefaultBatch,
        InferenceWorkspaces? workspaces = null)
    {
        network.CheckLabelled(data);
        int k = network.ClassCount;
        var confusion = new int[k][];
        for (int c = 0; c < k; c++) confusion[c] = new int[k];
        double lossSum = 0;
        ForEachBatch(network, kernels, data, batchSize, workspaces ?? new(), (start, probabilities, loss) =>
        {
            lossSum += loss;
            for (int r = 0; r < probabilities.Rows; r++)
                confusion[data.Labels![start + r]][ArgMax(probabilities.Row(r))]++;
        });
        return new EvaluationResult(confusion, lossSum / data.Count);
    }

    /// <summary>Class probabilities (Count, ClassCount) for a scaled dataset, labelled or not (with <paramref name="workspaces"/> kept from earlier calls, if given).</summary>
    public static float[] Predict(Network network, IKernels kernels, Dataset data, int batchSize = DefaultBatch,
        InferenceWorkspaces? workspaces = null)
    {
        if (data.Width != network.InputWidth)
            throw new EngineException($"{data.Source}: {data.Width} features per example, the model takes {network.InputWidth}");
        var result = new float[(long)data.Count * network.ClassCount];
        Predict(network, kernels, data.Features, scaling: null, result, workspaces ?? new(), batchSize);
        return result;
    }

    /// <summary>
    /// Class probabilities of the rows in <paramref name="rows"/> (row-major, the network's input width) into
    /// <paramref name="probabilities"/> (rows × classes). With a <paramref name="scaling"/>, each batch is scaled inside
    /// the pass into its workspace, so the input is never copied whole; once <paramref name="workspaces"/> are sized for
    /// the batch, a call allocates nothing. With more than one thread and enough rows, each batch's rows are split
    /// between the threads, each running the whole forward pass (every layer, softmax, the copy out) on its rows with
    /// single-threaded kernels: one hand-off per batch, and the small kernels run in parallel too. A row's probabilities
    /// depend on that row alone (a GEMM split by rows keeps each element's fma sequence), so any split gives the bits of
    /// the sequential pass.
    /// </summary>
    public static unsafe void Predict(Network network, IKernels kernels, ReadOnlySpan<float> rows, InputScaling? scaling, Span<float> probabilities,
        InferenceWorkspaces workspaces, int batchSize = DefaultBatch)
    {
        int d = network.InputWidth, k = network.ClassCount, count = rows.Length / d;
        if (rows.Length % d != 0) throw new EngineException($"{rows.Length} feature values are not whole rows of {d}");
        if (probabilities.Length != (long)count * k) throw new ArgumentException($"{probabilities.Length} probabilities for {count} rows of {k} classes", nameof(probabilities));
        if (count == 0) return;
        int batch = Math.Max(1, Math.Min(batchSize, count));
        int parts = kernels.Parallelism > 1 && batch >= 2 * ForwardPass.MinRowsPerPart ? kernels.Parallelism : 1;
        var pass = workspaces.Pass(network, kernels, batch, parts);
        fixed (float* x = rows, p = probabilities)
        {
            pass.Begin(x, p, scaling, workspaces.Packed(network, kernels));
            try
            {
                for (int start = 0; start < count; start += batch)
                {
                    int n = Math.Min(batch, count - start);
                    pass.Batch(start, n);
                    int split = Math.Min(parts, Math.Max(1, n / ForwardPass.MinRowsPerPart));
                    if (split == 1) pass.Run(kernels, 0, 1); // the whole backend: its GEMMs may still use every thread
                    else kernels.RunParts(pass, split);
                }
            }
            finally { pass.End(); }
        }
    }

    /// <summary>
    /// The forward pass of one <see cref="Predict(Network, IKernels, ReadOnlySpan{float}, InputScaling?, Span{float}, InferenceWorkspaces, int)"/>
    /// call, as parts of a parallel run; kept in <see cref="InferenceWorkspaces"/> between calls so a call allocates nothing.
    /// </summary>
    internal sealed unsafe class ForwardPass : IParallelWork
    {
        /// <summary>Fewer rows per thread than this and the hand-off costs more than it saves.</summary>
        public const int MinRowsPerPart = 16;

        readonly Network _network;
        readonly IKernels _kernels;
        readonly Workspace[] _workspaces;
        float* _rows, _probabilities;
        InputScaling? _scaling;
        PackedWeights?[]? _packed;
        int _start, _count;

        public ForwardPass(Network network, IKernels kernels, Workspace[] workspaces)
        {
            (_network, _kernels, _workspaces) = (network, kernels, workspaces);
            for (int part = 1; part < workspaces.Length; part++) kernels.PartKernels(part); // made here, not racing inside the parts
        }

        public bool Fits(Network network, IKernels kernels, int batch, int parts) =>
            ReferenceEquals(network, _network) && ReferenceEquals(kernels, _kernels) && parts <= _workspaces.Length && batch <= _workspaces[0].BatchCapacity;

        public void Begin(float* rows, float* probabilities, InputScaling? scaling, PackedWeights?[] packed)
        {
            _rows = rows;
            _probabilities = probabilities;
            _scaling = scaling;
            _packed = packed;
        }

        public void Batch(int start, int count) => (_start, _count) = (start, count);

        public void End()
        {
            _rows = _probabilities = null;
            _scaling = null;
            _packed = null;
        }

        public void Execute(int part, int parts) => Run(_kernels.PartKernels(part), part, parts);

        public void Run(IKernels kernels, int part, int parts)
        {
            int from = _start + (int)((long)_count * part / parts), to = _start + (int)((long)_count * (part + 1) / parts);
            if (from >= to) return;
            int d = _network.InputWidth, k = _network.ClassCount, rows = to - from;
            Workspace workspace = _workspaces[part];
            var raw = new ReadOnlySpan<float>(_rows + (long)from * d, rows * d);
            ReadOnlyMatrixView x;
            if (_scaling is null) x = new ReadOnlyMatrixView(raw, rows, d);
            else
            {
                MatrixView scaled = workspace.ScaledInput(rows);
                _scaling.ApplyRows(raw, scaled.Data, d);
                x = scaled.AsReadOnly();
            }
            _network.Forward(kernels, x, default, workspace, _packed);
            workspace.Probabilities(rows).Data[..(rows * k)].CopyTo(new Span<float>(_probabilities + (long)from * k, rows * k));
        }
    }

    delegate void BatchResult(int start, ReadOnlyMatrixView probabilities, double lossSum);

    static void ForEachBatch(Network network, IKernels kernels, Dataset data, int batchSize, InferenceWorkspaces workspaces, BatchResult onBatch,
        bool useLabels = true)
    {
        int batch = Math.Max(1, Math.Min(batchSize, data.Count));
        var workspace = workspaces.For(network, 0, batch);
        var packed = workspaces.Packed(network, kernels);
        int d = data.Width;
        for (int start = 0; start < data.Count; start += batch)
        {
            int rows = Math.Min(batch, data.Count - start);
            var x = new ReadOnlyMatrixView(data.Features.AsSpan(start * d, rows * d), rows, d);
            ReadOnlySpan<int> y = useLabels ? data.Labels.AsSpan(start, rows) : default;
            double loss = network.Forward(kernels, x, y, workspace, packed);
            onBatch(start, workspace.Probabilities(rows), loss);
        }
    }

    /// <summary>Rows whose <see cref="ArgMax"/> is their label.</summary>
    public static int CountCorrect(ReadOnlyMatrixView probabilities, ReadOnlySpan<int> labels)
    {
        int correct = 0;
        for (int r = 0; r < probabilities.Rows; r++)
            if (ArgMax(probabilities.Row(r)) == labels[r]) correct++;
        return correct;
    }

    /// <summary>Index of the largest value; the first one wins ties; NaN never wins.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int j = 1; j < values.Length; j++)
            if (values[j] > values[best] || float.IsNaN(values[best])) best = j;
        return best;
    }
}
