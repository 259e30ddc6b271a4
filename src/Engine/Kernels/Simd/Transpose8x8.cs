using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels.Simd;

/// <summary>
/// Copies an 8×8 block transposed with AVX shuffles (unpack, shuffle, 128-bit permute): row r of the
/// source becomes column r of the destination. Packing moves values without arithmetic, so this changes
/// speed only, never results.
/// </summary>
internal static unsafe class Transpose8x8
{
    public static bool IsSupported => Avx.IsSupported;

    /// <param name="src">8 rows of 8 floats, <paramref name="srcStride"/> floats apart.</param>
    /// <param name="dst">8 rows of 8 floats, <paramref name="dstStride"/> floats apart.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(float* src, long srcStride, float* dst, long dstStride)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + srcStride);
        var r2 = Avx.LoadVector256(src + 2 * srcStride);
        var r3 = Avx.LoadVector256(src + 3 * srcStride);
        var r4 = Avx.LoadVector256(src + 4 * srcStride);
        var r5 = Avx.LoadVector256(src + 5 * srcStride);
        var r6 = Avx.LoadVector256(src + 6 * srcStride);
        var r7 = Avx.LoadVector256(src + 7 * srcStride);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * dstStride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * dstStride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * dstStride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * dstStride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * dstStride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * dstStride, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>dst[c·dstStride + r] = src[r·srcStride + c] for r &lt; rows, c &lt; cols: whole 8×8 blocks by <see cref="Copy"/>, the rest one by one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CopyBlock(float* src, long srcStride, float* dst, long dstStride, int rows, int cols)
    {
        int fullRows = IsSupported ? rows / 8 * 8 : 0, fullCols = IsSupported ? cols / 8 * 8 : 0;
        for (int r = 0; r < fullRows; r += 8)
            for (int c = 0; c < fullCols; c += 8)
                Copy(src + r * srcStride + c, srcStride, dst + c * dstStride + r, dstStride);
        for (int r = 0; r < rows; r++)
            for (int c = r < fullRows ? fullCols : 0; c < cols; c++)
                dst[c * dstStride + r] = src[r * srcStride + c];
    }
}
