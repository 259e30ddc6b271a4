using System.CommandLine;
using Engine;
using Engine.Cli;

// The `engine` command. Every failure the user can cause ends as one line on stderr and a non-zero exit:
// 2 for a command line that does not parse or an option out of range, 1 for bad files or data.
var root = new RootCommand("Engine: trains and runs fully-connected neural networks on the CPU.");
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(EvaluateCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(ImportCommand.Create());
root.Subcommands.Add(GradCheckCommand.Create());
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(ConformanceCommand.Create());
root.Subcommands.Add(DataCommand.Create());
root.Subcommands.Add(CompareCommand.Create());
root.Subcommands.Add(ReportCommand.Create());

HelpGroups.Apply(root);
ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0 && parsed.Action is not HelpGroups) // --help works even when required options are missing
{
    // Name the word that did not parse when there is one (e.g. an unknown command or option).
    var error = parsed.UnmatchedTokens.Count > 0
        ? parsed.Errors.FirstOrDefault(e => e.Message.Contains($"'{parsed.UnmatchedTokens[0]}'")) ?? parsed.Errors[0]
        : parsed.Errors[0];
    Console.Error.WriteLine($"engine: {UsageMessages.Rewrite(error.Message, parsed.CommandResult.Command)} (see '{string.Join(' ', CommandPath(parsed).Prepend("engine"))} --help')");
    return ExitCodes.Usage;
}
try
{
    // Exceptions must reach the handlers below, not System.CommandLine's default handler (a stack trace).
    return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Engine.Training.TrainingInterruptedException e)
{
    Console.Error.WriteLine($"engine: {e.Message}");
    return ExitCodes.Interrupted;
}
catch (UsageException e)
{
    Console.Error.WriteLine($"engine: {e.Message}");
    return ExitCodes.Usage;
}
catch (EngineException e)
{
    Console.Error.WriteLine($"engine: {Engine.Cli.ParameterFlags.Message(e)}");
    return ExitCodes.Failure;
}
catch (Exception e) when (e is OutOfMemoryException or OverflowException)
{
    // OverflowException: a buffer's checked size (batch × width) beyond what .NET can index.
    Console.Error.WriteLine("engine: out of memory (the data or network is too large for this machine)");
    return ExitCodes.Failure;
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"engine: {e.Message}");
    return ExitCodes.Failure;
}

static IEnumerable<string> CommandPath(ParseResult parsed)
{
    var names = new List<string>();
    for (var r = parsed.CommandResult; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
        if (r.Command is not RootCommand) names.Insert(0, r.Command.Name);
    return names;
}
