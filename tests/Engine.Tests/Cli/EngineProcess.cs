using System.Diagnostics;

namespace Engine.Tests.Cli;

/// <summary>What a run of the <c>engine</c> command line produced.</summary>
internal sealed record EngineRun(string[] Arguments, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Non-empty lines of standard error.</summary>
    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() =>
        $"engine {string.Join(' ', Arguments)}\nexit code {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>
/// Runs the built CLI (<c>dotnet engine.dll</c> from the test assembly's directory, where the project reference
/// copies it) as a child process with a 1 GiB GC heap cap, so an attempt to allocate what a lying file header
/// claims fails the run instead of passing unnoticed.
/// </summary>
internal static class EngineProcess
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(120);

    public static string EngineDll => Path.Combine(AppContext.BaseDirectory, "engine.dll");

    public static EngineRun Run(params string[] args) => Run(DefaultTimeout, args);

    public static EngineRun Run(TimeSpan timeout, params string[] args)
    {
        Assert.True(File.Exists(EngineDll), $"{EngineDll} not found next to the test assembly");
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(EngineDll);
        foreach (string a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_GCHeapHardLimit"] = "0x40000000"; // 1 GiB
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            process.WaitForExit();
            Assert.Fail($"engine {string.Join(' ', args)} did not finish within {timeout.TotalSeconds} s\n--- stdout ---\n{stdout.Result}\n--- stderr ---\n{stderr.Result}");
        }
        process.WaitForExit(); // drains the redirected streams
        return new EngineRun(args, process.ExitCode, stdout.Result.Replace("\r\n", "\n"), stderr.Result.Replace("\r\n", "\n"));
    }

    /// <summary>The dotnet host running these tests when it can be found, else <c>dotnet</c> from PATH.</summary>
    static string DotnetHost()
    {
        string? hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath)) return hostPath;
        string? processPath = Environment.ProcessPath;
        if (processPath is not null && Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            return processPath;
        return "dotnet";
    }
}
