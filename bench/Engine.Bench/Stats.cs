namespace Engine.Bench;

/// <summary>Order statistics of timed rounds, for the profile tools.</summary>
static class Stats
{
    /// <summary>The middle value (the mean of the two middle ones for an even count).</summary>
    public static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The value 90 % of the way up the sorted values.</summary>
    public static double P90(double[] values) => values.Order().ElementAt(values.Length * 9 / 10);
}
