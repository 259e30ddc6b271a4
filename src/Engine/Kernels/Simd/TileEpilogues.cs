using System.Runtime.CompilerServices;

namespace Engine.Kernels.Simd;

/// <summary>
/// What happens to each finished MR×NR tile of a product (the BLIS/CUTLASS epilogue): a type parameter of the tile loop,
/// so every (vector type, epilogue) pair is compiled on its own. A new fusion is a new epilogue, never a flag in the loop.
/// </summary>
internal unsafe interface ITileEpilogue
{
    /// <summary>True: the micro-kernel stores (or accumulates) the product into C itself. False: the product of the whole
    /// K (one block) goes to a scratch tile and <see cref="Apply{TVec}"/> decides what C receives.</summary>
    static abstract bool StoresProduct { get; }

    /// <summary>Finishes an mr×nr tile: <paramref name="product"/> (row stride ldp) into C at <paramref name="c"/> (row stride ldc).</summary>
    void Apply<TVec>(float* product, int ldp, float* c, int ldc, int mr, int nr) where TVec : struct, IVec<TVec>;
}

/// <summary>C = product (or C += product when accumulating): the plain GEMM.</summary>
internal readonly unsafe struct StoreTile : ITileEpilogue
{
    public static bool StoresProduct => true;
    public void Apply<TVec>(float* product, int ldp, float* c, int ldc, int mr, int nr) where TVec : struct, IVec<TVec> =>
        throw new InvalidOperationException("the micro-kernel stores this product itself");
}

/// <summary>C is a weight matrix W and the product its gradient G: each tile becomes the rule's step of W, as the unfused
/// update would apply it to the stored G (state-free rules only: the rule's state would need W's layout too).</summary>
internal readonly unsafe struct UpdateTile<TRule>(TRule rule) : ITileEpilogue where TRule : struct, IUpdateRule
{
    public static bool StoresProduct => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Apply<TVec>(float* product, int ldp, float* c, int ldc, int mr, int nr) where TVec : struct, IVec<TVec>
    {
        for (int r = 0; r < mr; r++, product += ldp, c += ldc) ElementWise<TVec>.Update(rule, c, product, null, null, nr);
    }
}
