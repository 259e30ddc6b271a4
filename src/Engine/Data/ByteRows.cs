using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Engine.Kernels;
using Engine.Numerics;

namespace Engine.Data;

/// <summary>
/// A dataset's features held as bytes b with every feature exactly b / <see cref="Divisor"/>: MNIST-style pixels
/// after <see cref="InputScaling.Divide"/>. The shuffled gather of a training epoch reads a quarter of the memory
/// from these (784 B instead of 3,136 B per image, rows scattered over the whole set) and converts with
/// <see cref="IKernels.BytesToFloats"/>, the same IEEE division the scaling did, so a gathered batch has the float
/// rows' bits. Built only after checking every feature bit for bit against its byte: a dataset changed after
/// scaling is never read wrong, it just gets no byte rows.
/// </summary>
internal sealed class ByteRows
{
    readonly byte[] _bytes;

    /// <summary>feature = byte / Divisor.</summary>
    public float Divisor { get; }
    /// <summary>Features per row.</summary>
    public int Width { get; }

    ByteRows(byte[] bytes, float divisor, int width) => (_bytes, Divisor, Width) = (bytes, divisor, width);

    /// <summary>
    /// The byte form of <paramref name="data"/>, or null when it has no divisor hint (<see cref="Dataset.ByteDivisor"/>)
    /// or some feature is not exactly byte / divisor (−0, NaN, fractions, values past 255). One pass over the features,
    /// stopping at the first miss.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // one long loop, run once: no time for tiering
    public static ByteRows? TryCreate(Dataset data, IKernels kernels)
    {
        float divisor = data.ByteDivisor;
        if (!(divisor > 0) || !float.IsFinite(divisor) || data.Features.Length == 0) return null;
        var bytes = GC.AllocateUninitializedArray<byte>(data.Features.Length);
        ReadOnlySpan<float> features = data.Features;
        Span<float> check = stackalloc float[1024];
        for (int start = 0; start < features.Length; start += check.Length)
        {
            int n = Math.Min(check.Length, features.Length - start);
            ReadOnlySpan<float> chunk = features.Slice(start, n);
            Span<byte> b = bytes.AsSpan(start, n);
            if (!Candidates(chunk, divisor, b)) return null;
            kernels.BytesToFloats(b, check[..n], divisor); // the candidates must give back every feature's bits
            if (!MemoryMarshal.AsBytes(check[..n]).SequenceEqual(MemoryMarshal.AsBytes(chunk))) return null;
        }
        return new ByteRows(bytes, divisor, data.Width);
    }

    /// <summary>b = round(x · divisor) when that lies in 0..255 for every x (NaN does not); false otherwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static bool Candidates(ReadOnlySpan<float> x, float divisor, Span<byte> b)
    {
        int i = 0;
        var d = Vector256.Create(divisor);
        for (; i + 32 <= x.Length; i += 32)
        {
            var t0 = Vector256.Round(Vector256.Create(x.Slice(i, 8)) * d);
            var t1 = Vector256.Round(Vector256.Create(x.Slice(i + 8, 8)) * d);
            var t2 = Vector256.Round(Vector256.Create(x.Slice(i + 16, 8)) * d);
            var t3 = Vector256.Round(Vector256.Create(x.Slice(i + 24, 8)) * d);
            var low = Vector256.Min(Vector256.Min(t0, t1), Vector256.Min(t2, t3));
            var high = Vector256.Max(Vector256.Max(t0, t1), Vector256.Max(t2, t3));
            // Min/Max may drop a NaN: check every lane of every vector for being a number (x == x).
            var numbers = Vector256.Equals(t0, t0) & Vector256.Equals(t1, t1) & Vector256.Equals(t2, t2) & Vector256.Equals(t3, t3);
            if (!Vector256.GreaterThanOrEqualAll(low, Vector256<float>.Zero) || !Vector256.LessThanOrEqualAll(high, Vector256.Create(255f))
                || numbers.AsUInt32() != Vector256<uint>.AllBitsSet) // compared as integers: all-ones is a NaN
                return false;
            var words = Vector256.Narrow(
                Vector256.Narrow(Vector256.ConvertToUInt32(t0), Vector256.ConvertToUInt32(t1)),
                Vector256.Narrow(Vector256.ConvertToUInt32(t2), Vector256.ConvertToUInt32(t3)));
            words.CopyTo(b.Slice(i));
        }
        for (; i < x.Length; i++)
        {
            float t = MathF.Round(x[i] * divisor);
            if (!(t >= 0 && t <= 255)) return false;
            b[i] = (byte)t;
        }
        return true;
    }

    /// <summary>Row <paramref name="row"/> as floats (byte / <see cref="Divisor"/>) into <paramref name="destination"/>.</summary>
    public void CopyRow(IKernels kernels, int row, Span<float> destination) =>
        kernels.BytesToFloats(_bytes.AsSpan(row * Width, Width), destination[..Width], Divisor);

    /// <summary>Asks for row <paramref name="row"/>'s cache lines ahead of a <see cref="CopyRow"/>.</summary>
    public void Prefetch(int row) => Numerics.Prefetch.Bytes(_bytes.AsSpan(row * Width, Width));
}
