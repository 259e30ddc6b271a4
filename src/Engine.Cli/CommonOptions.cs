using System.CommandLine;
using System.Globalization;
using Engine.Kernels;

namespace Engine.Cli;

/// <summary>Options shared by several commands, and the checks that turn their values into settings.</summary>
static class CommonOptions
{
    public static Option<string> Backend() => new("--backend")
    {
        Description = $"Kernel backend: {string.Join(", ", Backends.Names)}",
        DefaultValueFactory = _ => Backends.Default,
    };

    public static Option<string?> Isa() => new("--isa")
    {
        Description = $"Force the simd backend's instruction set: avx512, avx2, vector, scalar or auto (default: ${InstructionSets.EnvironmentVariable}, else the best supported)",
    };

    public static Option<int> Threads() => new("--threads")
    {
        HelpName = "N",
        Description = $"Degree of parallelism of the simd backend, at most {Limits.MaxThreads:N0} (the reference backend is single-threaded)",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    public static Option<string?> MetricsJson() => new("--metrics-json") { HelpName = "FILE", Description = "Write accuracy, per-class metrics and the confusion matrix as JSON to FILE" };

    public static IKernels CreateBackend(string name, int threads, string? isa)
    {
        ComputeOptions c = Compute(name, threads, isa); // the registry still applies ENGINE_ISA when isa is null
        return Backends.Create(c.Backend, c.Threads, c.Isa);
    }

    /// <summary>The compute settings of a <see cref="Classifier"/>, checked here so a bad value is a usage error.</summary>
    public static ComputeOptions Compute(string backend, int threads, string? isa)
    {
        if (threads < 1 || threads > Limits.MaxThreads) throw new UsageException($"--threads must be 1 to {Limits.MaxThreads:N0} (the limit), got {threads:N0}");
        string name = backend.Trim().ToLowerInvariant();
        if (!Backends.Names.Contains(name)) throw new UsageException($"--backend must be one of {string.Join(", ", Backends.Names)}, got '{backend}'");
        try { return new ComputeOptions(name, threads, InstructionSets.Parse(isa)); }
        catch (EngineException e) { throw new UsageException(ParameterFlags.Message(e)); }
    }

    public static int[] ParseHidden(string text)
    {
        if (text.Trim().Length == 0) return [];
        var widths = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int w) || w < 1)
            {
                if (part.Length > 0 && part.All(char.IsAsciiDigit) && part.TrimStart('0').Length > 0)
                    throw new UsageException($"--hidden: {part} units is more than the limit of {Limits.MaxWidth:N0} per layer");
                throw new UsageException($"--hidden: '{part}' is not a layer width (a positive integer; list several as 256,128)");
            }
            if (w > Limits.MaxWidth) throw new UsageException($"--hidden: {w:N0} units is more than the limit of {Limits.MaxWidth:N0} per layer");
            widths.Add(w);
        }
        if (widths.Count > Limits.MaxHiddenLayers)
            throw new UsageException($"--hidden: {widths.Count} hidden layers is more than the limit of {Limits.MaxHiddenLayers}");
        return widths.ToArray();
    }

    public static Activation ParseActivation(string text) => ActivationNames.TryParse(text, out var a)
        ? a : throw new UsageException($"--activation must be tanh, relu or sigmoid, got '{text}'");

    public static void RequireFileExists(string? path, string option)
    {
        if (path is not null && !File.Exists(path) && !Directory.Exists(path))
            throw new EngineException($"{option} {path}: no such file or directory");
    }
}
