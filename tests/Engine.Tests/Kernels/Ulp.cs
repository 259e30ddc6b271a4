namespace Engine.Tests.Kernels;

/// <summary>Distance in units in the last place between a float32 result and the exact (double) value.</summary>
static class Ulp
{
    /// <summary>|actual − exact| / ulp(exact as float), where ulp of a subnormal is the subnormal spacing.</summary>
    public static double Error(float actual, double exact)
    {
        if (double.IsNaN(exact)) return float.IsNaN(actual) ? 0 : double.PositiveInfinity;
        if (double.IsInfinity(exact) || Math.Abs(exact) > float.MaxValue)
            return actual == (float)exact ? 0 : double.PositiveInfinity;
        float rounded = (float)exact;
        double spacing = Math.Max(MathF.BitIncrement(MathF.Abs(rounded)) - MathF.Abs(rounded), float.Epsilon);
        // Spacing at a power of two: use the smaller spacing below it (conservative).
        float below = MathF.Abs(rounded) - MathF.BitDecrement(MathF.Abs(rounded));
        if (below > 0) spacing = Math.Min(spacing, below);
        return Math.Abs(actual - exact) / spacing;
    }
}
