namespace Engine.Data;

/// <summary>
/// Examples as a row-major (Count, Width) float32 matrix plus optional integer class labels.
/// Features hold raw values as read (e.g. 0..255) until <see cref="InputScaling"/> is applied.
/// </summary>
public sealed class Dataset
{
    /// <summary>The (Count, Width) row-major matrix: example i occupies [i·Width, (i+1)·Width).</summary>
    public float[] Features { get; }
    /// <summary>One class index per example, or null when the data is unlabelled.</summary>
    public int[]? Labels { get; }
    /// <summary>Number of examples (rows).</summary>
    public int Count { get; }
    /// <summary>Number of features per example (columns).</summary>
    public int Width { get; }
    /// <summary>Where the data came from, for messages.</summary>
    public string Source { get; }

    /// <summary>Wraps the arrays without copying them.</summary>
    /// <param name="features">Row-major, exactly <paramref name="count"/>·<paramref name="width"/> values.</param>
    /// <param name="labels">One label per example, or null for unlabelled data.</param>
    /// <param name="count">Number of examples.</param>
    /// <param name="width">Features per example.</param>
    /// <param name="source">Where the data came from, for messages.</param>
    /// <exception cref="ArgumentException">The array lengths do not match <paramref name="count"/> and <paramref name="width"/>.</exception>
    public Dataset(float[] features, int[]? labels, int count, int width, string source)
    {
        if ((long)count * width != features.Length)
            throw new ArgumentException($"{features.Length} features for {count}x{width}");
        if (labels is not null && labels.Length != count)
            throw new ArgumentException($"{labels.Length} labels for {count} examples");
        Features = features;
        Labels = labels;
        Count = count;
        Width = width;
        Source = source;
    }

    /// <summary>
    /// A hint from <see cref="InputScaling.Divide"/>: the features may all be byte / ByteDivisor (0: no hint).
    /// Never trusted: <see cref="ByteRows.TryCreate"/> checks every feature before using it.
    /// </summary>
    internal float ByteDivisor { get; init; }

    /// <summary>Whether <see cref="Labels"/> is present.</summary>
    public bool HasLabels => Labels is not null;

    /// <summary>The <see cref="Width"/> features of example <paramref name="i"/>, without copying.</summary>
    public ReadOnlySpan<float> Row(int i) => Features.AsSpan(i * Width, Width);

    /// <summary>1 + the largest label (0 when unlabelled or empty).</summary>
    public int ClassCountFromLabels() => Labels is null || Labels.Length == 0 ? 0 : Labels.Max() + 1;

    /// <summary>A new dataset holding the given rows, in the given order.</summary>
    public Dataset Subset(ReadOnlySpan<int> indices, string source)
    {
        var features = new float[(long)indices.Length * Width];
        int[]? labels = Labels is null ? null : new int[indices.Length];
        for (int r = 0; r < indices.Length; r++)
        {
            Row(indices[r]).CopyTo(features.AsSpan(r * Width, Width));
            if (labels is not null) labels[r] = Labels![indices[r]];
        }
        return new Dataset(features, labels, indices.Length, Width, source) { ByteDivisor = ByteDivisor };
    }
}
