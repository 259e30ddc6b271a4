namespace Engine.Nn;

/// <summary>
/// One dense layer's parameters as an importer read them, already in the engine's layout: <see cref="Weights"/> is
/// (<see cref="FanIn"/>, <see cref="FanOut"/>) row-major and <see cref="Bias"/> is (<see cref="FanOut"/>).
/// <see cref="Names"/> are the file's own names for the layer, for the error messages; null where the format has none.
/// </summary>
internal sealed record LayerWeights(int FanIn, int FanOut, float[] Weights, float[] Bias, LayerNames? Names = null);

/// <summary>How a file names a layer and its two tensors: ("layer 1", "W1", "b1") in .npz, ("0", "0.weight", "0.bias") in safetensors.</summary>
internal sealed record LayerNames(string Layer, string Weights, string Bias);
