namespace Engine.Cli;

/// <summary>
/// The library names the setting an error is about (<see cref="EngineException.Parameter"/>, e.g. "learning rate");
/// the command line says which of its options that is, so the user reads "--lr must be …".
/// </summary>
static class ParameterFlags
{
    static readonly Dictionary<string, string> Flags = new(StringComparer.Ordinal)
    {
        ["data"] = "--data",
        ["epochs"] = "--epochs",
        ["batch size"] = "--batch",
        ["learning rate"] = "--lr",
        ["L2 factor"] = "--l2",
        ["early-stopping patience"] = "--early-stopping",
        ["optimizer"] = "--optimizer",
        ["momentum"] = "--momentum",
        ["beta1"] = "--beta1",
        ["beta2"] = "--beta2",
        ["epsilon"] = "--eps",
        ["learning-rate schedule"] = "--schedule",
        ["schedule step"] = "--lr-step",
        ["schedule gamma"] = "--lr-gamma",
        ["minimum learning rate"] = "--lr-min",
        ["checkpoints to keep"] = "--keep-checkpoints",
        ["checkpoint interval"] = "--checkpoint-every",
    };

    /// <summary>The error's message with the library's name of its setting replaced by the option's.</summary>
    public static string Message(EngineException e) =>
        e.Parameter is { } name && Flags.TryGetValue(name, out string? flag) && e.Message.StartsWith(name, StringComparison.Ordinal)
            ? flag + e.Message[name.Length..]
            : e.Message;
}
