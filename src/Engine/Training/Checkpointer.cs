using Engine.Nn;
using Engine.Serialization;

namespace Engine.Training;

/// <summary>How a run saves and resumes its state.</summary>
/// <param name="Directory">Where checkpoints go (created if missing; its parent must exist).</param>
/// <param name="EverySteps">Also save every this many steps inside an epoch (0: only at the end of each epoch).</param>
/// <param name="Keep">How many of the newest checkpoints to keep (≥ 1); older ones are deleted after a save.</param>
/// <param name="Resume">Continue from the newest checkpoint in <paramref name="Directory"/> (there must be one).</param>
public sealed record CheckpointOptions(string Directory, int EverySteps = 0, int Keep = 3, bool Resume = false);

/// <summary>Writes checkpoint files into one directory, atomically, keeping the newest <c>Keep</c>.</summary>
internal sealed class Checkpointer
{
    readonly CheckpointOptions _options;
    readonly Func<Network, Model> _model;

    public Checkpointer(CheckpointOptions options, Func<Network, Model> model)
    {
        if (options.Keep < 1) throw EngineException.ForParameter("checkpoints to keep", $"must be at least 1, got {options.Keep}");
        if (options.EverySteps < 0) throw EngineException.ForParameter("checkpoint interval", $"must be 0 or more steps, got {options.EverySteps}");
        if (string.IsNullOrWhiteSpace(options.Directory)) throw new EngineException("checkpoint directory name is empty");
        _options = options;
        _model = model;
        string full = Path.GetFullPath(options.Directory);
        if (File.Exists(full)) throw new EngineException($"{options.Directory}: is a file, expected a checkpoint directory");
        string? parent = Path.GetDirectoryName(full);
        if (parent is not null && !System.IO.Directory.Exists(parent)) throw new EngineException($"{options.Directory}: parent directory {parent} does not exist");
        try { System.IO.Directory.CreateDirectory(full); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EngineException($"{options.Directory}: cannot create the checkpoint directory ({AtomicFile.Describe(e)})");
        }
    }

    public int EverySteps => _options.EverySteps;

    /// <summary>Saves the state and prunes old checkpoints; returns the file written.</summary>
    public string Save(TrainingState state)
    {
        string path = Path.Combine(_options.Directory, CheckpointFile.Name(state.Cursor.Epoch, state.Cursor.Step));
        new Checkpoint(_model(state.Network), state.Options, state.Cursor, state.Reports, state.Optimizer, state.Best).Save(path);
        foreach (string old in CheckpointFile.List(_options.Directory).SkipLast(_options.Keep))
        {
            try { File.Delete(old); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new EngineException($"{old}: cannot delete an old checkpoint ({AtomicFile.Describe(e)})");
            }
        }
        return path;
    }
}
