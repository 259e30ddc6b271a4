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

    public static EngineRun Run(TimeSpan timeout, params string[] args) => Run(timeout, null, args);

    /// <summary>Runs the engine with <paramref name="input"/> on its standard input (then closed).</summary>
    public static EngineRun RunWithInput(string input, params string[] args) => Run(DefaultTimeout, null, args, input);

    /// <summary>
    /// Runs the engine and, once <paramref name="signalWhen"/> accepts the standard output so far, sends it
    /// <paramref name="signal"/> (a POSIX signal number, e.g. 2 SIGINT, 9 SIGKILL); then waits for it to end.
    /// </summary>
    public static EngineRun RunAndSignal(int signal, Func<string, bool> signalWhen, params string[] args) =>
        Run(DefaultTimeout, (process, stdout) =>
        {
            var clock = Stopwatch.StartNew();
            while (!signalWhen(stdout()) && !process.HasExited && clock.Elapsed < DefaultTimeout) Thread.Sleep(5);
            if (!process.HasExited) Assert.Equal(0, kill(process.Id, signal));
        }, args);

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);

    static EngineRun Run(TimeSpan timeout, Action<Process, Func<string>>? whileRunning, string[] args, string? input = null)
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
        if (input is not null) process.StandardInput.Write(input);
        process.StandardInput.Close();
        var stdoutSoFar = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdoutSoFar) stdoutSoFar.Append(e.Data).Append('\n'); };
        process.BeginOutputReadLine();
        var stderr = process.StandardError.ReadToEndAsync();
        string Stdout() { lock (stdoutSoFar) return stdoutSoFar.ToString(); }
        whileRunning?.Invoke(process, Stdout);
        if (!process.WaitForExit(timeout))
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            process.WaitForExit();
            Assert.Fail($"engine {string.Join(' ', args)} did not finish within {timeout.TotalSeconds} s\n--- stdout ---\n{Stdout()}\n--- stderr ---\n{stderr.Result}");
        }
        process.WaitForExit(); // drains the redirected streams
        return new EngineRun(args, process.ExitCode, Stdout(), stderr.Result.Replace("\r\n", "\n"));
    }

    /// <summary>
    /// Runs the engine under a pseudo-terminal of <paramref name="columns"/> columns (util-linux <c>script</c>; CI unset so
    /// the live display is chosen), returning the exit code, the terminal's output and standard error. Fails where
    /// <c>script</c> is missing (Debian always has util-linux) rather than passing without having looked.
    /// </summary>
    public static async Task<(int ExitCode, string Output, string Stderr)> RunInTerminal(int columns, params string[] args)
    {
        string? script = new[] { "/usr/bin/script", "/bin/script" }.FirstOrDefault(File.Exists);
        Assert.True(script is not null, "util-linux script(1) is needed to run the engine under a pseudo-terminal");
        string command = $"stty cols {columns}; '{DotnetHost()}' '{EngineDll}' " + string.Join(' ', args.Select(a => $"'{a}'"));
        var start = new ProcessStartInfo(script)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        foreach (string a in new[] { "-q", "-e", "-c", command, "/dev/null" }) start.ArgumentList.Add(a);
        start.Environment.Remove("CI"); // CI=true would choose the plain lines
        start.Environment["TERM"] = "xterm-256color";
        start.Environment["COLUMNS"] = columns.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(DefaultTimeout), "engine under script did not finish");
        process.WaitForExit();
        return (process.ExitCode, await stdout, await stderr);
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
