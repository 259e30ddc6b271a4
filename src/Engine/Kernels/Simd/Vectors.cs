using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Engine.Kernels.Reference;

namespace Engine.Kernels.Simd;

/// <summary>
/// The vector operations the GEMM micro-kernel and the element-wise kernels need, as static abstract members, so one generic kernel
/// is compiled by the JIT into a separate, fully inlined body per instruction set (like TensorPrimitives'
/// operator structs). Every implementation rounds exactly like <see cref="MathF.FusedMultiplyAdd"/> per lane.
/// </summary>
internal unsafe interface IVec<TSelf> where TSelf : struct, IVec<TSelf>
{
    static abstract int Count { get; }
    static abstract TSelf Zero { get; }
    static abstract TSelf Load(float* p);
    /// <summary>Count bytes from p, each widened to float (exactly: every byte is a float).</summary>
    static abstract TSelf LoadBytes(byte* p);
    static abstract TSelf Broadcast(float value);
    /// <summary>a·b + c with a single rounding.</summary>
    static abstract TSelf Fma(TSelf a, TSelf b, TSelf c);
    static abstract void Store(TSelf v, float* p);
    /// <summary>Rows of this vector type's micro-kernel tile (MR); its columns (NR) are two vectors, 2·Count.</summary>
    static abstract int MicroKernelRows { get; }
    /// <summary>This vector type's GEMM micro-kernel (contract in MicroKernel.cs), an MR×NR tile.</summary>
    static abstract void MicroKernel<TA>(int kc, TA a, float* b, int ldb, float* c, int ldc, bool loadC) where TA : struct, IAPanel<TA>;
    static abstract TSelf Add(TSelf a, TSelf b);
    static abstract TSelf Subtract(TSelf a, TSelf b);
    static abstract TSelf Multiply(TSelf a, TSelf b);
    static abstract TSelf Divide(TSelf a, TSelf b);
    static abstract TSelf Sqrt(TSelf x);
    /// <summary>Per lane MathF.Max semantics (NaN propagates, +0 above −0).</summary>
    static abstract TSelf Max(TSelf a, TSelf b);
    /// <summary>Per lane: condition &gt; 0 ? value : +0.</summary>
    static abstract TSelf WherePositive(TSelf condition, TSelf value);
    /// <summary>Per lane the bits of ScalarMath.FlushSubnormal: ±0 for a subnormal, else x itself (NaN included).</summary>
    static abstract TSelf FlushSubnormal(TSelf x);
    /// <summary>Per lane the bits of ScalarMath.Exp / Tanh / Sigmoid.</summary>
    static abstract TSelf Exp(TSelf x);
    static abstract TSelf Tanh(TSelf x);
    static abstract TSelf Sigmoid(TSelf x);
}

internal unsafe struct V512 : IVec<V512>
{
    Vector512<float> _v;
    public static int Count => 16;
    public static int MicroKernelRows => MicroKernel512.MR;
    public static V512 Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Load(float* p) => new() { _v = Vector512.Load(p) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 LoadBytes(byte* p) => new() { _v = Bytes512(p) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Broadcast(float value) => new() { _v = Vector512.Create(value) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Fma(V512 a, V512 b, V512 c) => new() { _v = Vector512.FusedMultiplyAdd(a._v, b._v, c._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void MicroKernel<TA>(int kc, TA a, float* b, int ldb, float* c, int ldc, bool loadC) where TA : struct, IAPanel<TA> => MicroKernel512.Run(kc, a, b, ldb, c, ldc, loadC);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(V512 v, float* p) => v._v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Add(V512 a, V512 b) => new() { _v = a._v + b._v };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Subtract(V512 a, V512 b) => new() { _v = a._v - b._v };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Multiply(V512 a, V512 b) => new() { _v = a._v * b._v };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Divide(V512 a, V512 b) => new() { _v = a._v / b._v };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Sqrt(V512 x) => new() { _v = Vector512.Sqrt(x._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Max(V512 a, V512 b) => new() { _v = Vector512.Max(a._v, b._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 WherePositive(V512 condition, V512 value) => new() { _v = Vector512.ConditionalSelect(Vector512.GreaterThan(condition._v, Vector512<float>.Zero), value._v, Vector512<float>.Zero) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 FlushSubnormal(V512 x) => new() { _v = Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x._v), Vector512.Create(ScalarMath.MinNormal)), x._v & Vector512.Create(-0f), x._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Exp(V512 x) => new() { _v = VectorMath.Exp(x._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Tanh(V512 x) => new() { _v = VectorMath.Tanh(x._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Sigmoid(V512 x) => new() { _v = VectorMath.Sigmoid(x._v) };

    /// <summary>16 bytes zero-extended to int (vpmovzxbd) and converted to float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Bytes512(byte* p) => Vector512.ConvertToSingle(Avx512F.ConvertToVector512Int32(Vector128.Load(p)));
}

internal unsafe struct V256 : IVec<V256>
{
    Vector256<float> _v;
    public static int Count => 8;
    public static int MicroKernelRows => MicroKernel256.MR;
    public static V256 Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Load(float* p) => new() { _v = Vector256.Load(p) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 LoadBytes(byte* p) => new() { _v = Bytes256(p) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Broadcast(float value) => new() { _v = Vector256.Create(value) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Fma(V256 a, V256 b, V256 c) => new() { _v = Vector256.FusedMultiplyAdd(a._v, b._v, c._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void MicroKernel<TA>(int kc, TA a, float* b, int ldb, float* c, int ldc, bool loadC) where TA : struct, IAPanel<TA> => MicroKernel256.Run(kc, a, b, ldb, c, ldc, loadC);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(V256 v, float* p) => v._v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Add(V256 a, V256 b) => new() { _v = a._v + b._v };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Subtract(V256 a, V256 b) => new() { _v = a._v - b._v };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Multiply(V256 a, V256 b) => new() { _v = a._v * b._v };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Divide(V256 a, V256 b) => new() { _v = a._v / b._v };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Sqrt(V256 x) => new() { _v = Vector256.Sqrt(x._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Max(V256 a, V256 b) => new() { _v = Vector256.Max(a._v, b._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 WherePositive(V256 condition, V256 value) => new() { _v = Vector256.ConditionalSelect(Vector256.GreaterThan(condition._v, Vector256<float>.Zero), value._v, Vector256<float>.Zero) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 FlushSubnormal(V256 x) => new() { _v = Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x._v), Vector256.Create(ScalarMath.MinNormal)), x._v & Vector256.Create(-0f), x._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Exp(V256 x) => new() { _v = VectorMath.Exp(x._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Tanh(V256 x) => new() { _v = VectorMath.Tanh(x._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Sigmoid(V256 x) => new() { _v = VectorMath.Sigmoid(x._v) };

    /// <summary>8 bytes zero-extended to int (vpmovzxbd) and converted to float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Bytes256(byte* p) => Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(p));
}

/// <summary>Portable <see cref="Vector{T}"/>: whatever width the runtime gives (8 lanes on x64 by default).</summary>
internal unsafe struct VPortable : IVec<VPortable>
{
    Vector<float> _v;
    public static int Count => Vector<float>.Count;
    public static int MicroKernelRows => Simd.MicroKernel<VPortable>.MR;
    public static VPortable Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VPortable Load(float* p) => new() { _v = Unsafe.ReadUnaligned<Vector<float>>(p) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VPortable LoadBytes(byte* p) => new()
    {
        _v = Vector<float>.Count == 16 ? V512.Bytes512(p).AsVector() : Vector<float>.Count == 8 ? V256.Bytes256(p).AsVector() : ByteLanes(p)
    };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VPortable Broadcast(float value) => new() { _v = new Vector<float>(value) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VPortable Fma(VPortable a, VPortable b, VPortable c) => new() { _v = Vector.FusedMultiplyAdd(a._v, b._v, c._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void MicroKernel<TA>(int kc, TA a, float* b, int ldb, float* c, int ldc, bool loadC) where TA : struct, IAPanel<TA> => Simd.MicroKernel<VPortable>.Run(kc, a, b, ldb, c, ldc, loadC);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(VPortable v, float* p) => Unsafe.WriteUnaligned(p, v._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VPortable Add(VPortable a, VPortable b) => new() { _v = a._v + b._v };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VPortable Subtract(VPortable a, VPortable b) => new() { _v = a._v - b._v };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VPortable Multiply(VPortable a, VPortable b) => new() { _v = a._v * b._v };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VPortable Divide(VPortable a, VPortable b) => new() { _v = a._v / b._v };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VPortable Sqrt(VPortable x) => new() { _v = Vector.SquareRoot(x._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VPortable Max(VPortable a, VPortable b) => new() { _v = Vector.Max(a._v, b._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VPortable WherePositive(VPortable condition, VPortable value) => new() { _v = Vector.ConditionalSelect(Vector.GreaterThan(condition._v, Vector<float>.Zero), value._v, Vector<float>.Zero) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VPortable FlushSubnormal(VPortable x) => new() { _v = Vector.ConditionalSelect(Vector.LessThan(Vector.Abs(x._v), new Vector<float>(ScalarMath.MinNormal)), x._v & new Vector<float>(-0f), x._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VPortable Exp(VPortable x) => new() { _v = Transcendental(x._v, 0) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VPortable Tanh(VPortable x) => new() { _v = Transcendental(x._v, 1) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VPortable Sigmoid(VPortable x) => new() { _v = Transcendental(x._v, 2) };

    static Vector<float> ByteLanes(byte* p)
    {
        Span<float> lanes = stackalloc float[Vector<float>.Count];
        for (int i = 0; i < lanes.Length; i++) lanes[i] = p[i];
        return new Vector<float>(lanes);
    }

    // exp/tanh/sigmoid on Vector<T>: through the 256- or 512-bit twin of the same width, else lane by lane.
    static Vector<float> Transcendental(Vector<float> x, int op)
    {
        if (Vector<float>.Count == 8)
        {
            var v = x.AsVector256();
            return (op == 0 ? VectorMath.Exp(v) : op == 1 ? VectorMath.Tanh(v) : VectorMath.Sigmoid(v)).AsVector();
        }
        if (Vector<float>.Count == 16)
        {
            var v = x.AsVector512();
            return (op == 0 ? VectorMath.Exp(v) : op == 1 ? VectorMath.Tanh(v) : VectorMath.Sigmoid(v)).AsVector();
        }
        Span<float> lanes = stackalloc float[Vector<float>.Count];
        x.CopyTo(lanes);
        for (int i = 0; i < lanes.Length; i++)
            lanes[i] = op == 0 ? ScalarMath.Exp(lanes[i]) : op == 1 ? ScalarMath.Tanh(lanes[i]) : ScalarMath.Sigmoid(lanes[i]);
        return new Vector<float>(lanes);
    }
}

/// <summary>One lane of plain scalar code: the blocked structure without vectors.</summary>
internal unsafe struct VScalar : IVec<VScalar>
{
    float _v;
    public static int Count => 1;
    public static int MicroKernelRows => Simd.MicroKernel<VScalar>.MR;
    public static VScalar Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VScalar Load(float* p) => new() { _v = *p };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VScalar LoadBytes(byte* p) => new() { _v = *p };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VScalar Broadcast(float value) => new() { _v = value };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VScalar Fma(VScalar a, VScalar b, VScalar c) => new() { _v = MathF.FusedMultiplyAdd(a._v, b._v, c._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void MicroKernel<TA>(int kc, TA a, float* b, int ldb, float* c, int ldc, bool loadC) where TA : struct, IAPanel<TA> => Simd.MicroKernel<VScalar>.Run(kc, a, b, ldb, c, ldc, loadC);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(VScalar v, float* p) => *p = v._v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VScalar Add(VScalar a, VScalar b) => new() { _v = a._v + b._v };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VScalar Subtract(VScalar a, VScalar b) => new() { _v = a._v - b._v };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VScalar Multiply(VScalar a, VScalar b) => new() { _v = a._v * b._v };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VScalar Divide(VScalar a, VScalar b) => new() { _v = a._v / b._v };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VScalar Sqrt(VScalar x) => new() { _v = MathF.Sqrt(x._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VScalar Max(VScalar a, VScalar b) => new() { _v = MathF.Max(a._v, b._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VScalar WherePositive(VScalar condition, VScalar value) => new() { _v = condition._v > 0f ? value._v : 0f };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VScalar FlushSubnormal(VScalar x) => new() { _v = ScalarMath.FlushSubnormal(x._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VScalar Exp(VScalar x) => new() { _v = ScalarMath.Exp(x._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VScalar Tanh(VScalar x) => new() { _v = ScalarMath.Tanh(x._v) };
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VScalar Sigmoid(VScalar x) => new() { _v = ScalarMath.Sigmoid(x._v) };
}
