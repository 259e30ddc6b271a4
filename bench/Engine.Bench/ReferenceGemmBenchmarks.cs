using BenchmarkDotNet.Attributes;
using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Numerics;
using Engine.Training;

namespace Engine.Bench;

/// <summary>
/// The reference GEMM on the network's three products (batch 32, 784 → 128): forward X·W, weight gradient
/// Xᵀ·dZ and input gradient dZ·Wᵀ, plus a 256 square. The baseline every SIMD kernel will be measured against.
/// </summary>
[MemoryDiagnoser]
public class ReferenceGemmBenchmarks
{
    [Params("forward 32x128x784", "weight-grad 784x128x32", "input-grad 32x784x128", "square 256")]
    public string Shape { get; set; } = "";

    float[] _a = [], _b = [], _c = [];
    int _m, _n, _k;
    Transpose _ta, _tb;

    [GlobalSetup]
    public void Setup()
    {
        (_m, _n, _k, _ta, _tb) = Shape switch
        {
            "forward 32x128x784" => (32, 128, 784, Transpose.No, Transpose.No),
            "weight-grad 784x128x32" => (784, 128, 32, Transpose.Yes, Transpose.No),
            "input-grad 32x784x128" => (32, 784, 128, Transpose.No, Transpose.Yes),
            _ => (256, 256, 256, Transpose.No, Transpose.No),
        };
        var rng = new SplitMix64(1);
        _a = Random(rng, _m * _k);
        _b = Random(rng, _k * _n);
        _c = new float[_m * _n];
    }

    static float[] Random(SplitMix64 rng, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = rng.NextFloat() - 0.5f;
        return x;
    }

    [Benchmark]
    public void Gemm()
    {
        var a = _ta == Transpose.No ? new ReadOnlyMatrixView(_a, _m, _k) : new ReadOnlyMatrixView(_a, _k, _m);
        var b = _tb == Transpose.No ? new ReadOnlyMatrixView(_b, _k, _n) : new ReadOnlyMatrixView(_b, _n, _k);
        ReferenceKernels.Instance.Gemm(_ta, _tb, a, b, new MatrixView(_c, _m, _n), accumulate: false);
    }
}
