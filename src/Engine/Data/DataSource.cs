namespace Engine.Data;

/// <summary>A loaded data source: its training part and, when it has one, its own test part.</summary>
public sealed record LoadedData(Dataset Train, Dataset? Test);

/// <summary>
/// Resolves a <c>--data</c>/<c>--test</c> argument: a directory of IDX files named like the official MNIST
/// files (<c>train-images-idx3-ubyte[.gz]</c>, <c>train-labels-idx1-ubyte[.gz]</c>, <c>t10k-…</c>), a single IDX
/// images file (its labels file is found by name), a CSV file ("-": CSV on standard input), or NumPy data (.npz with <c>x</c> and <c>y</c>, or
/// <c>x_train</c>, <c>y_train</c>, <c>x_test</c>, <c>y_test</c>; an .npy of features).
/// </summary>
public static class DataSource
{
    /// <summary>The data path that means CSV read from standard input.</summary>
    public const string StandardInput = "-";

    /// <summary>
    /// The bundled MNIST-10k directory. Looked for first next to the application (<c>data/mnist-10k</c> under
    /// <see cref="AppContext.BaseDirectory"/>, where the Engine.Core package and the <c>engine</c> tool put it),
    /// then in a checkout of the repository: in each directory above the application, then in the working
    /// directory and each directory above it.
    /// </summary>
    /// <exception cref="EngineException">No directory holding the bundled training images was found.</exception>
    public static string BundledDirectory() =>
        FindBundled(AppContext.BaseDirectory, Directory.GetCurrentDirectory())
        ?? throw EngineException.ForParameter("data", "was not given and the bundled data set data/mnist-10k was not found; give a directory of IDX files or a CSV file");

    /// <summary>
    /// The first <c>data/mnist-10k</c> holding the training images, in the order of <see cref="BundledDirectory"/>:
    /// <paramref name="applicationDirectory"/> and its parents, then <paramref name="workingDirectory"/> and its parents.
    /// </summary>
    internal static string? FindBundled(string applicationDirectory, string workingDirectory)
    {
        foreach (string start in new[] { applicationDirectory, workingDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "data", "mnist-10k");
                // An empty or partial data/mnist-10k (say, a user's own folder of that name) is passed over.
                if (FindIdx(candidate, "train-images-idx3-ubyte") is not null) return candidate;
            }
        }
        return null;
    }

    /// <summary>
    /// Loads a directory of IDX files (train part required, t10k part optional but both or neither), an IDX
    /// images file (unlabelled when no matching labels file sits next to it) or a CSV file (<c>.csv</c>/<c>.csv.gz</c>).
    /// Features are raw, unscaled.
    /// </summary>
    /// <exception cref="EngineException">The path is missing, of an unknown kind, or its files are incomplete or malformed.</exception>
    public static LoadedData Load(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new EngineException("data path is empty");
        if (path == StandardInput) return new LoadedData(CsvReader.Read(Console.In, "standard input"), null);
        if (Directory.Exists(path))
        {
            string trainImages = FindIdx(path, "train-images-idx3-ubyte")
                ?? throw new EngineException($"{path}: no train-images-idx3-ubyte[.gz] in this directory");
            string trainLabels = FindIdx(path, "train-labels-idx1-ubyte")
                ?? throw new EngineException($"{path}: no train-labels-idx1-ubyte[.gz] in this directory");
            Dataset train = LoadIdxPair(trainImages, trainLabels);
            string? testImages = FindIdx(path, "t10k-images-idx3-ubyte");
            string? testLabels = FindIdx(path, "t10k-labels-idx1-ubyte");
            if ((testImages is null) != (testLabels is null))
                throw new EngineException($"{path}: has only one of t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte");
            Dataset? test = testImages is null ? null : LoadIdxPair(testImages, testLabels!);
            return new LoadedData(train, test);
        }
        if (!File.Exists(path)) throw new EngineException($"{path}: no such file or directory");
        if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".csv.gz", StringComparison.OrdinalIgnoreCase))
            return new LoadedData(CsvReader.Read(path), null);
        if (path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            return NumpyData.Load(path);
        string name = Path.GetFileName(path);
        if (name.Contains("images-idx3-ubyte", StringComparison.Ordinal))
        {
            string labelsName = name.Replace("images-idx3-ubyte", "labels-idx1-ubyte", StringComparison.Ordinal);
            string labelsPath = Path.Combine(Path.GetDirectoryName(path) ?? ".", labelsName);
            return new LoadedData(File.Exists(labelsPath) ? LoadIdxPair(path, labelsPath) : LoadIdxImages(path), null);
        }
        throw new EngineException($"{path}: not a directory of IDX files, an IDX images file, a .csv file or NumPy data (.npz with x and y, .npy)");
    }

    /// <summary>The examples to evaluate or predict on: a source's own test part when it has one, else all of it.</summary>
    public static Dataset LoadForInference(string path)
    {
        var loaded = Load(path);
        return loaded.Test ?? loaded.Train;
    }

    static string? FindIdx(string dir, string baseName)
    {
        foreach (string candidate in new[] { baseName, baseName + ".gz" })
        {
            string full = Path.Combine(dir, candidate);
            if (File.Exists(full)) return full;
        }
        return null;
    }

    /// <summary>An IDX images file as a dataset of its bytes (divisor 1: the features are the byte values).</summary>
    static Dataset LoadIdxImages(string imagesPath, int[]? labels = null, string? labelsPath = null)
    {
        IdxArray images = IdxReader.Read(imagesPath, dims =>
            labels is not null && dims[0] != labels.Length ? $"IDX header says {string.Join("x", dims)}: {labels.Length} labels for {dims[0]} images in {labelsPath}"
            : dims.Skip(1).Aggregate(1L, (n, d) => n * d) > Limits.MaxWidth ? $"IDX header says {string.Join("x", dims.Skip(1))} features per image, more than the limit of {Limits.MaxWidth:N0}"
            : null);
        if (images.Dimensions.Length < 2)
            throw new EngineException($"{imagesPath}: IDX images need rank 2 or more (count, features...), found rank {images.Dimensions.Length}");
        int count = images.Dimensions[0];
        if (count == 0) throw new EngineException($"{imagesPath}: holds no examples");
        if (labels is not null && labels.Length != count)
            throw new EngineException($"{labelsPath}: {labels.Length} labels for {count} images in {imagesPath}");
        return new Dataset(images.Data, 1f, labels, count, images.Data.Length / count, imagesPath);
    }

    static Dataset LoadIdxPair(string imagesPath, string labelsPath)
    {
        IdxArray labels = IdxReader.Read(labelsPath);
        if (labels.Dimensions.Length != 1)
            throw new EngineException($"{labelsPath}: IDX labels must have rank 1, found rank {labels.Dimensions.Length}");
        return LoadIdxImages(imagesPath, Array.ConvertAll(labels.Data, b => (int)b), labelsPath);
    }
}
