using Engine.Tests.Data;

namespace Engine.Tests.Cli;

/// <summary><c>engine conformance export DIR</c>: writes the committed golden vectors, and fails cleanly on a bad DIR.</summary>
public sealed class ConformanceCliTests : IDisposable
{
    const int Usage = 2;

    readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    static void AssertFailsCleanly(EngineRun run, int exitCode, params string[] mentions)
    {
        Assert.True(run.ExitCode == exitCode, $"expected exit code {exitCode}\n{run}");
        string[] lines = run.StderrLines;
        Assert.True(lines.Length == 1, $"expected one line on stderr\n{run}");
        Assert.True(lines[0].StartsWith("engine: ", StringComparison.Ordinal), $"stderr should start with 'engine: '\n{run}");
        Assert.DoesNotContain("   at ", run.Stderr);
        foreach (string m in mentions)
            Assert.True(lines[0].Contains(m, StringComparison.Ordinal), $"stderr should mention '{m}'\n{run}");
    }

    [Fact]
    public void Export_creates_the_directory_and_writes_the_committed_files()
    {
        string target = Path.Combine(_dir.Path, "golden");

        var run = EngineProcess.Run("conformance", "export", target);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("", run.Stderr);
        Assert.Contains("manifest.json", run.Stdout);
        string committed = Path.Combine(RepoPaths.Root, "conformance", "v2");
        string[] names = Directory.GetFiles(committed).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(names, Directory.GetFiles(target).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray());
        foreach (string name in names)
            Assert.True(File.ReadAllBytes(Path.Combine(committed, name)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(target, name))), name);

        // Into an existing directory: the files are replaced, the run succeeds again.
        var again = EngineProcess.Run("conformance", "export", target);
        Assert.True(again.ExitCode == 0, again.ToString());
    }

    [Fact]
    public void Export_into_a_missing_parent_fails_without_creating_anything()
    {
        string missingParent = Path.Combine(_dir.Path, "no", "such");
        string target = Path.Combine(missingParent, "golden");

        var run = EngineProcess.Run("conformance", "export", target);

        AssertFailsCleanly(run, Usage, target, missingParent);
        Assert.Equal("", run.Stdout);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "no")));
    }

    [Fact]
    public void Export_onto_a_file_fails()
    {
        string file = _dir.WriteText("a-file", "x");

        var run = EngineProcess.Run("conformance", "export", file);

        AssertFailsCleanly(run, Usage, file, "is a file");
    }

    [Theory]
    [InlineData("conformance export")]
    [InlineData("conformance")]
    [InlineData("conformance import x")]
    public void A_bad_conformance_command_line_is_a_usage_error(string commandLine)
    {
        var run = EngineProcess.Run(commandLine.Split(' '));
        AssertFailsCleanly(run, Usage);
    }
}
