namespace Engine.Numerics;

/// <summary>Shape checks shared by every kernel; a failed check is a programming error.</summary>
public static class Shape
{
    /// <summary>A rows×cols view with this stride must fit in a buffer of <paramref name="length"/> floats.</summary>
    public static void CheckMatrix(int length, int rows, int cols, int stride)
    {
        if (rows < 0 || cols < 0)
            throw new ArgumentOutOfRangeException(nameof(rows), $"matrix shape {rows}x{cols} is negative");
        if (stride < cols || stride < 0)
            throw new ArgumentOutOfRangeException(nameof(stride), $"stride {stride} is smaller than {cols} columns");
        long needed = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * stride + cols;
        if (needed > length)
            throw new ArgumentException($"a {rows}x{cols} matrix with stride {stride} needs {needed} floats, the buffer has {length}");
    }

    public static void Require(bool condition, string message)
    {
        if (!condition) throw new ArgumentException(message);
    }
}
