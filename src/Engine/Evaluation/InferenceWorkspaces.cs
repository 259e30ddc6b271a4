using Engine.Kernels;
using Engine.Nn;

namespace Engine.Evaluation;

/// <summary>
/// Forward-pass workspaces kept between inference calls on one network, one per row-parallel part, so that repeated
/// predictions neither allocate nor fault in fresh buffers every time (Inference10k on 2 threads: 11.4–11.8 →
/// 11.1–11.3 ms, 1.5 MB → 0.4 MB allocated per call, the result array), and the weights packed for the backend's GEMM.
/// Whoever keeps one across calls must say when the weights change (<see cref="WeightsChanged"/>): a Classifier does in
/// every method that writes them. One caller at a time (a Classifier holds its lock).
/// </summary>
internal sealed class InferenceWorkspaces
{
    Network? _network;
    int _batch;
    Workspace?[] _parts = [];

    /// <summary>Part <paramref name="part"/>'s workspace for batches of up to <paramref name="batch"/> rows of <paramref name="network"/>.</summary>
    public Workspace For(Network network, int part, int batch)
    {
        if (!ReferenceEquals(network, _network) || batch > _batch)
        {
            (_network, _batch) = (network, batch);
            _parts = [];
        }
        if (part >= _parts.Length) Array.Resize(ref _parts, part + 1);
        return _parts[part] ??= new Workspace(network, _batch, forTraining: false);
    }

    PackedWeights?[]? _packed;
    Network? _packedNetwork;
    IKernels? _packedKernels;

    /// <summary>
    /// The network's weights in the backend's panel layout, packed on first use and kept until <see cref="WeightsChanged"/>
    /// (or another network or backend): repeated predictions then read each W as contiguous panels (Zen 5, one image,
    /// 784×512: perf-results/2026-12-07-threads).
    /// </summary>
    public PackedWeights?[] Packed(Network network, IKernels kernels)
    {
        if (_packed is null || !ReferenceEquals(network, _packedNetwork) || !ReferenceEquals(kernels, _packedKernels))
            (_packed, _packedNetwork, _packedKernels) = (network.PackWeights(kernels), network, kernels);
        return _packed;
    }

    /// <summary>The network's weights have changed (training, a new layer): the packed copies are stale and are made again on next use.</summary>
    public void WeightsChanged() => _packed = null;

    Evaluator.ForwardPass? _pass;

    /// <summary>The kept forward pass for <paramref name="parts"/> parts of up to <paramref name="batch"/> rows (made again only when that grows or the network or backend changes).</summary>
    public Evaluator.ForwardPass Pass(Network network, IKernels kernels, int batch, int parts)
    {
        if (_pass is not null && _pass.Fits(network, kernels, batch, parts)) return _pass;
        var workspaces = new Workspace[parts];
        for (int p = 0; p < parts; p++) workspaces[p] = For(network, p, batch);
        return _pass = new Evaluator.ForwardPass(network, kernels, workspaces);
    }
}
