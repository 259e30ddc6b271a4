namespace Engine.Data;

/// <summary>
/// Examples as a row-major (Count, Width) float32 matrix plus optional integer class labels.
/// Features hold raw values as read (e.g. 0..255) until <see cref="InputScaling"/> is applied.
/// </summary>
public sealed class Dataset
{
    public float[] Features { get; }
    public int[]? Labels { get; }
    public int Count { get; }
    public int Width { get; }
    /// <summary>Where the data came from, for messages.</summary>
    public string Source { get; }

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

    public bool HasLabels => Labels is not null;

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
        return new Dataset(features, labels, indices.Length, Width, source);
    }
}
