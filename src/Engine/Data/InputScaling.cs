namespace Engine.Data;

/// <summary>
/// How raw inputs become network inputs; fitted on the training set and stored in the model so that
/// evaluate and predict apply exactly the same transform.
/// Divide: x' = x / divisor (default divisor: the largest value in the training set, 255 for MNIST bytes).
/// Standardize: x'_j = (x_j − mean_j) / std_j per feature, std_j = 1 where a feature is constant.
/// </summary>
public sealed class InputScaling
{
    public enum Kind : byte { Divide = 1, Standardize = 2 }

    public Kind Mode { get; }
    public float Divisor { get; }
    public float[] Mean { get; }
    public float[] Std { get; }

    InputScaling(Kind mode, float divisor, float[] mean, float[] std)
    {
        Mode = mode;
        Divisor = divisor;
        Mean = mean;
        Std = std;
    }

    public static InputScaling Divide(float divisor)
    {
        if (!(divisor > 0) || !float.IsFinite(divisor))
            throw new EngineException($"scale divisor must be a positive finite number, got {divisor}");
        return new InputScaling(Kind.Divide, divisor, [], []);
    }

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

    public int? Width => Mode == Kind.Standardize ? Mean.Length : null;

    /// <summary>A scaled copy of the dataset.</summary>
    public Dataset Apply(Dataset data)
    {
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
        if (Mode == Kind.Divide)
            for (int i = 0; i < source.Length; i++) destination[i] = source[i] / Divisor;
        else
            for (int i = 0; i < source.Length; i++) destination[i] = (source[i] - Mean[i % width]) / Std[i % width];
    }

    public string Describe() => Mode == Kind.Divide ? $"x / {Divisor:G9}" : $"standardize ({Mean.Length} features)";
}
