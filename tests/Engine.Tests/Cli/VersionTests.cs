using System.Reflection;
using System.Text.RegularExpressions;
using Engine.Tests.Data;

namespace Engine.Tests.Cli;

/// <summary>One version everywhere: Directory.Build.props defines it; the library, `engine --version` and `engine info` show it.</summary>
public class VersionTests
{
    static string PropsVersion()
    {
        string props = File.ReadAllText(Path.Combine(RepoPaths.Root, "Directory.Build.props"));
        Match m = Regex.Match(props, @"<Version>([^<]+)</Version>");
        Assert.True(m.Success, "Directory.Build.props has no <Version>");
        return m.Groups[1].Value;
    }

    /// <summary>The release part of an informational version: "0.5.0+abc123" gives "0.5.0".</summary>
    static string Release(string informational) => informational.Trim().Split('+')[0];

    [Fact]
    public void The_library_assembly_carries_the_props_version()
    {
        string version = PropsVersion();
        Assembly library = typeof(Classifier).Assembly;
        string? informational = library.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        Assert.NotNull(informational);
        Assert.Equal(version, Release(informational));
        Assert.Equal(new Version(version + ".0"), library.GetName().Version);
    }

    [Fact]
    public void Engine_version_and_engine_info_print_the_props_version()
    {
        string version = PropsVersion();
        EngineRun run = EngineProcess.Run("--version");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(version, Release(run.Stdout));

        EngineRun info = EngineProcess.Run("info");
        Assert.True(info.ExitCode == 0, info.ToString());
        string line = info.Stdout.Split('\n').First(l => l.StartsWith("engine ", StringComparison.Ordinal));
        string shown = line["engine ".Length..].Trim();
        Assert.Equal(version, Release(shown));
        // With a commit hash both carry the same one (the same build).
        Assert.Equal(run.Stdout.Trim(), shown);
    }
}
