namespace Engine;

/// <summary>
/// An error caused by the user's input (files, options, data). Its message is one complete line meant
/// for the user; the command line prints it without a stack trace.
/// </summary>
public sealed class EngineException : Exception
{
    public EngineException(string message) : base(message) { }
    public EngineException(string message, Exception inner) : base(message, inner) { }
}
