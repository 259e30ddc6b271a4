namespace Engine.Kernels;

/// <summary>Hidden-layer nonlinearity. <see cref="Identity"/> is used for the output layer's logits.</summary>
public enum Activation : byte
{
    /// <summary>f(x) = x; the output layer only (softmax follows), not allowed for hidden layers.</summary>
    Identity = 0,
    /// <summary>Hyperbolic tangent, range (−1, 1).</summary>
    Tanh = 1,
    /// <summary>max(x, 0).</summary>
    Relu = 2,
    /// <summary>Logistic 1 / (1 + e^−x), range (0, 1).</summary>
    Sigmoid = 3,
}

/// <summary>The lower-case names of activations used on the command line and in messages.</summary>
public static class ActivationNames
{
    /// <summary>The lower-case name: identity, tanh, relu or sigmoid.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="a"/> is not a defined value.</exception>
    public static string Name(this Activation a) => a switch
    {
        Activation.Identity => "identity",
        Activation.Tanh => "tanh",
        Activation.Relu => "relu",
        Activation.Sigmoid => "sigmoid",
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    /// <summary>
    /// Parses a hidden-layer activation: tanh, relu or sigmoid, case-insensitive, surrounding spaces ignored.
    /// "identity" is rejected because it is not a valid hidden activation.
    /// </summary>
    /// <param name="text">The name to parse.</param>
    /// <param name="activation">The activation; <see cref="Activation.Identity"/> when parsing fails.</param>
    /// <returns>Whether <paramref name="text"/> named one of the three.</returns>
    public static bool TryParse(string text, out Activation activation)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "tanh": activation = Activation.Tanh; return true;
            case "relu": activation = Activation.Relu; return true;
            case "sigmoid": activation = Activation.Sigmoid; return true;
            default: activation = Activation.Identity; return false;
        }
    }
}
