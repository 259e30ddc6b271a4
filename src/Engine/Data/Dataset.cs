namespace Engine.Data;

/// <summary>
/// Examples as a row-major (Count, Width) float32 matrix plus optional integer class labels.
/// Features hold raw values as read (e.g. 0..255) until <see cref="InputScaling"/> is applied.
/// Pixel data may also hold its byte form: the bytes the features were made from and the divisor they were divided
/// by (see <see cref="Bytes"/>). A dataset is treated as immutable: its arrays are shared, never changed in place.
/// </summary>
public sealed class Dataset
{
    /// <summary>
    /// The (Count, Width) row-major matrix: example i occupies [i·Width, (i+1)·Width). Read it, do not change it: a
    /// dataset with a byte form is gathered from its bytes in training, so changed features would not be seen there.
    /// </summary>
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
    /// Features with the bytes they were made from: feature i = (float)bytes[i] / <paramref name="divisor"/>, one
    /// correctly rounded IEEE division each (the division <see cref="InputScaling.Divide"/> does). The features are
    /// computed here, so the byte form and the features agree by construction. Wraps <paramref name="bytes"/> without
    /// copying it.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths do not match, or the divisor is not positive and finite.</exception>
    internal Dataset(byte[] bytes, float divisor, int[]? labels, int count, int width, string source)
        : this(ToFloats(bytes, divisor), labels, count, width, source)
    {
        Bytes = bytes;
        BytesDivisor = divisor;
    }

    static float[] ToFloats(byte[] bytes, float divisor)
    {
        if (!(divisor > 0) || !float.IsFinite(divisor)) throw new ArgumentException($"byte divisor {divisor} is not positive and finite", nameof(divisor));
        var features = GC.AllocateUninitializedArray<float>(bytes.Length);
        for (int i = 0; i < bytes.Length; i++) features[i] = bytes[i] / divisor;
        return features;
    }

    /// <summary>
    /// The byte form of pixel data, or null: <see cref="Features"/>[i] is exactly (float)Bytes[i] / <see cref="BytesDivisor"/>.
    /// Set only by the byte constructor, i.e. by readers of byte data (IDX, CSV of integers 0..255; divisor 1) and by
    /// <see cref="InputScaling.Apply"/> dividing such data. A shuffled training batch is gathered from these bytes
    /// (a quarter of the memory of the floats) and converted with the same division.
    /// </summary>
    internal byte[]? Bytes { get; }

    /// <summary>What <see cref="Bytes"/> were divided by to give the features (1 for raw bytes); 0 without a byte form.</summary>
    internal float BytesDivisor { get; }

    /// <summary>Whether <see cref="Labels"/> is present.</summary>
    public bool HasLabels => Labels is not null;

    /// <summary>The <see cref="Width"/> features of example <paramref name="i"/>, without copying.</summary>
    public ReadOnlySpan<float> Row(int i) => Features.AsSpan(i * Width, Width);

    /// <summary>The <see cref="Width"/> bytes of example <paramref name="i"/>; only for a dataset with <see cref="Bytes"/>.</summary>
    internal ReadOnlySpan<byte> ByteRow(int i) => Bytes.AsSpan(i * Width, Width);

    /// <summary>1 + the largest label (0 when unlabelled or empty).</summary>
    public int ClassCountFromLabels() => Labels is null || Labels.Length == 0 ? 0 : Labels.Max() + 1;

    /// <summary>A new dataset holding the given rows, in the given order (with their byte form when there is one).</summary>
    public Dataset Subset(ReadOnlySpan<int> indices, string source)
    {
        int[]? labels = Labels is null ? null : new int[indices.Length];
        for (int r = 0; labels is not null && r < indices.Length; r++) labels[r] = Labels![indices[r]];
        if (Bytes is not null)
        {
            var bytes = new byte[(long)indices.Length * Width];
            for (int r = 0; r < indices.Length; r++) Bytes.AsSpan(indices[r] * Width, Width).CopyTo(bytes.AsSpan(r * Width, Width));
            return new Dataset(bytes, BytesDivisor, labels, indices.Length, Width, source);
        }
        var features = new float[(long)indices.Length * Width];
        for (int r = 0; r < indices.Length; r++) Row(indices[r]).CopyTo(features.AsSpan(r * Width, Width));
        return new Dataset(features, labels, indices.Length, Width, source);
    }
}
