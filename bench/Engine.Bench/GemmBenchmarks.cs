using BenchmarkDotNet.Attributes;
using Engine.Kernels;

namespace Engine.Bench;

/// <summary>
/// The simd GEMM at 1 and 2 threads on squares and on the network's products (784 inputs, batch B, N hidden):
/// forward X·W (B×N×784 NN), weight gradient Xᵀ·dZ (784×N×B TN), input gradient dZ·Wᵀ (B×784×N NT).
/// GFLOP/s = 2·M·N·K / mean.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 7)]
public class SimdGemmBenchmarks : GemmOperands
{
    [Params("256x256x256 NN", "1024x1024x1024 NN", "2048x2048x2048 NN",
            "32x128x784 NN", "64x128x784 NN", "128x512x784 NN", "256x1024x784 NN",
            "784x128x32 TN", "784x512x128 TN", "32x784x128 NT", "128x784x512 NT")]
    public string Shape { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup() => Prepare(Shape, Threads);

    [Benchmark]
    public void Simd() => BenchData.Gemm(_simd, _s, _a, _b, _c);
}

/// <summary>
/// The baselines on shapes small enough for them, 1 thread: the scalar reference and a naive GEMM built
/// from System.Numerics.Tensors (row i of C = Σ_k A[i,k]·B[k,:] with TensorPrimitives.MultiplyAdd), next to simd.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
public class BaselineGemmBenchmarks : GemmOperands
{
    [Params("256x256x256 NN", "32x128x784 NN", "128x512x784 NN")]
    public string Shape { get; set; } = "";

    [GlobalSetup]
    public void Setup() => Prepare(Shape, threads: 1);

    [Benchmark(Baseline = true)]
    public void Reference() => BenchData.Gemm(Backends.Create("reference"), _s, _a, _b, _c);

    [Benchmark]
    public void TensorPrimitivesRows()
    {
        int m = _s.M, n = _s.N, k = _s.K;
        for (int i = 0; i < m; i++)
        {
            Span<float> cRow = _c.AsSpan(i * n, n);
            cRow.Clear();
            for (int p = 0; p < k; p++)
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(_b.AsSpan(p * n, n), _a[i * k + p], cRow, cRow);
        }
    }

    [Benchmark]
    public void Simd() => BenchData.Gemm(_simd, _s, _a, _b, _c);
}

/// <summary>Operands of one GEMM shape and a simd backend, shared by the GEMM benchmark classes.</summary>
public abstract class GemmOperands
{
    protected IKernels _simd = null!;
    protected float[] _a = [], _b = [], _c = [];
    protected (int M, int N, int K, Transpose A, Transpose B) _s;

    protected void Prepare(string shape, int threads)
    {
        _s = BenchData.Parse(shape);
        _a = BenchData.Random(_s.M * _s.K, 1);
        _b = BenchData.Random(_s.K * _s.N, 2);
        _c = new float[_s.M * _s.N];
        _simd = Backends.Create("simd", threads, InstructionSets.Best);
    }

    [GlobalCleanup]
    public void Cleanup() => _simd.Dispose();
}
