namespace Engine.Bench;

/// <summary>
/// Operands for the profile tools at a chosen distance from a 64-byte cache line: a slice of a pinned array (pinned, so
/// the distance stays what was chosen).
/// </summary>
static unsafe class LineSlices
{
    /// <summary><paramref name="floats"/> floats starting <paramref name="floatsPastLine"/> floats (0–15) past a line, or
    /// where the allocator put the array (null), as a caller's own arrays would be.</summary>
    public static Memory<float> Allocate(int floats, int? floatsPastLine)
    {
        var array = GC.AllocateUninitializedArray<float>(floats + 32, pinned: true);
        if (floatsPastLine is not { } past) return array.AsMemory(0, floats);
        int toLine = (int)((64 - BytesPastLine(array.AsMemory())) % 64 / sizeof(float));
        return array.AsMemory(toLine + past, floats);
    }

    /// <summary>How many bytes past a 64-byte line the slice starts.</summary>
    public static int BytesPastLine(Memory<float> slice)
    {
        fixed (float* p = slice.Span) return (int)((nint)p & 63);
    }
}
