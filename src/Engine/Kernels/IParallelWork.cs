namespace Engine.Kernels;

/// <summary>
/// A piece of work split into numbered parts (<see cref="IKernels.RunParts"/>): part p of n must depend on p and n only,
/// never on which thread runs it, so a backend may run the parts side by side or one after another with the same result.
/// </summary>
internal interface IParallelWork
{
    void Execute(int part, int parts);
}
