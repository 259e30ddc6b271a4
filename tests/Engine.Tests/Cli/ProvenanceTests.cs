using System.Security.Cryptography;
using System.Text.Json;
using Engine.Data;
using Engine.Tests.Data;

namespace Engine.Tests.Cli;

/// <summary>
/// Every JSON result says how it was made: schema version, engine version and commit, .NET, CPU and caches, the
/// instruction-set path and blocks, threads, hyperparameters as the float32 they are, and each data file's SHA-256.
/// </summary>
public sealed class ProvenanceTests : IDisposable
{
    readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    static string Version => typeof(Classifier).Assembly.GetName().Version!.ToString(3);

    static void AssertProvenance(JsonElement root, string backend)
    {
        Assert.Equal(2, root.GetProperty("schemaVersion").GetInt32());
        var p = root.GetProperty("provenance");
        Assert.StartsWith(Version, p.GetProperty("engineVersion").GetString());
        Assert.Contains(".NET", p.GetProperty("dotnet").GetString());
        var cpu = p.GetProperty("cpu");
        Assert.False(string.IsNullOrEmpty(cpu.GetProperty("model").GetString()));
        Assert.True(cpu.GetProperty("l2Bytes").GetInt64() > 0);
        Assert.Equal(Environment.ProcessorCount, cpu.GetProperty("logicalCores").GetInt32());
        Assert.Equal(backend, p.GetProperty("backend").GetString());
        Assert.False(string.IsNullOrEmpty(p.GetProperty("isa").GetString()));
        Assert.False(string.IsNullOrEmpty(p.GetProperty("gemmBlocks").GetString()));
        Assert.StartsWith("engine ", p.GetProperty("command").GetString());
    }

    [Fact]
    public void Train_metrics_carry_provenance_hyperparameters_as_float32_and_the_datas_sha256()
    {
        string metrics = Path.Combine(_dir.Path, "m.json");
        var run = EngineProcess.Run("train", "--epochs", "1", "--hidden", "8", "--lr", "0.1", "--l2", "0.0001", "--threads", "1", "--metrics-json", metrics);
        Assert.True(run.ExitCode == 0, run.ToString());
        string text = File.ReadAllText(metrics);
        using var json = JsonDocument.Parse(text);
        AssertProvenance(json.RootElement, "simd");
        var p = json.RootElement.GetProperty("provenance");
        var h = p.GetProperty("hyperparameters");
        Assert.Equal("784-8-10 tanh", h.GetProperty("network").GetString());
        Assert.Equal(1, h.GetProperty("epochs").GetInt32());
        Assert.Contains("\"learningRate\": 0.1,", text);       // not 0.10000000149011612
        Assert.Contains("\"l2\": 0.0001,", text);
        Assert.DoesNotContain("0.1000000", text);
        var data = p.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal("train", data[0].GetProperty("role").GetString());
        string bundled = DataSource.BundledDirectory();
        var files = data[0].GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(Directory.GetFiles(bundled).Length, files.Count);
        foreach (var f in files)
        {
            string path = Path.Combine(bundled, f.GetProperty("name").GetString()!);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))), f.GetProperty("sha256").GetString());
        }
    }

    [Fact]
    public void Info_bench_and_compare_json_carry_provenance()
    {
        var info = EngineProcess.Run("info", "--json");
        Assert.True(info.ExitCode == 0, info.ToString());
        using (var json = JsonDocument.Parse(info.Stdout))
        {
            AssertProvenance(json.RootElement, "simd");
            Assert.True(json.RootElement.GetProperty("isaPaths").GetProperty("scalar").GetBoolean());
        }

        var bench = EngineProcess.Run("bench", "--gemm", "16x16x16", "--threads", "1", "--json");
        Assert.True(bench.ExitCode == 0, bench.ToString());
        using (var json = JsonDocument.Parse(bench.Stdout))
        {
            AssertProvenance(json.RootElement, "simd,reference");
            Assert.True(json.RootElement.GetProperty("results").GetArrayLength() >= 1);
            Assert.True(json.RootElement.GetProperty("fmaPeakGflops").GetDouble() > 0); // what a figure could reach at that moment
            Assert.Equal(1, json.RootElement.GetProperty("fmaPeakThreads").GetInt32());
        }

        var compare = EngineProcess.Run("compare", "--epochs", "1", "--hidden", "4", "--threads", "1", "--json");
        Assert.True(compare.ExitCode == 0, compare.ToString());
        using (var json = JsonDocument.Parse(compare.Stdout))
        {
            AssertProvenance(json.RootElement, "simd,reference");
            var runs = json.RootElement.GetProperty("runs").EnumerateArray().ToList();
            Assert.Equal(2, runs.Count);
            Assert.Equal("bit-identical", runs[1].GetProperty("weights").GetString());
            Assert.Equal(1, json.RootElement.GetProperty("provenance").GetProperty("hyperparameters").GetProperty("epochs").GetInt32());
        }
    }

    [Fact]
    public void Predict_json_on_data_writes_one_line_per_example()
    {
        string model = Path.Combine(_dir.Path, "m.model");
        Assert.Equal(0, EngineProcess.Run("train", "--epochs", "1", "--hidden", "8", "--out", model).ExitCode);
        var predict = EngineProcess.Run("predict", "--model", model, "--json");
        Assert.True(predict.ExitCode == 0, predict.ToString());
        string[] lines = predict.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2000, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        Assert.Equal(0, first.RootElement.GetProperty("index").GetInt32());
        Assert.Equal(10, first.RootElement.GetProperty("probabilities").GetArrayLength());
        Assert.True(first.RootElement.TryGetProperty("label", out _));
    }
}
