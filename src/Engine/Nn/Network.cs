using Engine.Data;
using Engine.Kernels;
using Engine.Numerics;

namespace Engine.Nn;

/// <summary>
/// A fully-connected classifier: inputs → hidden layers (one activation for all) → linear logits →
/// softmax. All parameters live in one arena, layer by layer W1, b1, W2, b2, …; gradients use a second
/// arena with the same layout (see <see cref="Workspace"/>).
/// </summary>
internal sealed class Network
{
    public int InputWidth { get; }
    public IReadOnlyList<int> HiddenWidths { get; }
    public int ClassCount { get; }
    public Activation HiddenActivation { get; }
    public IReadOnlyList<DenseLayer> Layers => _layers;
    /// <summary>W1, b1, W2, b2, … packed; W_i is (fanIn, fanOut) row-major.</summary>
    public float[] Parameters { get; }

    readonly DenseLayer[] _layers;

    public Network(int inputWidth, IReadOnlyList<int> hiddenWidths, int classCount, Activation hiddenActivation)
    {
        if (inputWidth < 1) throw new EngineException($"input width must be at least 1, got {inputWidth}");
        if (classCount < 2) throw new EngineException($"a classifier needs at least 2 classes, got {classCount}");
        foreach (int w in hiddenWidths)
            if (w < 1) throw new EngineException($"hidden layer widths must be at least 1, got {w}");
        Limits.CheckNetwork(inputWidth, hiddenWidths, classCount);
        if (hiddenActivation == Activation.Identity) throw new EngineException("hidden activation must be tanh, relu or sigmoid");

        InputWidth = inputWidth;
        HiddenWidths = hiddenWidths.ToArray();
        ClassCount = classCount;
        HiddenActivation = hiddenActivation;

        int[] widths = [inputWidth, .. hiddenWidths, classCount];
        _layers = new DenseLayer[widths.Length - 1];
        long offset = 0;
        for (int l = 0; l < _layers.Length; l++)
        {
            int fanIn = widths[l], fanOut = widths[l + 1];
            long weights = (long)fanIn * fanOut;
            if (offset + weights + fanOut > Array.MaxLength)
                throw new EngineException($"network with layer widths {string.Join(",", widths)} has too many parameters");
            var activation = l == _layers.Length - 1 ? Activation.Identity : hiddenActivation;
            _layers[l] = new DenseLayer(fanIn, fanOut, activation, (int)offset, (int)(offset + weights));
            offset += weights + fanOut;
        }
        Parameters = new float[offset];
    }

    /// <summary>
    /// The network with these layers' weights, as an importer read them from an untrusted file. The layers must chain
    /// (each takes what the one before gives) and give at least 2 classes; the shape must be within <see cref="Limits"/>,
    /// checked before the parameters are allocated; every value must be finite, checked before a network exists.
    /// Messages start with <paramref name="source"/> (the file) and name the layers and tensors by their <see cref="LayerNames"/>.
    /// </summary>
    /// <exception cref="EngineException">The layers do not make a network the engine can run.</exception>
    public static Network FromLayers(IReadOnlyList<LayerWeights> layers, Activation hiddenActivation, string source)
    {
        if (layers.Count == 0) throw new ArgumentException("a network has at least one layer", nameof(layers));
        for (int l = 0; l < layers.Count; l++)
        {
            var layer = layers[l];
            // The importers check each tensor's shape in the file's own words; a mismatch here is a bug in the importer.
            if (layer.Weights.Length != (long)layer.FanIn * layer.FanOut || layer.Bias.Length != layer.FanOut)
                throw new ArgumentException($"layer {l + 1} has {layer.Weights.Length} weights and {layer.Bias.Length} biases for ({layer.FanIn}, {layer.FanOut})", nameof(layers));
            if (l > 0 && layer.FanIn != layers[l - 1].FanOut)
                throw new EngineException($"{source}: {layer.Names?.Weights ?? $"layer {l + 1}"} takes {layer.FanIn} inputs but {layers[l - 1].Names?.Layer ?? $"layer {l}"} gives {layers[l - 1].FanOut}");
        }
        int classCount = layers[^1].FanOut;
        if (classCount < 2) throw new EngineException($"{source}: the last layer gives {classCount} output; a classifier needs at least 2 classes");
        int[] hiddenWidths = layers.Take(layers.Count - 1).Select(layer => layer.FanOut).ToArray();
        Limits.CheckNetwork(layers[0].FanIn, hiddenWidths, classCount, source);
        // A NaN weight would silently poison every prediction, so the file is refused rather than loaded.
        foreach (var layer in layers)
        {
            if (!AllFinite(layer.Weights)) throw NotFinite(layer.Names?.Weights);
            if (!AllFinite(layer.Bias)) throw NotFinite(layer.Names?.Bias);
        }
        var network = new Network(layers[0].FanIn, hiddenWidths, classCount, hiddenActivation);
        for (int l = 0; l < layers.Count; l++)
        {
            var target = network.Layers[l];
            layers[l].Weights.CopyTo(network.Parameters.AsSpan(target.WeightOffset, target.WeightCount));
            layers[l].Bias.CopyTo(network.Parameters.AsSpan(target.BiasOffset, target.FanOut));
        }
        return network;

        EngineException NotFinite(string? tensor) =>
            new(tensor is null ? $"{source}: a weight or bias is NaN or infinite" : $"{source}: {tensor} has a NaN or infinite value");
    }

    /// <summary>No NaN or infinity among <paramref name="values"/>: what a network's weights must be (imports, SetLayer, a training epoch's end).</summary>
    public static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
            if (!float.IsFinite(v)) return false;
        return true;
    }

    /// <summary>Checks that <paramref name="data"/> is labelled data this network can train on or be evaluated with.</summary>
    /// <exception cref="EngineException">No labels, another feature count, or a label past the last class.</exception>
    public void CheckLabelled(Dataset data)
    {
        if (data.Labels is null) throw new EngineException($"{data.Source}: has no labels");
        if (data.Width != InputWidth)
            throw new EngineException($"{data.Source}: {data.Width} features per example, the network takes {InputWidth}");
        for (int i = 0; i < data.Labels.Length; i++)
            if (data.Labels[i] >= ClassCount)
                throw new EngineException($"{data.Source}: example {i} has label {data.Labels[i]}, the network has {ClassCount} classes (0..{ClassCount - 1})");
    }

    /// <summary>Layer widths including input and output, e.g. [784, 128, 10].</summary>
    public int[] Widths => [InputWidth, .. HiddenWidths, ClassCount];

    public string Describe() => $"{string.Join("-", Widths)} {HiddenActivation.Name()}";

    /// <summary>
    /// Glorot/Xavier uniform weights, U(−√(6/(fanIn+fanOut)), +√(6/(fanIn+fanOut))), or He uniform
    /// U(−√(6/fanIn), +√(6/fanIn)) for ReLU layers; zero biases. Draws come from
    /// SplitMix64.ForStream(seed, Init), layer by layer, row-major, as w = (2u − 1)·limit.
    /// </summary>
    public void InitializeWeights(ulong seed)
    {
        var rng = SplitMix64.ForStream(seed, RandomStreams.Init);
        Array.Clear(Parameters);
        foreach (var layer in _layers)
        {
            bool he = layer.Activation == Activation.Relu;
            float limit = MathF.Sqrt(6f / (he ? layer.FanIn : layer.FanIn + layer.FanOut));
            Span<float> w = Parameters.AsSpan(layer.WeightOffset, layer.WeightCount);
            for (int i = 0; i < w.Length; i++) w[i] = (2f * rng.NextFloat() - 1f) * limit;
        }
    }

    /// <summary>
    /// Forward pass of the input's rows: fills the workspace's activations and the softmax
    /// probabilities. Returns the summed cross-entropy when labels are given (else 0).
    /// </summary>
    /// <param name="input">(rows, InputWidth), already scaled.</param>
    public double Forward(IKernels kernels, ReadOnlyMatrixView input, ReadOnlySpan<int> labels, Workspace workspace) =>
        Forward(kernels, input, labels, workspace, null);

    /// <summary>The same, reading each layer's W from <paramref name="packedWeights"/>[l] where it is not null (made from these weights, see <see cref="PackWeights"/>).</summary>
    public double Forward(IKernels kernels, ReadOnlyMatrixView input, ReadOnlySpan<int> labels, Workspace workspace, PackedWeights?[]? packedWeights)
    {
        int rows = input.Rows;
        workspace.CheckFits(this, rows);
        ReadOnlyMatrixView x = input;
        for (int l = 0; l < _layers.Length; l++)
        {
            MatrixView a = workspace.Activation(l, rows); // (rows, fanOut_l)
            _layers[l].Forward(kernels, a, x, Parameters, packedWeights?[l]);
            x = a;
        }
        return kernels.SoftmaxCrossEntropy(x, labels, workspace.Probabilities(rows));
    }

    /// <summary>
    /// Every layer's W in <paramref name="kernels"/>' panel layout (null entries where it has none): a copy of the weights as
    /// they are now, for repeated inference; it must be made again when they change.
    /// </summary>
    public PackedWeights?[] PackWeights(IKernels kernels)
    {
        var packed = new PackedWeights?[_layers.Length];
        for (int l = 0; l < _layers.Length; l++) packed[l] = kernels.PackWeights(_layers[l].Weights(Parameters));
        return packed;
    }

    /// <summary>
    /// Backward pass after <see cref="Forward(IKernels, ReadOnlyMatrixView, ReadOnlySpan{int}, Workspace)"/> on the same input: writes the gradient of the batch-mean
    /// cross-entropy, (1/rows)·Σ_examples ∂CE/∂θ, into the workspace's gradient arena; the L2 term is applied by the
    /// optimiser.
    /// </summary>
    public void Backward(IKernels kernels, ReadOnlyMatrixView input, ReadOnlySpan<int> labels, Workspace workspace) =>
        Backward(kernels, input, labels, workspace, StoredGradients.Instance);

    /// <summary>
    /// Backward pass after <see cref="Forward(IKernels, ReadOnlyMatrixView, ReadOnlySpan{int}, Workspace)"/> on the same input: the gradient of the batch-mean cross-entropy,
    /// (1/rows)·Σ_examples ∂CE/∂θ, layer by layer from the last, each layer's dW and db handed to
    /// <paramref name="sink"/> (stored, or applied by an optimizer: then the weight part of the workspace's gradient
    /// arena is left as it was, and only the biases' part holds this step's db).
    /// </summary>
    public void Backward(IKernels kernels, ReadOnlyMatrixView input, ReadOnlySpan<int> labels, Workspace workspace, IGradientSink sink)
    {
        int rows = input.Rows;
        workspace.CheckFits(this, rows);
        if (workspace.Gradients.Length != Parameters.Length)
            throw new InvalidOperationException("this workspace was created for inference only (forTraining: false)");
        int last = _layers.Length - 1;
        // dL/dz_L = (p − onehot(y)) / rows: softmax and cross-entropy differentiated together.
        kernels.SoftmaxCrossEntropyBackward(workspace.Probabilities(rows), labels, 1f / rows, workspace.Delta(last, rows));
        for (int l = last; l >= 0; l--)
        {
            ReadOnlyMatrixView x = l == 0 ? input : workspace.Activation(l - 1, rows);
            MatrixView dx = l == 0 ? default : workspace.Delta(l - 1, rows);
            _layers[l].Backward(kernels, workspace.Delta(l, rows), workspace.Activation(l, rows), x, dx, Parameters, workspace.Gradients, sink);
        }
    }
}
