using System.Runtime.CompilerServices;

namespace Engine.Numerics;

/// <summary>Shape checks shared by every kernel; a failed check is a programming error.</summary>
internal static class Shape
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

    /// <summary>Like <see cref="Require(bool, string)"/>, but the message is only formatted when the check fails,
    /// so kernels can state their shapes without allocating on every call.</summary>
    public static void Require(bool condition, [InterpolatedStringHandlerArgument(nameof(condition))] ref FailureMessage message)
    {
        if (!condition) throw new ArgumentException(message.ToStringAndClear());
    }

    [InterpolatedStringHandler]
    public ref struct FailureMessage
    {
        DefaultInterpolatedStringHandler _text;

        public FailureMessage(int literalLength, int formattedCount, bool condition, out bool shouldAppend)
        {
            shouldAppend = !condition;
            _text = condition ? default : new DefaultInterpolatedStringHandler(literalLength, formattedCount);
        }

        public void AppendLiteral(string value) => _text.AppendLiteral(value);
        public void AppendFormatted<T>(T value) => _text.AppendFormatted(value);
        public string ToStringAndClear() => _text.ToStringAndClear();
    }
}
