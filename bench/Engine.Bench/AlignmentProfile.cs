using System.Diagnostics;
using Engine.Kernels;
using Engine.Kernels.Simd;
using Engine.Numerics;

namespace Engine.Bench;

/// <summary>
/// The two products of a training step that touch W1 (784×128): the forward X·W1 and the fused SGD step of W1 from
/// Xᵀ·dZ, back to back, on operands that start on 64-byte cache lines and on copies that start a few floats past one,
/// alternating in one process, each under GEMM plans in <c>ENGINE_GEMM_BLOCKS</c>'s syntax. The engine's own arrays
/// (the parameter arena, the workspaces) are ordinary managed arrays, so they start wherever the allocator puts them.
/// Prints each plan's median µs per pair, aligned and not.
/// Run with: dotnet run -c Release --project bench/Engine.Bench -- profile-alignment BATCH THREADS ROUNDS MISALIGN PLAN [PLAN…]
/// (MISALIGN: floats past the line for the unaligned copies, 1–15; PLAN e.g. auto, split=columns).
/// </summary>
static unsafe class AlignmentProfile
{
    const int Inputs = 784, Hidden = 128, PairsPerRound = 500;

    sealed class Operands
    {
        public readonly Memory<float> X, W, H, DZ;

        public Operands(int batch, int misalign, int seed)
        {
            (X, W, H, DZ) = (LineSlices.Allocate(batch * Inputs, misalign), LineSlices.Allocate(Inputs * Hidden, misalign),
                            LineSlices.Allocate(batch * Hidden, misalign), LineSlices.Allocate(batch * Hidden, misalign));
            var random = new Random(seed);
            foreach (var (m, scale) in new[] { (X, 1f), (W, 1f), (DZ, 1e-3f) })
                for (int i = 0; i < m.Length; i++) m.Span[i] = (random.NextSingle() - 0.5f) * scale;
        }
    }

    public static void Run(string[] args)
    {
        if (args.Length < 5)
        {
            Console.Error.WriteLine("usage: profile-alignment BATCH THREADS ROUNDS MISALIGN PLAN [PLAN...]");
            return;
        }
        int batch = int.Parse(args[0]), threads = int.Parse(args[1]), rounds = int.Parse(args[2]), misalign = int.Parse(args[3]);
        string[] plans = args[4..];
        var isa = InstructionSets.Best;
        var derived = BlockSizes.For(isa, CpuCaches.Current, threads);
        using var pool = new WorkerPool(threads);
        var backends = PlanRounds.Gemms(pool, isa, derived, plans);
        Operands[] sets = [new(batch, 0, 1), new(batch, misalign, 1)]; // aligned, then not
        int runs = plans.Length * sets.Length;

        void Pair(PackedGemm gemm, Operands o)
        {
            gemm.Multiply(Transpose.No, Transpose.No, new ReadOnlyMatrixView(o.X.Span, batch, Inputs), new ReadOnlyMatrixView(o.W.Span, Inputs, Hidden),
                          new MatrixView(o.H.Span, batch, Hidden), new StoreProduct());
            // The step finishes tiles, which needs the whole product in one K block: batch ≤ KC.
            if (!gemm.Multiply(Transpose.Yes, Transpose.No, new ReadOnlyMatrixView(o.X.Span, batch, Inputs), new ReadOnlyMatrixView(o.DZ.Span, batch, Hidden),
                               new MatrixView(o.W.Span, Inputs, Hidden), new UpdateWeights<SgdRule>(new SgdRule(0.01f, 0f), null, null, 0)))
                throw new ArgumentException($"batch {batch} is past one K block ({gemm.Blocks.KC})");
        }

        void Once(int run) => Pair(backends[run / 2], sets[run % 2]);
        PlanRounds.WarmUp(runs, Once);
        var micros = PlanRounds.Measure(runs, rounds, PairsPerRound, Once).Select(run => run.Select(s => s * 1e6).ToArray()).ToArray();

        Console.WriteLine($"forward X·W1 + SGD step of W1, batch {batch}, {threads} thread(s), {rounds} rounds; µs per pair, medians");
        Console.WriteLine($"{"plan",-24} {"aligned",10} {$"{misalign * 4} B past",12}");
        for (int p = 0; p < plans.Length; p++)
            Console.WriteLine($"{plans[p],-24} {Stats.Median(micros[2 * p]),10:F1} {Stats.Median(micros[2 * p + 1]),12:F1}");
    }
}
