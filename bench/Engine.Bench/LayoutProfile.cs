using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Engine.Kernels;
using Engine.Kernels.Simd;
using Engine.Numerics;

namespace Engine.Bench;

/// <summary>
/// One row through a 784×N weight matrix, as a single image's first layer: how the layout of W decides the speed.
/// Plain Vector512 loops over W stored row-major (ldb = N), row-major with 16 floats of padding per row, and in
/// 64-column panels, then the engine's GEMM reading W in place and from its packed weights (<see cref="PackedWeights"/>),
/// each on 1 and 2 threads (the pool's parts take whole column chunks). Medians of 200 runs of 100 calls.
/// Run with: dotnet run -c Release --project bench/Engine.Bench -- profile-layout [N]
/// </summary>
static unsafe class LayoutProfile
{
    const int K = 784;

    public static void Run(string[] args)
    {
        int n = args.Length > 0 ? int.Parse(args[0]) : 512;
        if (!Vector512.IsHardwareAccelerated || n % 64 != 0) { Console.WriteLine("needs AVX-512 and N a multiple of 64"); return; }
        float* a = Alloc(K), c = Alloc(n), bias = Alloc(n);
        for (int i = 0; i < K; i++) a[i] = i * 1e-3f;
        new Span<float>(bias, n).Clear();
        foreach (int threads in new[] { 1, 2 })
        {
            using var pool = new WorkerPool(threads);
            foreach (var (layout, ldb) in new[] { ("row-major, ldb = N", n), ("row-major, ldb = N + 16", n + 16), ("64-column panels", 64) })
            {
                float* b = Alloc((long)K * Math.Max(n, ldb));
                for (long i = 0; i < (long)K * Math.Max(n, ldb); i++) b[i] = (i % 17) * 1e-2f;
                var work = new Chunks(a, b, c, n, ldb == 64 ? -1 : ldb);
                Report($"1x{n}x{K}, {threads} thread(s), plain loops, {layout}", () => pool.Run(work, threads));
                NativeMemory.AlignedFree(b);
            }
            using var kernels = Backends.Create("simd", threads, InstructionSets.Best);
            var w = new float[K * n];
            for (int i = 0; i < w.Length; i++) w[i] = (i % 17) * 1e-2f;
            var packed = kernels.PackWeights(new ReadOnlyMatrixView(w, K, n));
            foreach (bool usePack in new[] { false, true })
                Report($"1x{n}x{K}, {threads} thread(s), engine GEMM + tanh, {(usePack ? "packed weights" : "W in place")}", () =>
                {
                    kernels.Gemm(Transpose.No, new ReadOnlyMatrixView(new ReadOnlySpan<float>(a, K), 1, K), new ReadOnlyMatrixView(w, K, n),
                                 usePack ? packed : null, new MatrixView(new Span<float>(c, n), 1, n), new BiasActivation<TanhOperator>(bias));
                });
        }
    }

    static float* Alloc(long floats) => (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);

    static void Report(string what, Action call)
    {
        for (int i = 0; i < 20_000; i++) call();
        var times = new double[200];
        for (int r = 0; r < times.Length; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < 100; i++) call();
            times[r] = (Stopwatch.GetTimestamp() - t0) * 1e6 / Stopwatch.Frequency / 100;
        }
        Array.Sort(times);
        Console.WriteLine($"{what,-70} {times[100],8:F2} µs");
    }

    /// <summary>c = a·B in chunks of 64 columns, four accumulators each; B row-major with row stride ldb, or (ldb = −1) in 64-column panels.</summary>
    sealed class Chunks(float* a, float* b, float* c, int n, int ldb) : IParallelWork
    {
        public void Execute(int part, int parts)
        {
            int chunks = n / 64;
            for (int ch = chunks * part / parts; ch < chunks * (part + 1) / parts; ch++)
            {
                Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
                float* bp = ldb < 0 ? b + (long)ch * 64 * K : b + ch * 64;
                long stride = ldb < 0 ? 64 : ldb;
                for (int p = 0; p < K; p++, bp += stride)
                {
                    var ai = Vector512.Create(a[p]);
                    s0 = Vector512.FusedMultiplyAdd(ai, Vector512.Load(bp), s0);
                    s1 = Vector512.FusedMultiplyAdd(ai, Vector512.Load(bp + 16), s1);
                    s2 = Vector512.FusedMultiplyAdd(ai, Vector512.Load(bp + 32), s2);
                    s3 = Vector512.FusedMultiplyAdd(ai, Vector512.Load(bp + 48), s3);
                }
                s0.Store(c + ch * 64); s1.Store(c + ch * 64 + 16); s2.Store(c + ch * 64 + 32); s3.Store(c + ch * 64 + 48);
            }
        }
    }
}
