using Engine.Data;
using Engine.Evaluation;
using Engine.Kernels;
using Engine.Nn;
using Engine.Numerics;
using Engine.Serialization;
using Engine.Training;

namespace Engine;

/// <summary>Where a <see cref="Classifier"/> computes: the backend, its worker threads and the instruction set.</summary>
/// <param name="Backend"><c>simd</c> (the default, fast) or <c>reference</c> (scalar; bit-identical results).</param>
/// <param name="Threads">Degree of parallelism of the simd backend (≥ 1).</param>
/// <param name="Isa">Force an instruction set for simd; null picks the best this CPU supports (or <c>ENGINE_ISA</c>).</param>
public sealed record ComputeOptions(string Backend = Backends.Default, int Threads = 1, InstructionSet? Isa = null);

/// <summary>
/// The engine's entry point for programs that embed it: a fully-connected softmax classifier together with its
/// input scaling and the backend it computes on. Inputs are raw (unscaled) features; the classifier applies the
/// scaling it was created or trained with. Every method may be called from any thread: calls on one instance run
/// one at a time (its backend and work buffers are shared), so concurrent predictions give exactly the
/// single-threaded results; separate instances run in parallel.
/// </summary>
/// <example>
/// <code>
/// var data = DataSource.Load(DataSource.BundledDirectory());
/// using var model = Classifier.Create(784, [128], 10, Activation.Tanh, InputScaling.FitMax(data.Train));
/// model.Train(data.Train, new TrainingOptions(Epochs: 10, BatchSize: 32, LearningRate: 0.1f, L2: 1e-4f, Seed: 0, Shuffle: true));
/// Console.WriteLine(model.Evaluate(data.Test!).Accuracy);
/// </code>
/// </example>
public sealed class Classifier : IDisposable
{
    readonly Network _network;
    readonly IKernels _kernels;
    // Serializes calls: the backend and the step buffers are shared by every call on this instance.
    readonly Lock _gate = new();
    readonly InferenceWorkspaces _inference = new(); // reused by every Evaluate and Predict (under _gate)
    // TrainStep's state, kept for the last batch size so repeated steps allocate nothing.
    Trainer? _stepTrainer;
    OptimizerState? _stepOptimizer;
    float[] _stepInput = [];

    Classifier(Network network, InputScaling scaling, ComputeOptions? compute)
    {
        compute ??= new ComputeOptions();
        if (compute.Threads < 1 || compute.Threads > Limits.MaxThreads)
            throw new EngineException($"threads must be 1 to {Limits.MaxThreads:N0} (the limit), got {compute.Threads:N0}");
        if (scaling.Width is int w && w != network.InputWidth)
            throw new EngineException($"the input scaling is for {w} features, the network takes {network.InputWidth}");
        _network = network;
        Scaling = scaling;
        _kernels = Backends.Create(compute.Backend, compute.Threads, compute.Isa);
    }

    /// <summary>A new network with Glorot (tanh, sigmoid) or He (ReLU) uniform weights drawn from <paramref name="seed"/>.</summary>
    /// <param name="inputWidth">Features per example.</param>
    /// <param name="hiddenWidths">Width of each hidden layer, input side first; may be empty (softmax regression).</param>
    /// <param name="classCount">Number of classes (≥ 2).</param>
    /// <param name="hiddenActivation">Activation of every hidden layer.</param>
    /// <param name="scaling">How raw inputs are scaled, e.g. <see cref="InputScaling.FitMax"/> of the training set.</param>
    /// <param name="seed">Seed of the initial weights.</param>
    /// <param name="compute">Backend and threads; null for simd on one thread.</param>
    public static Classifier Create(int inputWidth, IReadOnlyList<int> hiddenWidths, int classCount, Activation hiddenActivation,
                                    InputScaling scaling, ulong seed = 0, ComputeOptions? compute = null)
    {
        if (classCount < 2) throw new EngineException($"a classifier needs at least 2 classes, got {classCount}");
        var network = new Network(inputWidth, hiddenWidths, classCount, hiddenActivation);
        network.InitializeWeights(seed);
        return new Classifier(network, scaling, compute);
    }

    /// <summary>Loads a model saved by <see cref="Save"/> (or <c>engine train --out</c>).</summary>
    public static Classifier Load(string path, ComputeOptions? compute = null)
    {
        Model model = ModelFile.Load(path);
        return new Classifier(model.Network, model.Scaling, compute);
    }

    /// <summary>A network whose weights come from an .npz file with arrays W1, b1, W2, b2, … (W as fan-in × fan-out).</summary>
    public static Classifier FromWeights(string npzPath, Activation hiddenActivation, InputScaling scaling, ComputeOptions? compute = null) =>
        new(Npz.ToNetwork(NpyReader.ReadNpz(npzPath), hiddenActivation, npzPath), scaling, compute);

    /// <summary>
    /// A classifier read from an ONNX file: the MLPs PyTorch's torch.onnx.export (Gemm, transB = 1), Keras/tf2onnx (MatMul
    /// + Add) and <see cref="ExportOnnx"/> write, with Relu, Tanh or Sigmoid between the layers, Flatten or Reshape at the
    /// input, the engine's Div / Sub+Div input scaling, and Softmax, LogSoftmax or logits at the end (opsets 9–21).
    /// Export then import gives the same bits.
    /// </summary>
    /// <exception cref="EngineException">The file is unreadable or its graph is not such a classifier: the message names the node, its op and why.</exception>
    public static Classifier ImportOnnx(string path, ComputeOptions? compute = null)
    {
        Model model = OnnxImport.Read(path);
        return new Classifier(model.Network, model.Scaling, compute);
    }

    /// <summary>
    /// A network whose weights come from a safetensors file with PyTorch's nn.Linear names and layout ("0.weight" (out, in),
    /// "0.bias", …, or any "prefix.weight"/"prefix.bias" pairs, ordered by prefix); a weights file carries no activation
    /// and no input scaling, so they are given.
    /// </summary>
    /// <exception cref="EngineException">The file is unreadable, or its tensors are not a chain of Linear layers.</exception>
    public static Classifier FromSafetensors(string path, Activation hiddenActivation, InputScaling scaling, ComputeOptions? compute = null) =>
        new(Safetensors.Read(path, hiddenActivation), scaling, compute);

    /// <summary>Writes the weights as safetensors with PyTorch's nn.Sequential(Linear, activation, …) names and layout (atomically).</summary>
    public void ExportSafetensors(string path) => Safetensors.Write(path, _network);

    /// <summary>Saves network and scaling atomically: an interrupted save leaves any previous file intact.</summary>
    public void Save(string path) => ModelFile.Save(path, new Model(_network, Scaling));

    /// <summary>The model file's bytes (what <see cref="Save"/> writes), for callers that keep models in memory or a database.</summary>
    public byte[] ToBytes()
    {
        var stream = new MemoryStream();
        lock (_gate) ModelFile.Write(stream, new Model(_network, Scaling));
        return stream.ToArray();
    }

    /// <summary>A model from the bytes of a model file (<see cref="ToBytes"/>, <see cref="Save"/>); validated like <see cref="Load"/>.</summary>
    /// <param name="bytes">The whole file.</param>
    /// <param name="compute">Backend and threads; null for simd on one thread.</param>
    /// <param name="name">What error messages call the bytes.</param>
    public static Classifier FromBytes(ReadOnlySpan<byte> bytes, ComputeOptions? compute = null, string name = "model bytes")
    {
        Model model = ModelFile.Read(bytes, name);
        return new Classifier(model.Network, model.Scaling, compute);
    }

    /// <summary>Number of dense layers (hidden layers + the output layer).</summary>
    public int LayerCount => _network.Layers.Count;

    /// <summary>Shape of layer <paramref name="layer"/> (0-based; W{layer+1} in the interchange naming): W is FanIn × FanOut, b has FanOut values.</summary>
    public (int FanIn, int FanOut) LayerShape(int layer)
    {
        var l = Layer(layer);
        return (l.FanIn, l.FanOut);
    }

    /// <summary>Copies layer <paramref name="layer"/>'s weights (FanIn × FanOut, row-major, so z = x·W + b) and bias out.</summary>
    /// <exception cref="EngineException">The layer does not exist or a span's length is not the layer's.</exception>
    public void GetLayer(int layer, Span<float> weights, Span<float> bias)
    {
        var l = LayerWithLengths(layer, weights.Length, bias.Length);
        lock (_gate)
        {
            _network.Parameters.AsSpan(l.WeightOffset, l.WeightCount).CopyTo(weights);
            _network.Parameters.AsSpan(l.BiasOffset, l.FanOut).CopyTo(bias);
        }
    }

    /// <summary>
    /// Replaces layer <paramref name="layer"/>'s weights and bias (layouts as in <see cref="GetLayer"/>). Non-finite values
    /// are rejected before anything changes. Optimizer state kept by <see cref="TrainStep(ReadOnlySpan{float}, ReadOnlySpan{int}, Optimizer, float, float)"/> carries on.
    /// </summary>
    public void SetLayer(int layer, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
    {
        var l = LayerWithLengths(layer, weights.Length, bias.Length);
        // A NaN weight would silently poison every later prediction and gradient.
        if (!Network.AllFinite(weights) || !Network.AllFinite(bias)) throw new EngineException($"layer {layer}: weights and biases must be finite numbers");
        lock (_gate)
        {
            weights.CopyTo(_network.Parameters.AsSpan(l.WeightOffset, l.WeightCount));
            bias.CopyTo(_network.Parameters.AsSpan(l.BiasOffset, l.FanOut));
            _inference.WeightsChanged();
        }
    }

    DenseLayer Layer(int layer) =>
        (uint)layer < (uint)_network.Layers.Count ? _network.Layers[layer]
        : throw new EngineException($"layer {layer} does not exist: the network has layers 0..{_network.Layers.Count - 1}");

    DenseLayer LayerWithLengths(int layer, int weightLength, int biasLength)
    {
        var l = Layer(layer);
        if (weightLength != l.WeightCount || biasLength != l.FanOut)
            throw new EngineException($"layer {layer} has {l.FanIn} x {l.FanOut} weights and {l.FanOut} biases, got room for {weightLength} and {biasLength}");
        return l;
    }

    /// <summary>The ONNX model <see cref="ExportOnnx"/> writes, as bytes.</summary>
    public byte[] ToOnnx()
    {
        lock (_gate) return OnnxExport.ToBytes(new Model(_network, Scaling));
    }

    /// <summary>Writes the weights as W1, b1, W2, b2, … to an .npz file NumPy can read (atomically).</summary>
    public void ExportWeights(string npzPath) => Npz.Write(npzPath, Npz.FromNetwork(_network));

    /// <summary>
    /// Writes a standard ONNX model (IR 8, opset 13; atomically): input <c>input</c> [batch, InputWidth] of raw
    /// features, then the input scaling, MatMul + Add and the activation per layer, and Softmax, giving
    /// <c>probabilities</c> [batch, ClassCount]. ONNX Runtime reproduces the engine's probabilities to ~1e-6.
    /// </summary>
    public void ExportOnnx(string path) => OnnxExport.Write(path, new Model(_network, Scaling));

    /// <summary>Features per example.</summary>
    public int InputWidth => _network.InputWidth;

    /// <summary>Number of classes (width of the softmax).</summary>
    public int ClassCount => _network.ClassCount;

    /// <summary>Trainable parameters (weights and biases).</summary>
    public int ParameterCount => _network.Parameters.Length;

    /// <summary>The input scaling applied to every raw example before the first layer.</summary>
    public InputScaling Scaling { get; private set; }

    /// <summary>The backend in use (<c>simd</c> or <c>reference</c>).</summary>
    public string Backend => _kernels.Name;

    /// <summary>Layer widths and activation, e.g. <c>784-128-10 tanh</c>.</summary>
    public string Describe() => _network.Describe();

    /// <summary>
    /// Mini-batch training with the optimizer, schedule and early stopping of <paramref name="options"/> (default: SGD
    /// with L2 on the weights); each update uses the average of the batch's per-example gradients. When <paramref name="evaluation"/> is given it is evaluated after
    /// every epoch. <paramref name="onEpoch"/> sees each epoch's report as it ends, <paramref name="onProgress"/> the
    /// position after every step (it runs on the training thread: keep it short).
    /// </summary>
    /// <returns>One report per epoch.</returns>
    public IReadOnlyList<EpochReport> Train(Dataset train, TrainingOptions options, Dataset? evaluation = null, Action<EpochReport>? onEpoch = null,
                                            CheckpointOptions? checkpoints = null, CancellationToken cancellation = default,
                                            Action<TrainingProgress>? onProgress = null)
    {
        options.Validate();
        lock (_gate)
        {
            // The weights change from here on; a callback may predict (the lock is re-entrant), so the packed copies
            // inference keeps are dropped before each callback and once training is over, however it ends.
            _inference.WeightsChanged();
            var control = RunControl.Plain with
            {
                Cancellation = cancellation,
                OnProgress = onProgress is null ? null : p => { _inference.WeightsChanged(); onProgress(p); },
            };
            if (checkpoints is not null)
            {
                control = control with { Checkpointer = new Checkpointer(checkpoints, network => new Model(network, Scaling)) };
                if (!checkpoints.Resume && CheckpointFile.List(checkpoints.Directory).Any())
                    throw new EngineException($"{checkpoints.Directory}: already holds checkpoints; continue that run by resuming it (CheckpointOptions.Resume; --resume on the command line), or use another directory");
                if (checkpoints.Resume)
                {
                    string newest = CheckpointFile.List(checkpoints.Directory).LastOrDefault()
                        ?? throw new EngineException($"{checkpoints.Directory}: no checkpoint to resume from");
                    Checkpoint c = Checkpoint.Load(newest);
                    Restore(c, options, newest);
                    control = control with { From = c.Cursor, Reports = c.Reports, Optimizer = c.Optimizer, Best = c.Best };
                }
            }
            Dataset scaledTrain = Scaling.Apply(train);
            Dataset? scaledEvaluation = evaluation is null ? null : Scaling.Apply(evaluation);
            try
            {
                return new Trainer(_network, _kernels, options).Train(scaledTrain, scaledEvaluation,
                    onEpoch is null ? null : e => { _inference.WeightsChanged(); onEpoch(e); }, control);
            }
            finally { _inference.WeightsChanged(); }
        }
    }

    /// <summary>Takes weights and scaling from a checkpoint written by a run with the same settings and network.</summary>
    void Restore(Checkpoint c, TrainingOptions options, string path)
    {
        var o = c.Options;
        if (o with { Epochs = options.Epochs } != options)
            throw new EngineException($"{path}: written by a run with batch {o.BatchSize}, lr {o.LearningRate}, l2 {o.L2}, seed {o.Seed}, " +
                                      $"shuffle {o.Shuffle}, optimizer {o.Optimizer.Describe()}, schedule {o.Schedule.Describe()}, " +
                                      $"early stopping {o.EarlyStoppingPatience}; resume with the same settings (only the number of epochs may change)");
        if (o.Schedule.Kind == ScheduleKind.Cosine && o.Epochs != options.Epochs)
            throw new EngineException($"{path}: the cosine schedule was laid out over {o.Epochs} epochs; resume with {o.Epochs} epochs");
        if (c.Model.Network.Describe() != _network.Describe())
            throw new EngineException($"{path}: holds a {c.Model.Network.Describe()} network, this run builds {_network.Describe()}");
        c.Model.Network.Parameters.CopyTo(_network.Parameters); // inside Train, which drops the packed weights
        Scaling = c.Model.Scaling;
    }

    /// <summary>
    /// One SGD step on one batch of raw examples (for callers that run their own loop): forward, backward, and
    /// w ← w − lr·(mean gradient + l2·w) on the weights (biases without l2). Returns the batch's mean cross-entropy
    /// before the update. Repeated steps of the same batch size allocate nothing.
    /// </summary>
    /// <param name="features">rows × InputWidth values, row-major.</param>
    /// <param name="labels">One class per row.</param>
    public double TrainStep(ReadOnlySpan<float> features, ReadOnlySpan<int> labels, float learningRate, float l2) =>
        TrainStep(features, labels, Optimizer.Sgd, learningRate, l2);

    /// <summary>
    /// One step of <paramref name="optimizer"/> on one batch of raw examples, for callers that run their own loop
    /// (and their own learning-rate schedule). The optimizer's state — velocity, or Adam's moments and step count —
    /// carries over from one call to the next while the optimizer and its settings stay the same (the learning rate,
    /// l2 and batch size may change); another optimizer starts from zero state. Returns the batch's mean
    /// cross-entropy before the update. Repeated steps of the same batch size and rate allocate nothing.
    /// </summary>
    /// <param name="features">rows × InputWidth values, row-major.</param>
    /// <param name="labels">One class per row.</param>
    /// <param name="optimizer">The update rule (see <see cref="TrainingOptions.Optimizer"/>).</param>
    /// <param name="learningRate">This step's learning rate.</param>
    /// <param name="l2">L2 on the weights (AdamW: the decoupled weight decay).</param>
    public double TrainStep(ReadOnlySpan<float> features, ReadOnlySpan<int> labels, Optimizer optimizer, float learningRate, float l2)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        int rows = labels.Length, d = InputWidth;
        if (rows < 1 || (long)rows * d != features.Length)
            throw new EngineException($"{features.Length} feature values and {rows} labels do not make rows of {d} features");
        foreach (int label in labels)
            if ((uint)label >= (uint)ClassCount) throw new EngineException($"label {label} is not a class 0..{ClassCount - 1}");
        lock (_gate)
        {
            if (_stepTrainer is not { Options: var o } || o.BatchSize != rows || o.LearningRate != learningRate || o.L2 != l2 || o.Optimizer != optimizer)
            {
                var options = new TrainingOptions(1, rows, learningRate, l2, 0, false) { Optimizer = optimizer };
                options.Validate(); // before the state below is replaced
                if (_stepOptimizer?.Optimizer != optimizer) _stepOptimizer = new OptimizerState(optimizer, ParameterCount);
                _stepTrainer = new Trainer(_network, _kernels, options, _stepOptimizer);
                if (_stepInput.Length < features.Length) _stepInput = new float[features.Length];
            }
            Scaling.ApplyRows(features, _stepInput, d);
            _inference.WeightsChanged();
            return _stepTrainer.Step(new ReadOnlyMatrixView(_stepInput.AsSpan(0, features.Length), rows, d), labels).LossSum / rows;
        }
    }

    /// <summary>Accuracy, mean cross-entropy, confusion matrix and per-class metrics on labelled raw data.</summary>
    public EvaluationResult Evaluate(Dataset data)
    {
        Dataset scaled = Scaling.Apply(data);
        lock (_gate) return Evaluator.Evaluate(_network, _kernels, scaled, workspaces: _inference);
    }

    /// <summary>Class probabilities (Count × ClassCount, row-major) for raw data; the model's scaling is applied batch by batch.</summary>
    public float[] PredictProbabilities(Dataset data)
    {
        if (data.Width != InputWidth)
            throw new EngineException($"{data.Source}: {data.Width} features per example, the model takes {InputWidth}");
        var probabilities = new float[(long)data.Count * ClassCount];
        lock (_gate) Evaluator.Predict(_network, _kernels, data.Features, Scaling, probabilities, _inference);
        return probabilities;
    }

    /// <summary>Class probabilities for <paramref name="rows"/> raw examples stored row-major in <paramref name="features"/>.</summary>
    public float[] PredictProbabilities(ReadOnlySpan<float> features, int rows)
    {
        if (rows < 0 || (long)rows * InputWidth != features.Length)
            throw new EngineException($"{features.Length} feature values do not make {rows} rows of {InputWidth}");
        var probabilities = new float[(long)rows * ClassCount];
        PredictProbabilities(features, probabilities);
        return probabilities;
    }

    /// <summary>
    /// Class probabilities of the raw examples in <paramref name="features"/> (row-major, <see cref="InputWidth"/> per
    /// row) written into <paramref name="probabilities"/> (rows × <see cref="ClassCount"/>): the model's scaling is
    /// applied batch by batch inside the pass, nothing is copied whole, and once a call of this size has run, the next
    /// allocates nothing.
    /// </summary>
    /// <exception cref="EngineException">The features are not whole rows, or the probabilities do not have room for exactly their rows.</exception>
    public void PredictProbabilities(ReadOnlySpan<float> features, Span<float> probabilities)
    {
        if (features.Length % InputWidth != 0)
            throw new EngineException($"{features.Length} feature values are not whole rows of {InputWidth}");
        long rows = features.Length / InputWidth;
        if (probabilities.Length != rows * ClassCount)
            throw new EngineException($"room for {probabilities.Length} probabilities, {rows} rows of {ClassCount} classes need {rows * ClassCount}");
        lock (_gate) Evaluator.Predict(_network, _kernels, features, Scaling, probabilities, _inference);
    }

    /// <summary>The most probable class of each example (the first one on ties).</summary>
    public int[] Predict(Dataset data)
    {
        float[] p = PredictProbabilities(data);
        var classes = new int[data.Count];
        for (int i = 0; i < classes.Length; i++) classes[i] = ArgMax(p.AsSpan(i * ClassCount, ClassCount));
        return classes;
    }

    /// <summary>Index of the largest value; the first one wins ties; NaN never wins.</summary>
    public static int ArgMax(ReadOnlySpan<float> values) => Evaluator.ArgMax(values);

    /// <summary>Stops the backend's worker threads.</summary>
    public void Dispose() => _kernels.Dispose();
}
