using System.Diagnostics;
using System.Runtime.Intrinsics;
using Engine.Kernels;
using Engine.Kernels.Simd;
namespace Engine.Bench;
// TEMPORARY experiment: one row times a 784×N matrix stored row-major (ldb = N) against stored as 64-column panels.
static unsafe class PackedRowExperiment
{
    static readonly bool Two = Environment.GetEnvironmentVariable("TWO") == "1";
    sealed class Work(float* a, float* b, float* c, int n, int k, bool panels) : IParallelWork
    {
        public void Execute(int part, int parts)
        {
            int chunks = n / 64, c0 = chunks * part / parts, c1 = chunks * (part + 1) / parts;
            for (int ch = c0; ch < c1; ch++)
            {
                Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
                float* bp = panels ? b + (long)ch * 64 * k : b + ch * 64;
                long stride = panels ? 64 : n;
                if (Two)
                {
                    float* b0 = b + (long)ch * 64 * k, b1 = b0 + 32 * k;
                    for (int p = 0; p < k; p++, b0 += 32, b1 += 32)
                    {
                        var ai = Vector512.Create(a[p]);
                        s0 = Vector512.FusedMultiplyAdd(ai, Vector512.Load(b0), s0);
                        s1 = Vector512.FusedMultiplyAdd(ai, Vector512.Load(b0 + 16), s1);
                        s2 = Vector512.FusedMultiplyAdd(ai, Vector512.Load(b1), s2);
                        s3 = Vector512.FusedMultiplyAdd(ai, Vector512.Load(b1 + 16), s3);
                    }
                }
                else
                for (int p = 0; p < k; p++, bp += stride)
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

    public static void Run(string[] args)
    {
        int n = int.Parse(args[0]), k = 784;
        foreach (int threads in new[] { 1, 2 })
        foreach (bool panels in new[] { false, true })
        {
            using var pool = new WorkerPool(threads);
            float* a = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(k * 4), 64);
            float* b = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(k * n * 4), 64);
            float* c = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(n * 4), 64);
            for (int i = 0; i < k; i++) a[i] = i * 1e-3f;
            for (long i = 0; i < (long)k * n; i++) b[i] = (i % 17) * 1e-2f;
            var work = new Work(a, b, c, n, k, panels);
            for (int i = 0; i < 20000; i++) pool.Run(work, threads);
            var times = new double[200];
            for (int r = 0; r < times.Length; r++)
            {
                long t0 = Stopwatch.GetTimestamp();
                for (int i = 0; i < 100; i++) pool.Run(work, threads);
                times[r] = (Stopwatch.GetTimestamp() - t0) * 1e6 / Stopwatch.Frequency / 100;
            }
            Array.Sort(times);
            Console.WriteLine($"1x{n}x{k} threads {threads} {(panels ? "panels " : "row-major")}: {times[100]:F2} µs ({2.0 * n * k / times[100] / 1e3:F1} GFLOP/s)");
            if (!panels) continue;
            using var kernels = Backends.Create("simd", threads, InstructionSets.Best);
            var wv = new Engine.Numerics.ReadOnlyMatrixView(new ReadOnlySpan<float>(b, k * n), k, n);
            var av = new Engine.Numerics.ReadOnlyMatrixView(new ReadOnlySpan<float>(a, k), 1, k);
            var cv = new Engine.Numerics.MatrixView(new Span<float>(c, n), 1, n);
            var packed = kernels.PackWeights(wv);
            float* pb = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(n * 4), 64);
            new Span<float>(pb, n).Clear();
            foreach (var mode in new[] { "store", "tanh", "store unpacked" })
            {
                void Once(Engine.Numerics.ReadOnlyMatrixView av, Engine.Numerics.ReadOnlyMatrixView wv, Engine.Numerics.MatrixView cv)
                {
                    if (mode == "store") kernels.Gemm(Transpose.No, av, wv, packed, cv, new StoreProduct());
                    else if (mode == "tanh") kernels.Gemm(Transpose.No, av, wv, packed, cv, new BiasActivation<TanhOperator>(pb));
                    else kernels.Gemm(Transpose.No, av, wv, null, cv, new StoreProduct());
                }
                for (int i = 0; i < 20000; i++) Once(av, wv, cv);
                for (int r = 0; r < times.Length; r++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    for (int i = 0; i < 100; i++) Once(av, wv, cv);
                    times[r] = (Stopwatch.GetTimestamp() - t0) * 1e6 / Stopwatch.Frequency / 100;
                }
                Array.Sort(times);
                Console.WriteLine($"   engine {mode}: {times[100]:F2} µs");
            }
        }
    }
}
