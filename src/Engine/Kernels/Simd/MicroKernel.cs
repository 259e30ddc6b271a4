using System.Runtime.CompilerServices;

namespace Engine.Kernels.Simd;

/// <summary>
/// The GEMM micro-kernel, one body per vector type (see <see cref="IVec{TSelf}"/>).
///
/// Contract (after BLIS's KernelsHowTo):
/// - Computes one MR×NR tile of C, MR = 6 rows and NR = 2 vectors of columns, held in 12 accumulators.
/// - <c>a</c> gives the tile's MR rows of op(A), one k step at a time (<see cref="IAPanel{TSelf}"/>): a packed
///   micro-panel (kc steps of MR consecutive floats) or MR rows of A read in place.
///   <c>b</c> holds kc rows of NR consecutive floats, <c>ldb</c> floats apart: a packed micro-panel (ldb = NR)
///   or, when packing would not pay, B itself (ldb = its row stride). Packed panels are zero-padded, so edge
///   tiles need no special case here.
/// - When <c>loadC</c> is false the accumulators start at +0 and C is not read; otherwise they start at C.
/// - Every element is updated acc = fma(a[i,k], b[k,j], acc) for k = 0..kc−1 in order and stored once: the
///   numerics contract's sequence, so a K split into KC blocks (store, reload, go on) gives the reference's bits.
/// - C is row-major with row stride <c>ldc</c>; the tile must be fully addressable (the driver passes a
///   scratch tile for edges).
/// </summary>
internal static unsafe class MicroKernel<TVec> where TVec : struct, IVec<TVec>
{
    public const int MR = 6;

    // Not inlined: inside the driver's loops the JIT ran out of registers and reloaded A's row stride from the stack.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Run<TA>(int kc, TA a, float* b, int ldb, float* c, int ldc, bool loadC) where TA : struct, IAPanel<TA>
    {
        int n = TVec.Count;
        TVec c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (loadC)
        {
            c00 = TVec.Load(c); c01 = TVec.Load(c + n);
            c10 = TVec.Load(c + ldc); c11 = TVec.Load(c + ldc + n);
            c20 = TVec.Load(c + 2 * ldc); c21 = TVec.Load(c + 2 * ldc + n);
            c30 = TVec.Load(c + 3 * ldc); c31 = TVec.Load(c + 3 * ldc + n);
            c40 = TVec.Load(c + 4 * ldc); c41 = TVec.Load(c + 4 * ldc + n);
            c50 = TVec.Load(c + 5 * ldc); c51 = TVec.Load(c + 5 * ldc + n);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = TVec.Zero;
        }
        for (int k = 0; k < kc; k++)
        {
            TVec b0 = TVec.Load(b), b1 = TVec.Load(b + n);
            TVec ai = TVec.Broadcast(a.Row(0));
            c00 = TVec.Fma(ai, b0, c00); c01 = TVec.Fma(ai, b1, c01);
            ai = TVec.Broadcast(a.Row(1));
            c10 = TVec.Fma(ai, b0, c10); c11 = TVec.Fma(ai, b1, c11);
            ai = TVec.Broadcast(a.Row(2));
            c20 = TVec.Fma(ai, b0, c20); c21 = TVec.Fma(ai, b1, c21);
            ai = TVec.Broadcast(a.Row(3));
            c30 = TVec.Fma(ai, b0, c30); c31 = TVec.Fma(ai, b1, c31);
            ai = TVec.Broadcast(a.Row(4));
            c40 = TVec.Fma(ai, b0, c40); c41 = TVec.Fma(ai, b1, c41);
            ai = TVec.Broadcast(a.Row(5));
            c50 = TVec.Fma(ai, b0, c50); c51 = TVec.Fma(ai, b1, c51);
            a.Next(MR);
            b += ldb;
        }
        TVec.Store(c00, c); TVec.Store(c01, c + n);
        TVec.Store(c10, c + ldc); TVec.Store(c11, c + ldc + n);
        TVec.Store(c20, c + 2 * ldc); TVec.Store(c21, c + 2 * ldc + n);
        TVec.Store(c30, c + 3 * ldc); TVec.Store(c31, c + 3 * ldc + n);
        TVec.Store(c40, c + 4 * ldc); TVec.Store(c41, c + 4 * ldc + n);
        TVec.Store(c50, c + 5 * ldc); TVec.Store(c51, c + 5 * ldc + n);
    }
}
