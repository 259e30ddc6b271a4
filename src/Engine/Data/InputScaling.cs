using System.Numerics;
namespace Engine.Data;

/// <summary>
/// How raw inputs become network inputs; fitted on the training set and stored in the model so that
/// evaluate and predict apply exactly the same transform.
/// Divide: x' = x / divisor (default divisor: the largest value in the training set, 255 for MNIST bytes).
/// Standardize: x'_j = (x_j − mean_j) / std_j per feature, std_j = 1 where a feature is constant.
/// </summary>
public sealed class InputScaling
{
    /// <summary>The transform; the values are stored in model files, so they must not change.</summary>
    public enum Kind : byte
    {
        /// <summary>x' = x / <see cref="Divisor"/>.</summary>
        Divide = 1,
        /// <summary>x'_j = (x_j − <see cref="Mean"/>[j]) / <see cref="Std"/>[j].</summary>
        Standardize = 2,
    }

    /// <summary>Which transform this is.</summary>
    public Kind Mode { get; }
    /// <summary>The divisor of <see cref="Kind.Divide"/>; 0 for <see cref="Kind.Standardize"/>.</summary>
    public float Divisor { get; }
    /// <summary>Per-feature means of <see cref="Kind.Standardize"/>; empty for <see cref="Kind.Divide"/>.</summary>
    public float[] Mean { get; }
    /// <summary>Per-feature standard deviations (all &gt; 0) of <see cref="Kind.Standardize"/>; empty for <see cref="Kind.Divide"/>.</summary>
    public float[] Std { get; }

    InputScaling(Kind mode, float divisor, float[] mean, float[] std)
    {
        Mode = mode;
        Divisor = divisor;
        Mean = mean;
        Std = std;
    }

    /// <summary>Scaling by x / <paramref name="divisor"/>, applied to every feature.</summary>
    /// <exception cref="EngineException"><paramref name="divisor"/> is not a positive finite number.</exception>
    public static InputScaling Divide(float divisor)
    {
        if (!(divisor > 0) || !float.IsFinite(divisor))
            throw new EngineException($"scale divisor must be a positive finite number, got {divisor}");
        return new InputScaling(Kind.Divide, divisor, [], []);
    }

    /// <summary>Per-feature standardization with the given statistics (kept, not copied).</summary>
    /// <exception cref="ArgumentException"><paramref name="mean"/> and <paramref name="std"/> differ in length.</exception>
    /// <exception cref="EngineException">A standard deviation is not positive and finite.</exception>
    public static InputScaling Standardize(float[] mean, float[] std)
    {
        if (mean.Length != std.Length) throw new ArgumentException("mean and std lengths differ");
        foreach (float s in std)
            if (!(s > 0) || !float.IsFinite(s)) throw new EngineException($"standard deviations must be positive and finite, got {s}");
        return new InputScaling(Kind.Standardize, 0, mean, std);
    }

    /// <summary>Divide by the largest value in the training set (1 when that is ≤ 0).</summary>
    public static InputScaling FitMax(Dataset train)
    {
        float max = 0;
        foreach (float v in train.Features) max = MathF.Max(max, v);
        return Divide(max > 0 ? max : 1f);
    }

    /// <summary>Per-feature mean and population standard deviation of the training set, in double.</summary>
    public static InputScaling FitStandardize(Dataset train)
    {
        int d = train.Width;
        var mean = new double[d];
        var sq = new double[d];
        for (int i = 0; i < train.Count; i++)
        {
            ReadOnlySpan<float> row = train.Row(i);
            for (int j = 0; j < d; j++) mean[j] += row[j];
        }
        for (int j = 0; j < d; j++) mean[j] /= Math.Max(1, train.Count);
        for (int i = 0; i < train.Count; i++)
        {
            ReadOnlySpan<float> row = train.Row(i);
            for (int j = 0; j < d; j++) sq[j] += (row[j] - mean[j]) * (row[j] - mean[j]);
        }
        var m = new float[d];
        var s = new float[d];
        for (int j = 0; j < d; j++)
        {
            m[j] = (float)mean[j];
            float std = (float)Math.Sqrt(sq[j] / Math.Max(1, train.Count));
            s[j] = std > 1e-12f && float.IsFinite(std) ? std : 1f;
        }
        return Standardize(m, s);
    }

    /// <summary>The feature count the scaling was fitted on, or null when it applies to any width (<see cref="Kind.Divide"/>).</summary>
    public int? Width => Mode == Kind.Standardize ? Mean.Length : null;

    /// <summary>
    /// A scaled copy of the dataset. Dividing raw bytes (a dataset whose byte form has divisor 1, as the IDX and CSV
    /// readers make it) gives a dataset with the same bytes and this divisor: its features are byte / divisor, the
    /// bits <see cref="ApplyRows"/> computes from byte-valued floats. Any other input gives floats only.
    /// </summary>
    public Dataset Apply(Dataset data)
    {
        if (Mode == Kind.Divide && data.Bytes is { } bytes && data.BytesDivisor == 1f)
            return new Dataset(bytes, Divisor, data.Labels, data.Count, data.Width, data.Source);
        var scaled = new float[data.Features.Length];
        ApplyRows(data.Features, scaled, data.Width, data.Source);
        return new Dataset(scaled, data.Labels, data.Count, data.Width, data.Source);
    }

    /// <summary>Scales whole rows of <paramref name="width"/> features from <paramref name="source"/> into <paramref name="destination"/>.</summary>
    public void ApplyRows(ReadOnlySpan<float> source, Span<float> destination, int width, string what = "input")
    {
        if (Mode == Kind.Standardize && width != Mean.Length)
            throw new EngineException($"{what} has {width} features, the scaling was fitted on {Mean.Length}");
        if (destination.Length < source.Length) throw new ArgumentException("destination is shorter than source", nameof(destination));
        if (source.Length > 0 && (width < 1 || source.Length % width != 0))
            throw new ArgumentException($"{source.Length} values are not whole rows of {width}", nameof(source));
        // Vector<float> lanes divide and subtract exactly as the scalar operators do (IEEE, round to nearest), so the
        // vector body and the scalar tail give the same bits as the plain loop.
        int n = Vector<float>.Count;
        if (Mode == Kind.Divide)
        {
            var divisor = new Vector<float>(Divisor);
            int i = 0;
            for (; i + n <= source.Length; i += n) (new Vector<float>(source[i..]) / divisor).CopyTo(destination[i..]);
            for (; i < source.Length; i++) destination[i] = source[i] / Divisor;
            return;
        }
        for (int start = 0; start < source.Length; start += width)
        {
            ReadOnlySpan<float> x = source.Slice(start, width);
            Span<float> y = destination.Slice(start, width);
            int j = 0;
            for (; j + n <= width; j += n) ((new Vector<float>(x[j..]) - new Vector<float>(Mean, j)) / new Vector<float>(Std, j)).CopyTo(y[j..]);
            for (; j < width; j++) y[j] = (x[j] - Mean[j]) / Std[j];
        }
    }

    /// <summary>A short human-readable form, e.g. <c>x / 255</c> or <c>standardize (784 features)</c>.</summary>
    public string Describe() => Mode == Kind.Divide ? $"x / {Divisor:G9}" : $"standardize ({Mean.Length} features)";
}
