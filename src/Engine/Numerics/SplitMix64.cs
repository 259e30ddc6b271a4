namespace Engine.Numerics;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014):
/// state += 0x9E3779B97F4A7C15, then a fixed 64-bit mix. Every random choice the engine makes
/// (initial weights, shuffles, validation splits) comes from it, so a seed fixes a run on any machine.
/// </summary>
internal struct SplitMix64
{
    ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>The generator for one purpose of one run, e.g. (seed, stream "shuffle", epoch 3).</summary>
    public static SplitMix64 ForStream(ulong seed, ulong stream, ulong index = 0)
    {
        var g = new SplitMix64(seed ^ Mix(stream + 0x632BE59BD9B4E019UL));
        ulong derived = g.NextUInt64() ^ Mix(index + 0x8CB92BA72F3D8DD7UL);
        return new SplitMix64(derived);
    }

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform float in [0, 1): the top 24 bits times 2^-24, so every value is exact.</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>Uniform integer in [0, n) by Lemire's multiply-shift (bias below n/2^64, negligible).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n));
        return (int)(((UInt128)NextUInt64() * (ulong)n) >> 64);
    }

    /// <summary>Fisher–Yates shuffle: for i from the end, swap item i with a uniform j in [0, i].</summary>
    public void Shuffle(Span<int> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}

/// <summary>Stream identifiers for <see cref="SplitMix64.ForStream"/>: one per kind of random choice.</summary>
internal static class RandomStreams
{
    public const ulong Init = 1;
    public const ulong Shuffle = 2;
    public const ulong ValidationSplit = 3;
}
