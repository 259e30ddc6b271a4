using System.Runtime.CompilerServices;

namespace Engine.Kernels.Simd;

/// <summary>
/// Where the micro-kernel reads its MR rows of op(A): element (r, k) of the tile, one k step at a time. The kernels are
/// generic over it, so the JIT compiles one body per layout and the fma sequence is the same for both (the values are
/// the same floats, read from another address).
/// </summary>
internal unsafe interface IAPanel<TSelf> where TSelf : struct, IAPanel<TSelf>
{
    /// <summary>Row <paramref name="r"/> of the tile at the current k.</summary>
    float Row(int r);
    /// <summary>The next k (<paramref name="mr"/>: the kernel's MR, the step of a packed panel).</summary>
    void Next(int mr);
}

/// <summary>A packed micro-panel (<see cref="Packing.PackA"/>): kc steps of MR consecutive floats.</summary>
internal unsafe struct PackedAPanel(float* p) : IAPanel<PackedAPanel>
{
    float* _p = p;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public readonly float Row(int r) => _p[r];
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Next(int mr) => _p += mr;
}

/// <summary>
/// MR rows of an untransposed A read in place, <c>lda</c> floats apart: the kernel broadcasts each element from memory
/// anyway, so A needs no packing when few column panels would reuse the pack (see <see cref="GemmPlan.ReadsAInPlace"/>).
/// A transposed A is read in place by <see cref="ColumnsAPanel"/>.
/// </summary>
internal unsafe struct RowsAPanel(float* p, int lda) : IAPanel<RowsAPanel>
{
    float* _p = p;
    readonly nint _lda = lda;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public readonly float Row(int r) => _p[r * _lda];
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Next(int mr) => _p++;
}

/// <summary>
/// MR rows of op(A) = Aᵀ read in place: at each k they are MR consecutive floats of A's row k, <c>lda</c> floats after
/// the previous k's (the weight gradient's Xᵀ).
/// </summary>
internal unsafe struct ColumnsAPanel(float* p, int lda) : IAPanel<ColumnsAPanel>
{
    float* _p = p;
    readonly nint _lda = lda;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public readonly float Row(int r) => _p[r];
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Next(int mr) => _p += _lda;
}
