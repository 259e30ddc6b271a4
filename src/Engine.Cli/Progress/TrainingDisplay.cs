using System.Globalization;
using Engine.Training;
using Spectre.Console;

namespace Engine.Cli.Progress;

/// <summary>How training shows its progress.</summary>
enum ProgressMode
{
    /// <summary>No per-epoch lines and no bar (<c>--quiet</c>).</summary>
    Quiet,
    /// <summary>One plain line per epoch: no escape sequences, no carriage returns (pipes, files, CI logs).</summary>
    Plain,
    /// <summary>The plain epoch lines plus a live bar for the epoch in progress (an interactive terminal).</summary>
    Live,
}

/// <summary>
/// Shows training progress. In a terminal a Spectre.Console bar for the current epoch shows samples/s, the running
/// loss and the time left for the whole run, while the finished epochs' lines scroll above it; anywhere else the
/// output is exactly the plain per-epoch lines.
/// </summary>
static class TrainingDisplay
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// Live only when standard output is a terminal that Spectre.Console finds interactive and ANSI-capable, and
    /// neither <c>CI</c> is set nor <c>TERM</c> is <c>dumb</c>; plain otherwise.
    /// </summary>
    public static ProgressMode Choose(bool quiet)
    {
        if (quiet) return ProgressMode.Quiet;
        if (Console.IsOutputRedirected) return ProgressMode.Plain;
        string? ci = Environment.GetEnvironmentVariable("CI");
        if (!string.IsNullOrEmpty(ci) && !ci.Equals("false", StringComparison.OrdinalIgnoreCase) && ci != "0") return ProgressMode.Plain;
        if (Environment.GetEnvironmentVariable("TERM") is "dumb") return ProgressMode.Plain;
        var capabilities = AnsiConsole.Profile.Capabilities;
        return capabilities.Ansi && capabilities.Interactive ? ProgressMode.Live : ProgressMode.Plain;
    }

    /// <summary>
    /// Runs <paramref name="train"/>, giving it the epoch and step callbacks of <paramref name="mode"/>; epoch lines
    /// are <see cref="Reports.PrintEpoch"/>'s. Returns what <paramref name="train"/> returns.
    /// </summary>
    public static T Run<T>(ProgressMode mode, TextWriter output, int epochs, int trainingExamples, string evaluationName,
                           Func<Action<EpochReport>?, Action<TrainingProgress>?, T> train)
    {
        switch (mode)
        {
            case ProgressMode.Quiet:
                return train(null, null);
            case ProgressMode.Plain:
                return train(r => Reports.PrintEpoch(output, r, epochs, trainingExamples, evaluationName), null);
            default:
                output.Flush();
                return RunLive(epochs, trainingExamples, evaluationName, train);
        }
    }

    static T RunLive<T>(int epochs, int trainingExamples, string evaluationName, Func<Action<EpochReport>?, Action<TrainingProgress>?, T> train)
    {
        var console = AnsiConsole.Console;
        T result = default!;
        console.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
            .Start(ctx =>
            {
                ProgressTask? bar = null;
                double lastUpdate = double.NegativeInfinity, secondsBefore = 0;
                int stepsBefore = 0;
                void OnProgress(TrainingProgress p)
                {
                    bar ??= ctx.AddTask(Describe(p, 0, 0, 0), maxValue: p.StepsPerEpoch);
                    // Called after every step (thousands per second): redraw at most 10 times a second.
                    if (p.Step < p.StepsPerEpoch && p.Seconds - lastUpdate < 0.1) return;
                    lastUpdate = p.Seconds;
                    double seconds = secondsBefore + p.Seconds;
                    int steps = stepsBefore + p.Step;
                    int stepsLeft = (p.Epochs - p.Epoch) * p.StepsPerEpoch + (p.StepsPerEpoch - p.Step);
                    double left = steps > 0 ? seconds / steps * stepsLeft : double.NaN;
                    bar.Description = Describe(p, p.Seconds > 0 ? p.Samples / p.Seconds : 0, p.MeanLoss, left);
                    bar.MaxValue = p.StepsPerEpoch;
                    bar.Value = p.Step;
                    // Now, not at the display's next tick: an epoch shorter than the tick would otherwise never be shown.
                    ctx.Refresh();
                }
                void OnEpoch(EpochReport r)
                {
                    if (bar is not null)
                    {
                        secondsBefore += r.Seconds;
                        stepsBefore += (int)bar.MaxValue;
                        bar.Value = bar.MaxValue;
                        bar.StopTask();
                        bar = null;
                    }
                    lastUpdate = double.NegativeInfinity;
                    // Written through the live display, so the line lands above the bar, not through it; narrower than
                    // the terminal, so it does not wrap.
                    console.WriteLine(Reports.EpochLine(r, epochs, trainingExamples, evaluationName, console.Profile.Width));
                }
                result = train(OnEpoch, OnProgress);
            });
        return result;
    }

    static string Describe(TrainingProgress p, double samplesPerSecond, double loss, double secondsLeft) =>
        Markup.Escape($"epoch {p.Epoch}/{p.Epochs}  loss {loss.ToString("0.0000", Inv)}  " +
                      $"{samplesPerSecond.ToString("N0", Inv)} samples/s  {Left(secondsLeft)} left");

    static string Left(double seconds)
    {
        if (!double.IsFinite(seconds)) return "--:--";
        var t = TimeSpan.FromSeconds(Math.Ceiling(seconds));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}" : $"{t.Minutes}:{t.Seconds:00}";
    }
}
