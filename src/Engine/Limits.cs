namespace Engine;

/// <summary>
/// The largest networks and runs the engine makes and reads. Every path that creates (the command line, the C ABI,
/// <see cref="Classifier.Create"/>, <see cref="Training.TrainingOptions.Validate"/>) and every reader (model file,
/// checkpoint, .npz, .safetensors, ONNX, data files) checks the same table, so nothing can be saved that cannot be
/// loaded back. Errors name the limit and its value.
/// </summary>
public static class Limits
{
    /// <summary>Hidden layers in a network; the model file's header holds at most this many.</summary>
    public const int MaxHiddenLayers = 64;

    /// <summary>Features, units of a hidden layer or classes of one layer: 2^24, where float32 still counts exactly.</summary>
    public const int MaxWidth = 1 << 24;

    /// <summary>Classes of a classifier or labels of a data set (labels 0..MaxClasses − 1): metrics keep a dense
    /// classes × classes confusion matrix, so k is bounded well below <see cref="MaxWidth"/>.</summary>
    public const int MaxClasses = 10_000;

    /// <summary>Examples per training step; the step's buffers are batch × widest layer floats.</summary>
    public const int MaxBatch = 1 << 16;

    /// <summary>Degree of parallelism of the simd backend.</summary>
    public const int MaxThreads = 1024;

    /// <summary>Passes over the training data in one run.</summary>
    public const int MaxEpochs = 1_000_000;

    /// <summary>Throws when a network of this shape is beyond the table; <paramref name="name"/> starts the message (a file name, or null).</summary>
    /// <exception cref="EngineException">A count or width is beyond its limit.</exception>
    public static void CheckNetwork(int inputWidth, IReadOnlyList<int> hiddenWidths, int classCount, string? name = null)
    {
        string at = name is null ? "" : $"{name}: ";
        if (hiddenWidths.Count > MaxHiddenLayers)
            throw new EngineException($"{at}{hiddenWidths.Count} hidden layers is more than the limit of {MaxHiddenLayers}");
        if (inputWidth > MaxWidth)
            throw new EngineException($"{at}{inputWidth:N0} input features is more than the limit of {MaxWidth:N0}");
        for (int i = 0; i < hiddenWidths.Count; i++)
            if (hiddenWidths[i] > MaxWidth)
                throw new EngineException($"{at}hidden layer {i + 1} has {hiddenWidths[i]:N0} units, more than the limit of {MaxWidth:N0}");
        if (classCount > MaxClasses)
            throw new EngineException($"{at}{classCount:N0} classes is more than the limit of {MaxClasses:N0}");
    }
}
