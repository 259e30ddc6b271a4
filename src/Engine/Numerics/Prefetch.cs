using System.Runtime.Intrinsics.X86;

namespace Engine.Numerics;

/// <summary>Cache hints. They change when memory arrives, never what is computed.</summary>
internal static unsafe class Prefetch
{
    /// <summary>Asks for every cache line of <paramref name="row"/> to be brought towards L2 ahead of use.</summary>
    public static void Row(ReadOnlySpan<float> row)
    {
        if (!Sse.IsSupported) return;
        fixed (float* p = row)
            for (int i = 0; i < row.Length; i += 16) Sse.Prefetch1(p + i);
    }

    /// <summary>The same for a row of bytes.</summary>
    public static void Bytes(ReadOnlySpan<byte> row)
    {
        if (!Sse.IsSupported) return;
        fixed (byte* p = row)
            for (int i = 0; i < row.Length; i += 64) Sse.Prefetch1(p + i);
    }
}
