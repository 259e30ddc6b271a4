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
}
