using System.CommandLine;
using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;

namespace Engine.Cli;

/// <summary>
/// System.CommandLine's parse errors in the engine's words: what kind of value an option takes and its range, never a
/// .NET type name; an unknown option or command gets the nearest known name as a suggestion.
/// </summary>
static partial class UsageMessages
{
    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']*)' as expected type '(?<type>[^']*)'\.?$", RegexOptions.Singleline)]
    private static partial Regex CannotParse();

    [GeneratedRegex(@"^Unrecognized command or argument '(?<word>[^']*)'\.?$", RegexOptions.Singleline)]
    private static partial Regex Unrecognized();

    /// <summary>Options whose range is a limit of the engine, not of the integer type.</summary>
    static readonly Dictionary<string, (long Min, long Max)> Ranges = new(StringComparer.Ordinal)
    {
        ["--epochs"] = (1, Limits.MaxEpochs),
        ["--batch"] = (1, Limits.MaxBatch),
        ["--threads"] = (1, Limits.MaxThreads),
    };

    public static string Rewrite(string message, Command command)
    {
        if (CannotParse().Match(message) is { Success: true } m)
            return Describe(m.Groups["option"].Value, m.Groups["value"].Value, m.Groups["type"].Value);
        if (Unrecognized().Match(message) is { Success: true } u && Suggest(u.Groups["word"].Value, command) is string near)
            return $"{message.TrimEnd('.')}; did you mean {near}?";
        return message;
    }

    static string Describe(string option, string value, string type)
    {
        string t = type.Replace("System.Nullable`1[", "").TrimEnd(']').Replace("System.", "");
        (BigInteger Min, BigInteger Max)? integer = t switch
        {
            "Int32" => (int.MinValue, int.MaxValue),
            "Int64" => (long.MinValue, long.MaxValue),
            "UInt32" => (0, uint.MaxValue),
            "UInt64" => (0, ulong.MaxValue),
            _ => null,
        };
        if (integer is var (min, max))
        {
            if (Ranges.TryGetValue(option, out var r)) (min, max) = (r.Min, r.Max);
            string range = $"from {min.ToString("N0", CultureInfo.InvariantCulture)} to {max.ToString("N0", CultureInfo.InvariantCulture)}";
            return BigInteger.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
                ? $"{option}: {value} is out of range (a whole number {range})"
                : $"{option}: '{value}' is not a whole number (expected one {range})";
        }
        if (t is "Single" or "Double")
        {
            bool infinite = value.Trim().TrimStart('+', '-').ToLowerInvariant() is "inf" or "infinity" or "∞";
            return infinite ? $"{option}: '{value}' is not a finite number" : $"{option}: '{value}' is not a number (e.g. 0.01 or 1e-3)";
        }
        if (t == "Boolean") return $"{option}: '{value}' is not true or false";
        return $"{option}: '{value}' is not a valid value";
    }

    /// <summary>The option or subcommand of <paramref name="command"/> nearest to <paramref name="word"/>, within a third of its length in edits.</summary>
    static string? Suggest(string word, Command command)
    {
        IEnumerable<string> names = command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).Concat(command.Subcommands.Select(c => c.Name));
        string key = word.Split('=')[0];
        var best = names.Where(n => !n.StartsWith("-") || key.StartsWith("-"))
                        .Select(n => (Name: n, Distance: EditDistance(key, n))).OrderBy(x => x.Distance).FirstOrDefault();
        return best.Name is not null && best.Distance > 0 && best.Distance <= Math.Max(2, key.TrimStart('-').Length / 3) ? best.Name : null;
    }

    /// <summary>Levenshtein distance (insertions, deletions and substitutions cost 1).</summary>
    internal static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
