using System.Runtime.Intrinsics.X86;

namespace Engine.Numerics;

/// <summary>Cache hints. They change when memory arrives, never what is computed.</summary>
internal static unsafe class Prefetch
{
    /// <summary>Asks for every cache line of <paramref name="row"/> to be brought towards L2 ahead of use.</summary>
    public static void Row(ReadOnlySpan<float> row)
    {
        fixed (float* p = row) Lines((byte*)p, row.Length * sizeof(float));
    }

    /// <summary>The same for a row of bytes.</summary>
    public static void Bytes(ReadOnlySpan<byte> row)
    {
        fixed (byte* p = row) Lines(p, row.Length);
    }

    /// <summary>Every 64-byte line that [p, p + length) touches: counted from p's line, not from p, so that a row
    /// that does not start on a line boundary gets its last line too.</summary>
    public static void Lines(byte* p, int length)
    {
        if (!Sse.IsSupported || length <= 0) return;
        byte* line = (byte*)((nint)p & ~(nint)63), end = p + length;
        for (; line < end; line += 64) Sse.Prefetch1(line);
    }
}
