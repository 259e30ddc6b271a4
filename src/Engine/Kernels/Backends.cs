using Engine.Kernels.Reference;

namespace Engine.Kernels;

/// <summary>The registry of backends selectable at run time with <c>--backend</c>.</summary>
public static class Backends
{
    public static IReadOnlyList<string> Names { get; } = ["reference"];

    public static IKernels Create(string name) => name.Trim().ToLowerInvariant() switch
    {
        "reference" => ReferenceKernels.Instance,
        _ => throw new EngineException($"unknown backend '{name}' (available: {string.Join(", ", Names)})"),
    };
}
