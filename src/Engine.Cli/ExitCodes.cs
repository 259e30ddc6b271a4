namespace Engine.Cli;

static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    /// <summary>Stopped by SIGINT/SIGTERM after checkpointing (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;
}

/// <summary>An option value out of range; reported like a parse error (exit code 2).</summary>
sealed class UsageException(string message) : Exception(message);
