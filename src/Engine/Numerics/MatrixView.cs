namespace Engine.Numerics;

/// <summary>
/// A row-major float32 matrix over a span: element (r, c) lives at <c>data[r * Stride + c]</c>.
/// The stride lets a view address a block of a larger matrix without copying.
/// </summary>
public readonly ref struct MatrixView
{
    public readonly Span<float> Data;
    public readonly int Rows;
    public readonly int Cols;
    public readonly int Stride;

    public MatrixView(Span<float> data, int rows, int cols) : this(data, rows, cols, cols) { }

    public MatrixView(Span<float> data, int rows, int cols, int stride)
    {
        Shape.CheckMatrix(data.Length, rows, cols, stride);
        Data = data;
        Rows = rows;
        Cols = cols;
        Stride = stride;
    }

    public ref float this[int row, int col] => ref Data[row * Stride + col];

    public Span<float> Row(int row) => Data.Slice(row * Stride, Cols);

    public ReadOnlyMatrixView AsReadOnly() => new(Data, Rows, Cols, Stride);

    public static implicit operator ReadOnlyMatrixView(MatrixView m) => m.AsReadOnly();
}

/// <summary>Read-only twin of <see cref="MatrixView"/>.</summary>
public readonly ref struct ReadOnlyMatrixView
{
    public readonly ReadOnlySpan<float> Data;
    public readonly int Rows;
    public readonly int Cols;
    public readonly int Stride;

    public ReadOnlyMatrixView(ReadOnlySpan<float> data, int rows, int cols) : this(data, rows, cols, cols) { }

    public ReadOnlyMatrixView(ReadOnlySpan<float> data, int rows, int cols, int stride)
    {
        Shape.CheckMatrix(data.Length, rows, cols, stride);
        Data = data;
        Rows = rows;
        Cols = cols;
        Stride = stride;
    }

    public float this[int row, int col] => Data[row * Stride + col];

    public ReadOnlySpan<float> Row(int row) => Data.Slice(row * Stride, Cols);
}
