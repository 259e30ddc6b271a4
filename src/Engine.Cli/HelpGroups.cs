using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Globalization;

namespace Engine.Cli;

/// <summary>
/// `--help` with a command's options in groups (data, network, training, compute, output) instead of one long list.
/// System.CommandLine 2.0 keeps its help layout internal, so this action writes the same sections itself. An option not
/// named in a group lands in "Other options", so a new option is never left out of the help.
/// </summary>
sealed class HelpGroups : SynchronousCommandLineAction
{
    static readonly (string Title, string[] Options)[] Groups =
    [
        ("Data", ["--data", "--test", "--validation-split", "--scale", "--standardize", "--image", "--gemm"]),
        ("Network", ["--model", "--hidden", "--activation", "--init"]),
        ("Training", ["--epochs", "--batch", "--lr", "--l2", "--seed", "--shuffle", "--optimizer", "--momentum", "--beta1", "--beta2",
                      "--eps", "--schedule", "--lr-step", "--lr-gamma", "--lr-min", "--early-stopping"]),
        ("Compute", ["--backend", "--backends", "--threads", "--isa"]),
        ("Output", ["--out", "--metrics-json", "--export-npz", "--report", "--checkpoint-dir", "--checkpoint-every", "--keep-checkpoints",
                    "--resume", "--quiet", "--json", "--onnx", "--safetensors", "--save-preprocessed"]),
    ];

    /// <summary>Gives the root's help option (which every subcommand shares) this action.</summary>
    public static void Apply(RootCommand root)
    {
        foreach (var help in root.Options.OfType<HelpOption>()) help.Action = new HelpGroups();
    }

    public override int Invoke(ParseResult parseResult)
    {
        var command = parseResult.CommandResult.Command;
        var o = Console.Out;
        if (!string.IsNullOrEmpty(command.Description)) o.WriteLine($"Description:\n  {command.Description}\n");
        var path = new List<string>();
        for (var c = parseResult.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult) path.Insert(0, c.Command.Name);
        string usage = string.Join(' ', path.Select((name, i) => i == 0 ? "engine" : name));
        usage += string.Concat(command.Arguments.Where(a => !a.Hidden).Select(a => $" <{a.HelpName ?? a.Name}>"));
        if (command.Subcommands.Count > 0) usage += " [command]";
        o.WriteLine($"Usage:\n  {usage} [options]\n");
        Section(o, "Arguments", command.Arguments.Where(a => !a.Hidden).Select(a => ($"<{a.HelpName ?? a.Name}>", a.Description ?? "")).ToList());
        Section(o, "Commands", command.Subcommands.Where(c => !c.Hidden).Select(c => (c.Name, c.Description ?? "")).ToList());
        var options = command.Options.Concat(Parents(command).SelectMany(p => p.Options.Where(x => x.Recursive)))
                             .Where(x => !x.Hidden).Distinct().ToList();
        foreach (var (title, names) in Groups.Append(("Other", [])))
        {
            var members = options.Where(x => title == "Other" ? !Groups.Any(g => g.Options.Contains(x.Name)) : names.Contains(x.Name));
            Section(o, $"{title} options", members.Select(x => (Label(x), Description(x))).ToList());
        }
        return ExitCodes.Success;
    }

    static IEnumerable<Command> Parents(Command command) => command.Parents.OfType<Command>().SelectMany(p => Parents(p).Prepend(p));

    static void Section(TextWriter o, string title, List<(string Left, string Right)> rows)
    {
        if (rows.Count == 0) return;
        int width = rows.Max(r => r.Left.Length) + 2;
        o.WriteLine($"{title}:");
        foreach (var (left, right) in rows) o.WriteLine($"  {left.PadRight(width)}{right}".TrimEnd());
        o.WriteLine();
    }

    static string Label(Option option)
    {
        // Windows-style aliases (/h, /?) are accepted but not advertised.
        string names = string.Join(", ", option.Aliases.Append(option.Name).Where(n => !n.StartsWith('/')).Distinct().OrderBy(n => n.Length));
        bool flag = option.ValueType == typeof(bool) || option.Arity.MaximumNumberOfValues == 0;
        return flag ? names : $"{names} <{option.HelpName ?? option.Name.TrimStart('-')}>";
    }

    static string Description(Option option)
    {
        string text = option.Description ?? "";
        if (option.ValueType == typeof(bool) || option.Arity.MaximumNumberOfValues == 0 || !option.HasDefaultValue) return text;
        object? value = option.GetDefaultValue();
        string shown = value switch
        {
            null => "",
            float f => f.ToString(CultureInfo.InvariantCulture),
            double d => d.ToString(CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
        return shown.Length == 0 ? text : $"{text} [default: {shown}]";
    }
}
