using Engine.Data;

namespace Engine.Nn;

/// <summary>A trained network together with the input scaling it was trained with.</summary>
internal sealed record Model(Network Network, InputScaling Scaling);
