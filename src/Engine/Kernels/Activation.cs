namespace Engine.Kernels;

/// <summary>Hidden-layer nonlinearity. <see cref="Identity"/> is used for the output layer's logits.</summary>
public enum Activation : byte
{
    Identity = 0,
    Tanh = 1,
    Relu = 2,
    Sigmoid = 3,
}

public static class ActivationNames
{
    public static string Name(this Activation a) => a switch
    {
        Activation.Identity => "identity",
        Activation.Tanh => "tanh",
        Activation.Relu => "relu",
        Activation.Sigmoid => "sigmoid",
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

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
