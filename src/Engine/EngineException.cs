namespace Engine;

/// <summary>
/// An error caused by the user's input (files, options, data). Its message is one complete line meant
/// for the user; the command line prints it without a stack trace.
/// </summary>
public sealed class EngineException : Exception
{
    /// <summary>Creates the error with a one-line message for the user.</summary>
    public EngineException(string message) : base(message) { }
    /// <summary>Creates the error with a one-line message for the user, keeping the underlying cause.</summary>
    public EngineException(string message, Exception inner) : base(message, inner) { }

    /// <summary>
    /// The setting the error is about, as the library names it (e.g. "learning rate"), when it is about one; the message
    /// then starts with this name, so a front end can put its own spelling of the setting in its place (the command line
    /// says <c>--lr</c>).
    /// </summary>
    public string? Parameter { get; private init; }

    /// <summary>An error about the setting <paramref name="parameter"/>: the message is "<paramref name="parameter"/> <paramref name="problem"/>".</summary>
    public static EngineException ForParameter(string parameter, string problem) => new($"{parameter} {problem}") { Parameter = parameter };
}
