namespace Engine.Numerics;

/// <summary>
/// A row-major float32 matrix over a span: element (r, c) lives at <c>data[r * Stride + c]</c>.
/// The stride lets a view address a block of a larger matrix without copying.
/// </summary>
public readonly ref struct MatrixView
{
    /// <summary>The underlying buffer; it may extend beyond the view's last element.</summary>
    public readonly Span<float> Data;
    /// <summary>Number of rows.</summary>
    public readonly int Rows;
    /// <summary>Number of columns.</summary>
    public readonly int Cols;
    /// <summary>Distance in floats between the starts of consecutive rows (≥ <see cref="Cols"/>).</summary>
    public readonly int Stride;

    /// <summary>A densely packed view: the stride equals <paramref name="cols"/>.</summary>
    /// <exception cref="ArgumentException">The shape is negative or does not fit in <paramref name="data"/>.</exception>
    public MatrixView(Span<float> data, int rows, int cols) : this(data, rows, cols, cols) { }

    /// <summary>A view whose rows start <paramref name="stride"/> floats apart.</summary>
    /// <exception cref="ArgumentException">The shape is negative, <paramref name="stride"/> &lt; <paramref name="cols"/>,
    /// or the view does not fit in <paramref name="data"/>.</exception>
    public MatrixView(Span<float> data, int rows, int cols, int stride)
    {
        Shape.CheckMatrix(data.Length, rows, cols, stride);
        Data = data;
        Rows = rows;
        Cols = cols;
        Stride = stride;
    }

    /// <summary>Element (<paramref name="row"/>, <paramref name="col"/>), by reference; indices are not checked against the shape.</summary>
    public ref float this[int row, int col] => ref Data[row * Stride + col];

    /// <summary>The <see cref="Cols"/> elements of one row.</summary>
    public Span<float> Row(int row) => Data.Slice(row * Stride, Cols);

    /// <summary>A read-only view of the same elements.</summary>
    public ReadOnlyMatrixView AsReadOnly() => new(Data, Rows, Cols, Stride);

    /// <summary>Same as <see cref="AsReadOnly"/>, so a writable view can be passed as a kernel input.</summary>
    public static implicit operator ReadOnlyMatrixView(MatrixView m) => m.AsReadOnly();
}

/// <summary>Read-only twin of <see cref="MatrixView"/>.</summary>
public readonly ref struct ReadOnlyMatrixView
{
    /// <summary>The underlying buffer; it may extend beyond the view's last element.</summary>
    public readonly ReadOnlySpan<float> Data;
    /// <summary>Number of rows.</summary>
    public readonly int Rows;
    /// <summary>Number of columns.</summary>
    public readonly int Cols;
    /// <summary>Distance in floats between the starts of consecutive rows (≥ <see cref="Cols"/>).</summary>
    public readonly int Stride;

    /// <summary>A densely packed view: the stride equals <paramref name="cols"/>.</summary>
    /// <exception cref="ArgumentException">The shape is negative or does not fit in <paramref name="data"/>.</exception>
    public ReadOnlyMatrixView(ReadOnlySpan<float> data, int rows, int cols) : this(data, rows, cols, cols) { }

    /// <summary>A view whose rows start <paramref name="stride"/> floats apart.</summary>
    /// <exception cref="ArgumentException">The shape is negative, <paramref name="stride"/> &lt; <paramref name="cols"/>,
    /// or the view does not fit in <paramref name="data"/>.</exception>
    public ReadOnlyMatrixView(ReadOnlySpan<float> data, int rows, int cols, int stride)
    {
        Shape.CheckMatrix(data.Length, rows, cols, stride);
        Data = data;
        Rows = rows;
        Cols = cols;
        Stride = stride;
    }

    /// <summary>Element (<paramref name="row"/>, <paramref name="col"/>); indices are not checked against the shape.</summary>
    public float this[int row, int col] => Data[row * Stride + col];

    /// <summary>The <see cref="Cols"/> elements of one row.</summary>
    public ReadOnlySpan<float> Row(int row) => Data.Slice(row * Stride, Cols);
}
