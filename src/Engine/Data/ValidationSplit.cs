using Engine.Numerics;

namespace Engine.Data;

/// <summary>Holds out a reproducible random part of a training set for validation.</summary>
public static class ValidationSplit
{
    /// <summary>
    /// Holds out round(fraction·Count) examples chosen by a permutation from
    /// SplitMix64.ForStream(seed, ValidationSplit); both parts keep file order.
    /// </summary>
    public static (Dataset Train, Dataset Validation) Split(Dataset data, double fraction, ulong seed)
    {
        if (!(fraction > 0 && fraction < 1)) throw new EngineException($"validation fraction must be between 0 and 1, got {fraction}");
        int held = (int)Math.Round(fraction * data.Count);
        if (held < 1 || held >= data.Count)
            throw new EngineException($"{data.Source}: a validation split of {fraction} of {data.Count} examples leaves an empty part");
        var order = new int[data.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        SplitMix64.ForStream(seed, RandomStreams.ValidationSplit).Shuffle(order);
        int[] validation = order[..held];
        int[] train = order[held..];
        Array.Sort(validation);
        Array.Sort(train);
        return (data.Subset(train, data.Source), data.Subset(validation, data.Source + " (validation part)"));
    }
}
