using Engine.Numerics;

namespace Engine.Nn;

/// <summary>
/// Every buffer one forward/backward pass needs, sized once for (network, batch capacity) and reused, so
/// training steps allocate nothing. Activation l is a_l (B, fanOut_l) — the last one holds the logits;
/// delta l holds dL/da_l, then dL/dz_l; gradients has the layout of the parameter arena.
/// </summary>
internal sealed class Workspace
{
    public int BatchCapacity { get; }
    public float[] Gradients { get; }

    readonly int[] _widths;          // fanOut per layer
    readonly float[][] _activations; // a_l: (B, fanOut_l)
    readonly float[][] _deltas;      // dL/da_l then dL/dz_l: (B, fanOut_l)
    readonly float[] _probabilities; // (B, classes)
    readonly Network _network;

    /// <param name="forTraining">False for inference only: no gradient arena and no delta buffers.</param>
    public Workspace(Network network, int batchCapacity, bool forTraining = true)
    {
        if (batchCapacity < 1) throw new EngineException($"batch size must be at least 1, got {batchCapacity}");
        _network = network;
        BatchCapacity = batchCapacity;
        _widths = network.Layers.Select(l => l.FanOut).ToArray();
        _activations = _widths.Select(w => new float[checked(batchCapacity * w)]).ToArray();
        _deltas = _widths.Select(w => forTraining ? new float[checked(batchCapacity * w)] : []).ToArray();
        _probabilities = new float[checked(batchCapacity * network.ClassCount)];
        Gradients = forTraining ? new float[network.Parameters.Length] : [];
    }

    public MatrixView Activation(int layer, int rows) => new(_activations[layer], rows, _widths[layer]);
    public MatrixView Delta(int layer, int rows) => new(_deltas[layer], rows, _widths[layer]);
    public MatrixView Probabilities(int rows) => new(_probabilities, rows, _network.ClassCount);

    /// <summary>(rows, inputWidth): room for a batch of inputs scaled inside an inference pass (made on first use).</summary>
    public MatrixView ScaledInput(int rows)
    {
        _scaledInput ??= new float[checked(BatchCapacity * _network.InputWidth)];
        return new(_scaledInput, rows, _network.InputWidth);
    }

    float[]? _scaledInput;

    internal void CheckFits(Network network, int rows)
    {
        if (!ReferenceEquals(network, _network)) throw new ArgumentException("workspace belongs to another network");
        if (rows < 1 || rows > BatchCapacity) throw new ArgumentOutOfRangeException(nameof(rows), $"{rows} rows for a workspace of {BatchCapacity}");
    }
}
