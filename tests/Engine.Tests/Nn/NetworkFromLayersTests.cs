using Engine.Kernels;
using Engine.Nn;

namespace Engine.Tests.Nn;

/// <summary>
/// <see cref="Network.FromLayers"/>, the one place the .npz, safetensors and ONNX importers turn layers read from an
/// untrusted file into a network: what it refuses, in whose words, and where the values land.
/// </summary>
public class NetworkFromLayersTests
{
    /// <summary>A layer whose every value is distinct and tells where it came from: weight i of layer l is l·100 + i, bias j is −(l·100 + j).</summary>
    static LayerWeights Layer(int l, int fanIn, int fanOut, bool named = true) => new(
        fanIn, fanOut,
        Enumerable.Range(0, fanIn * fanOut).Select(i => l * 100f + i).ToArray(),
        Enumerable.Range(0, fanOut).Select(j => -(l * 100f + j)).ToArray(),
        named ? new LayerNames($"layer {l}", $"W{l}", $"b{l}") : null);

    static EngineException Refusal(IReadOnlyList<LayerWeights> layers) =>
        Assert.Throws<EngineException>(() => Network.FromLayers(layers, Activation.Tanh, "f.npz"));

    [Fact]
    public void Layers_that_do_not_chain_are_refused_naming_both_layers()
    {
        Assert.Equal("f.npz: W2 takes 5 inputs but layer 1 gives 4", Refusal([Layer(1, 3, 4), Layer(2, 5, 2)]).Message);
        Assert.Equal("f.npz: layer 3 takes 6 inputs but layer 2 gives 5", Refusal([Layer(1, 3, 4, false), Layer(2, 4, 5, false), Layer(3, 6, 2, false)]).Message);
    }

    [Fact]
    public void One_class_is_refused()
    {
        Assert.Equal("f.npz: the last layer gives 1 output; a classifier needs at least 2 classes", Refusal([Layer(1, 3, 4), Layer(2, 4, 1)]).Message);
    }

    [Fact]
    public void More_hidden_layers_than_the_limit_are_refused_in_the_files_name()
    {
        var layers = Enumerable.Range(1, Limits.MaxHiddenLayers + 2).Select(l => Layer(l, 2, 2)).ToList();
        // The file's name shows the limit was checked here, not only by the Network constructor (which names no file).
        Assert.Equal($"f.npz: {Limits.MaxHiddenLayers + 1} hidden layers is more than the limit of {Limits.MaxHiddenLayers}", Refusal(layers).Message);
        Assert.NotNull(Network.FromLayers(layers.Take(layers.Count - 1).ToList(), Activation.Tanh, "f.npz")); // exactly the limit is fine
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void A_value_that_is_not_finite_in_a_bias_is_refused_naming_the_tensor(float bad)
    {
        LayerWeights[] layers = [Layer(1, 3, 4), Layer(2, 4, 5), Layer(3, 5, 2)];
        layers[1].Bias[4] = bad;
        Assert.Equal("f.npz: b2 has a NaN or infinite value", Refusal(layers).Message);

        LayerWeights[] unnamed = [Layer(1, 3, 4, false), Layer(2, 4, 5, false), Layer(3, 5, 2, false)];
        unnamed[2].Bias[0] = bad;
        Assert.Equal("f.npz: a weight or bias is NaN or infinite", Refusal(unnamed).Message);
    }

    [Fact]
    public void A_value_that_is_not_finite_in_a_weight_is_refused_naming_the_tensor()
    {
        LayerWeights[] layers = [Layer(1, 3, 4), Layer(2, 4, 2)];
        layers[0].Weights[11] = float.NaN;
        Assert.Equal("f.npz: W1 has a NaN or infinite value", Refusal(layers).Message);
    }

    [Fact]
    public void Three_layers_become_a_network_holding_exactly_their_weights_and_biases()
    {
        LayerWeights[] layers = [Layer(1, 4, 3), Layer(2, 3, 5), Layer(3, 5, 2)];

        var network = Network.FromLayers(layers, Activation.Relu, "f.npz");

        Assert.Equal([4, 3, 5, 2], network.Widths);
        Assert.Equal(Activation.Relu, network.HiddenActivation);
        Assert.Equal(layers.Sum(l => l.Weights.Length + l.Bias.Length), network.Parameters.Length);
        for (int l = 0; l < layers.Length; l++)
        {
            var layer = network.Layers[l];
            Assert.Equal(layers[l].Weights, network.Parameters.AsSpan(layer.WeightOffset, layer.WeightCount).ToArray());
            Assert.Equal(layers[l].Bias, network.Parameters.AsSpan(layer.BiasOffset, layer.FanOut).ToArray());
        }
        // The network holds copies: the importer's arrays can change afterwards without changing it.
        layers[0].Weights[0] = 12345f;
        Assert.Equal(100f, network.Parameters[network.Layers[0].WeightOffset]);
    }

    [Fact]
    public void Layers_whose_arrays_disagree_with_their_shape_are_a_bug_in_the_caller()
    {
        var shortWeights = Layer(1, 3, 4) with { Weights = new float[11] };
        Assert.Throws<ArgumentException>(() => Network.FromLayers([shortWeights], Activation.Tanh, "f.npz"));
        Assert.Throws<ArgumentException>(() => Network.FromLayers([], Activation.Tanh, "f.npz"));
    }
}
