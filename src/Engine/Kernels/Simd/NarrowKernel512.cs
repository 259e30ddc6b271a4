using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels.Simd;

/// <summary>The AVX-512 kernel for products at most one vector wide (the output layer's N = 10), unpacked.</summary>
internal static unsafe class NarrowKernel512
{
    /// <summary>The widest C it takes.</summary>
    public static int Width => Vector512<float>.Count;

    /// <summary>
    /// C rows [rowStart, rowEnd) for N ≤ 16 and an untransposed B, without packing: each row of C is one masked
    /// vector, and eight rows share every masked load of a B row. Every element still gets the reference's
    /// fma sequence over k = 0..K-1 from 0 (or from C), so the result is bit-identical. A finishing epilogue gets each
    /// block of rows from <paramref name="scratch"/> (room for 8 rows of 16 floats).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TEpilogue>(in GemmCall call, int rowStart, int rowEnd, in TEpilogue epilogue, float* scratch)
        where TEpilogue : struct, IGemmEpilogue
    {
        bool finish = TEpilogue.Use == ProductUse.Finish;
        var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(call.N)).AsSingle();
        // op(A)[i, k] = call.A[i·rowStep + k·kStep]
        long rowStep = call.TransA ? 1 : call.Lda, kStep = call.TransA ? call.Lda : 1, ldb = call.Ldb, ldc = call.Ldc;
        int kEnd = call.K, i = rowStart;
        for (; i + 8 <= rowEnd; i += 8)
        {
            float* c = call.C + i * ldc;
            Vector512<float> c0, c1, c2, c3, c4, c5, c6, c7;
            if (call.Accumulate)
            {
                c0 = Avx512F.MaskLoad(c, mask, Vector512<float>.Zero); c1 = Avx512F.MaskLoad(c + ldc, mask, Vector512<float>.Zero);
                c2 = Avx512F.MaskLoad(c + 2 * ldc, mask, Vector512<float>.Zero); c3 = Avx512F.MaskLoad(c + 3 * ldc, mask, Vector512<float>.Zero);
                c4 = Avx512F.MaskLoad(c + 4 * ldc, mask, Vector512<float>.Zero); c5 = Avx512F.MaskLoad(c + 5 * ldc, mask, Vector512<float>.Zero);
                c6 = Avx512F.MaskLoad(c + 6 * ldc, mask, Vector512<float>.Zero); c7 = Avx512F.MaskLoad(c + 7 * ldc, mask, Vector512<float>.Zero);
            }
            else c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = Vector512<float>.Zero;
            float* a = call.A + i * rowStep;
            for (int k = 0; k < kEnd; k++, a += kStep)
            {
                var b = Avx512F.MaskLoad(call.B + k * ldb, mask, Vector512<float>.Zero);
                c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), b, c0);
                c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[rowStep]), b, c1);
                c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[2 * rowStep]), b, c2);
                c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[3 * rowStep]), b, c3);
                c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[4 * rowStep]), b, c4);
                c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[5 * rowStep]), b, c5);
                c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[6 * rowStep]), b, c6);
                c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[7 * rowStep]), b, c7);
            }
            // A finishing epilogue reads the block with rows packed N apart: rows that follow each other in C and in the
            // scratch (a whole output-layer W) are then one run for it.
            float* t = finish ? scratch : c;
            long ldt = finish ? call.N : ldc;
            Avx512F.MaskStore(t, mask, c0); Avx512F.MaskStore(t + ldt, mask, c1);
            Avx512F.MaskStore(t + 2 * ldt, mask, c2); Avx512F.MaskStore(t + 3 * ldt, mask, c3);
            Avx512F.MaskStore(t + 4 * ldt, mask, c4); Avx512F.MaskStore(t + 5 * ldt, mask, c5);
            Avx512F.MaskStore(t + 6 * ldt, mask, c6); Avx512F.MaskStore(t + 7 * ldt, mask, c7);
            if (finish) epilogue.Finish<V512>(i, 0, scratch, call.N, c, (int)ldc, 8, call.N);
        }
        for (; i < rowEnd; i++)
        {
            float* c = call.C + i * ldc;
            var acc = call.Accumulate ? Avx512F.MaskLoad(c, mask, Vector512<float>.Zero) : Vector512<float>.Zero;
            float* a = call.A + i * rowStep;
            for (int k = 0; k < kEnd; k++, a += kStep)
                acc = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), Avx512F.MaskLoad(call.B + k * ldb, mask, Vector512<float>.Zero), acc);
            Avx512F.MaskStore(finish ? scratch : c, mask, acc);
            if (finish) epilogue.Finish<V512>(i, 0, scratch, call.N, c, (int)ldc, 1, call.N);
        }
    }
}
