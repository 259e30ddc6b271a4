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
        workspaces ??= new();
        if (data.Width != network.InputWidth)
            throw new EngineException($"{data.Source}: {data.Width} features per example, the model takes {network.InputWidth}");
        int k = network.ClassCount;
        var result = new float[(long)data.Count * k];
        if (kernels.Parallelism > 1 && Math.Min(batchSize, data.Count) >= 2 * RowParallelForward.MinRowsPerPart)
        {
            new RowParallelForward(network, kernels, data, batchSize, result, workspaces).Run();
            return result;
        }
        ForEachBatch(network, kernels, data, batchSize, workspaces, (start, probabilities, _) =>
        {
            for (int r = 0; r < probabilities.Rows; r++)
                probabilities.Row(r).CopyTo(result.AsSpan((start + r) * k, k));
        }, useLabels: false);
        return result;
    }

    /// <summary>
    /// Inference with the rows of each batch split between the backend's threads, each running the whole forward pass
    /// (every layer, softmax, the copy out) on its rows with single-threaded kernels: one hand-off per batch instead of
    /// one per parallel kernel, and the small serial kernels (bias rows, softmax) run in parallel too. A row's
    /// probabilities depend on that row alone — a GEMM split by rows keeps each element's fma sequence — so the result
    /// has the bits of the sequential pass. (Evaluate keeps the sequential pass: its loss is one sum in row order.)
    /// </summary>
    sealed class RowParallelForward : IParallelWork
    {
        /// <summary>Fewer rows per thread than this and the hand-off costs more than it saves.</summary>
        public const int MinRowsPerPart = 16;

        readonly Network _network;
        readonly IKernels _kernels;
        readonly Dataset _data;
        readonly int _batch;
        readonly float[] _result;
        readonly Workspace[] _workspaces;
        int _start, _rows;

        public RowParallelForward(Network network, IKernels kernels, Dataset data, int batchSize, float[] result, InferenceWorkspaces workspaces)
        {
            (_network, _kernels, _data, _result) = (network, kernels, data, result);
            _batch = Math.Max(1, Math.Min(batchSize, data.Count));
            int parts = kernels.Parallelism;
            _workspaces = new Workspace[parts];
            for (int p = 0; p < parts; p++)
            {
                _workspaces[p] = workspaces.For(network, p, _batch); // a short last batch may run as one part
                kernels.PartKernels(p); // made here, not racing inside the parts
            }
        }

        public void Run()
        {
            for (_start = 0; _start < _data.Count; _start += _batch)
            {
                _rows = Math.Min(_batch, _data.Count - _start);
                _kernels.RunParts(this, Math.Min(_kernels.Parallelism, Math.Max(1, _rows / MinRowsPerPart)));
            }
        }

        public void Execute(int part, int parts)
        {
            int from = _start + (int)((long)_rows * part / parts), to = _start + (int)((long)_rows * (part + 1) / parts);
            if (from >= to) return;
            int d = _data.Width, k = _network.ClassCount, rows = to - from;
            var x = new ReadOnlyMatrixView(_data.Features.AsSpan(from * d, rows * d), rows, d);
            _network.Forward(_kernels.PartKernels(part), x, default, _workspaces[part]);
            ReadOnlyMatrixView probabilities = _workspaces[part].Probabilities(rows);
            for (int r = 0; r < rows; r++) probabilities.Row(r).CopyTo(_result.AsSpan((from + r) * k, k));
        }
    }

    delegate void BatchResult(int start, ReadOnlyMatrixView probabilities, double lossSum);

    static void ForEachBatch(Network network, IKernels kernels, Dataset data, int batchSize, InferenceWorkspaces workspaces, BatchResult onBatch,
        bool useLabels = true)
    {
        int batch = Math.Max(1, Math.Min(batchSize, data.Count));
        var workspace = workspaces.For(network, 0, batch);
        int d = data.Width;
        for (int start = 0; start < data.Count; start += batch)
        {
            int rows = Math.Min(batch, data.Count - start);
            var x = new ReadOnlyMatrixView(data.Features.AsSpan(start * d, rows * d), rows, d);
            ReadOnlySpan<int> y = useLabels ? data.Labels.AsSpan(start, rows) : default;
            double loss = network.Forward(kernels, x, y, workspace);
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
