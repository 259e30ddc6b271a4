using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels.Simd;

/// <summary>
/// Packing of the GEMM's operands into the micro-kernel's layout (BLIS's packm): zero-padded micro-panels, so edge tiles
/// need no special case in the kernel. Copies only: packing never changes a value.
/// </summary>
internal static unsafe class Packing
{
    /// <summary>op(A)[ic..ic+mc, pc..pc+kc] → micro-panels of MR rows: panel p holds kc steps of MR floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(in GemmCall call, float* dst, int ic, int mc, int pc, int kc, int MR, bool prefetchNext)
    {
        for (int ir = 0; ir < mc; ir += MR)
        {
            float* panel = dst + ir * kc;
            int rows = Math.Min(MR, mc - ir);
            if (!call.TransA && rows == 8 && MR == 8 && Transpose8x8.IsSupported)
            {
                // 8 rows × kc → kc steps of 8: whole 8×8 blocks by shuffles, the k tail one by one.
                int k = 0;
                float* src = call.A + (long)(ic + ir) * call.Lda + pc;
                // The next 8 rows (in this block or the next), one cache line per row every 16 floats, one panel ahead
                // of use when A streams from DRAM: rows a few dozen lines long (49 for 784 inputs) give the hardware
                // prefetcher too little to lock on to.
                float* next = src + 8L * call.Lda;
                bool ahead = prefetchNext && Sse.IsSupported && ic + ir + 16 <= call.M;
                for (; k + 8 <= kc; k += 8)
                {
                    if (ahead && (k & 15) == 0)
                        for (int r = 0; r < 8; r++) Sse.Prefetch1(next + r * call.Lda + k);
                    Transpose8x8.Copy(src + k, call.Lda, panel + k * 8, 8);
                }
                if (ahead)
                    for (int r = 0; r < 8; r++) Sse.Prefetch1(next + r * call.Lda + kc - 1); // a row's last line
                for (; k < kc; k++)
                    for (int r = 0; r < 8; r++) panel[k * 8 + r] = src[(long)r * call.Lda + k];
            }
            else if (!call.TransA)
            {
                for (int r = 0; r < MR; r++)
                {
                    if (r < rows)
                    {
                        float* src = call.A + (long)(ic + ir + r) * call.Lda + pc;
                        for (int k = 0; k < kc; k++) panel[k * MR + r] = src[k];
                    }
                    else
                    {
                        for (int k = 0; k < kc; k++) panel[k * MR + r] = 0f;
                    }
                }
            }
            else if (rows == 8 && MR == 8)
            {
                // A stored transposed (the weight gradient's Xᵀ): each k step of the panel is 8 contiguous floats.
                float* src = call.A + (long)pc * call.Lda + ic + ir;
                for (int k = 0; k < kc; k++, src += call.Lda) Vector256.Store(Vector256.Load(src), panel + k * 8);
            }
            else
            {
                for (int k = 0; k < kc; k++)
                {
                    float* src = call.A + (long)(pc + k) * call.Lda + ic + ir;
                    float* d = panel + k * MR;
                    int r = 0;
                    for (; r < rows; r++) d[r] = src[r];
                    for (; r < MR; r++) d[r] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// op(B)[pc..pc+kc, jc..jc+nc] → micro-panels of NR columns: panel p holds kc steps of NR floats, at
    /// dst + (offset + p·NR)·kc (offset: where these columns sit in the block, so panel addresses stay uniform).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(in GemmCall call, float* dst, int pc, int kc, int jc, int nc, int NR, int offset)
    {
        if (!call.TransB)
        {
            // Row by row: each row of B is read once, front to back, and its NR-wide pieces go to their panels. Read
            // panel by panel instead, a power-of-two row (1,024 floats) is a 4 KiB stride that maps every panel's lines
            // onto a few cache sets (Zen 5, 128×1024×784 on 1 thread: 0.79× oneDNN, perf-results/2026-12-07-threads).
            for (int k = 0; k < kc; k++)
            {
                float* src = call.B + (long)(pc + k) * call.Ldb + jc;
                for (int jr = 0; jr < nc; jr += NR)
                {
                    int cols = Math.Min(NR, nc - jr);
                    float* d = dst + (offset + jr) * kc + k * NR;
                    new ReadOnlySpan<float>(src + jr, cols).CopyTo(new Span<float>(d, cols));
                    if (cols < NR) new Span<float>(d + cols, NR - cols).Clear();
                }
            }
            return;
        }
        for (int jr = 0; jr < nc; jr += NR)
        {
            float* panel = dst + (offset + jr) * kc;
            int cols = Math.Min(NR, nc - jr);
            if (cols == NR && NR % 8 == 0 && Transpose8x8.IsSupported)
            {
                // B is stored transposed (row j holds column j of op(B)): 8 columns × 8 steps of k at a time.
                int k = 0;
                for (; k + 8 <= kc; k += 8)
                    for (int c0 = 0; c0 < NR; c0 += 8)
                        Transpose8x8.Copy(call.B + (long)(jc + jr + c0) * call.Ldb + pc + k, call.Ldb, panel + k * NR + c0, NR);
                for (; k < kc; k++)
                    for (int col = 0; col < NR; col++) panel[k * NR + col] = call.B[(long)(jc + jr + col) * call.Ldb + pc + k];
            }
            else
            {
                for (int col = 0; col < NR; col++)
                {
                    if (col < cols)
                    {
                        float* src = call.B + (long)(jc + jr + col) * call.Ldb + pc;
                        for (int k = 0; k < kc; k++) panel[k * NR + col] = src[k];
                    }
                    else
                    {
                        for (int k = 0; k < kc; k++) panel[k * NR + col] = 0f;
                    }
                }
            }
        }
    }
}
