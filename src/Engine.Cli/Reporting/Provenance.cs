using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Engine.Data;
using Engine.Kernels;
using Engine.Training;

namespace Engine.Cli.Reporting;

/// <summary>
/// How a result was made, written into every JSON result (--metrics-json, compare/bench/info --json) and shown in the
/// HTML report: the schema version, the engine's version and commit, .NET, the CPU with its caches, the instruction-set
/// path and GEMM blocks, backend and threads, the command, every hyperparameter, and each data file's SHA-256. Single-
/// precision settings are written as the float32 they are (0.1, not 0.10000000149011612).
/// </summary>
static class Provenance
{
    /// <summary>Version 2 added "provenance" (version 1: metrics without it, bench as a bare array).</summary>
    public const int SchemaVersion = 2;

    /// <summary>The engine's version as built: "0.5.0+commit".</summary>
    public static string EngineVersion =>
        typeof(IKernels).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>The commit the engine was built from (the informational version's "+..." part), or null.</summary>
    public static string? Commit => EngineVersion.Split('+') is [_, var commit] ? commit : null;

    /// <summary>What a training run was given: the network, its scaling and the training options.</summary>
    public sealed record Run(string Network, string InputScaling, TrainingOptions Options, string? InitialWeights);

    /// <summary>Where a result came from: the backend and threads it ran on, the data (and model) files it read, the run's settings.</summary>
    public sealed record Source(string Backend, int Threads, InstructionSet? Isa, IReadOnlyList<(string Role, string Path)> Data, Run? Run = null);

    /// <summary>Writes "schemaVersion" and the "provenance" object into the object being written.</summary>
    public static void Write(Utf8JsonWriter w, Source source)
    {
        var (backend, threads, isa, data, run) = source;
        w.WriteNumber("schemaVersion", SchemaVersion);
        w.WriteStartObject("provenance");
        w.WriteString("engineVersion", EngineVersion);
        if (Commit is { } commit) w.WriteString("commit", commit); else w.WriteNull("commit");
        w.WriteString("dotnet", RuntimeInformation.FrameworkDescription);
        w.WriteString("os", RuntimeInformation.OSDescription);
        w.WriteString("command", ReportSettings.CommandLine());
        w.WriteString("time", DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));
        w.WriteStartObject("cpu");
        w.WriteString("model", InfoCommand.CpuModel());
        w.WriteNumber("logicalCores", Environment.ProcessorCount);
        var caches = CpuCaches.Current;
        w.WriteNumber("l1dBytes", caches.L1Data);
        w.WriteNumber("l2Bytes", caches.L2);
        w.WriteNumber("l3Bytes", caches.L3);
        w.WriteString("caches", caches.Describe());
        w.WriteEndObject();
        InstructionSet path = isa ?? InstructionSets.Resolve(null);
        w.WriteString("backend", backend);
        w.WriteNumber("threads", threads);
        w.WriteString("isa", backend == "reference" ? "scalar (reference)" : path.Name());
        w.WriteString("gemmBlocks", backend == "reference" ? "none (reference)" : InstructionSets.DescribeGemmBlocks(path, threads));
        if (run is not null) Hyperparameters(w, run);
        w.WriteStartArray("data");
        foreach (var (role, file) in data) Data(w, role, file);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The same provenance as rows of a report's settings table (the hyperparameters are already there).</summary>
    public static List<(string Name, string Value)> Rows(Source source)
    {
        InstructionSet path = source.Isa ?? InstructionSets.Resolve(null);
        var rows = new List<(string, string)>
        {
            ("engine", EngineVersion),
            (".NET", $"{RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription}"),
            ("cpu", $"{InfoCommand.CpuModel()}, {Environment.ProcessorCount} logical cores; {CpuCaches.Current.Describe()}"),
            ("instruction set", source.Backend == "reference" ? "scalar (reference)" : $"{path.Name()}; GEMM blocks {InstructionSets.DescribeGemmBlocks(path, source.Threads)}"),
        };
        foreach (var (role, data) in source.Data)
        {
            if (data == DataSource.StandardInput) { rows.Add(($"{role} data", "standard input")); continue; }
            var files = Directory.Exists(data) ? Directory.GetFiles(data).Order(StringComparer.Ordinal).ToArray() : File.Exists(data) ? [data] : [];
            foreach (string file in files) rows.Add(($"{role} sha256", $"{Sha256(file)}  {Path.GetFileName(file)}"));
        }
        rows.Add(("schema", $"provenance as in --metrics-json, schema version {SchemaVersion}"));
        return rows;
    }

    static void Hyperparameters(Utf8JsonWriter w, Run run)
    {
        var o = run.Options;
        w.WriteStartObject("hyperparameters");
        w.WriteString("network", run.Network);
        w.WriteString("inputScaling", run.InputScaling);
        if (run.InitialWeights is { } init) w.WriteString("initialWeights", init); else w.WriteNull("initialWeights");
        w.WriteNumber("epochs", o.Epochs);
        w.WriteNumber("batchSize", o.BatchSize);
        w.WriteNumber("learningRate", o.LearningRate);
        w.WriteNumber(o.Optimizer.Kind == OptimizerKind.AdamW ? "weightDecay" : "l2", o.L2);
        w.WriteNumber("seed", o.Seed);
        w.WriteBoolean("shuffle", o.Shuffle);
        w.WriteString("optimizer", o.Optimizer.Kind.ToString().ToLowerInvariant());
        if (o.Optimizer.Kind is OptimizerKind.Momentum or OptimizerKind.Nesterov) w.WriteNumber("momentum", o.Optimizer.Momentum);
        if (o.Optimizer.Kind is OptimizerKind.Adam or OptimizerKind.AdamW)
        {
            w.WriteNumber("beta1", o.Optimizer.Beta1);
            w.WriteNumber("beta2", o.Optimizer.Beta2);
            w.WriteNumber("epsilon", o.Optimizer.Epsilon);
        }
        w.WriteString("schedule", o.Schedule.Describe());
        w.WriteNumber("earlyStoppingPatience", o.EarlyStoppingPatience);
        w.WriteEndObject();
    }

    /// <summary>A data source with the SHA-256 of each file it reads (a directory: its files, in name order).</summary>
    static void Data(Utf8JsonWriter w, string role, string source)
    {
        w.WriteStartObject();
        w.WriteString("role", role);
        w.WriteString("source", source == DataSource.StandardInput ? "standard input" : Path.GetFullPath(source));
        w.WriteStartArray("files");
        if (source != DataSource.StandardInput)
        {
            var files = Directory.Exists(source) ? Directory.GetFiles(source).Order(StringComparer.Ordinal).ToArray()
                : File.Exists(source) ? [source] : [];
            foreach (string file in files)
            {
                w.WriteStartObject();
                w.WriteString("name", Path.GetFileName(file));
                w.WriteNumber("bytes", new FileInfo(file).Length);
                w.WriteString("sha256", Sha256(file));
                w.WriteEndObject();
            }
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Hashes by full path, so a run that writes both the metrics JSON and the report reads each file once.</summary>
    static readonly Dictionary<string, string> Hashes = [];

    static string Sha256(string file)
    {
        string path = Path.GetFullPath(file);
        if (Hashes.TryGetValue(path, out string? known)) return known;
        try
        {
            using var stream = File.OpenRead(path);
            return Hashes[path] = Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"unreadable: {e.Message}";
        }
    }
}
