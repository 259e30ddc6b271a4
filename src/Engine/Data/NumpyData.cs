namespace Engine.Data;

/// <summary>
/// Data as NumPy holds it: an .npz with features <c>x</c> and labels <c>y</c> (or Keras's <c>x_train</c>, <c>y_train</c>,
/// <c>x_test</c>, <c>y_test</c>), or an .npy of features alone (unlabelled, for predict). Features may be any numeric
/// dtype and any rank: the first axis is the example, the rest are flattened in C order ((n, 28, 28) is 784 features);
/// uint8 features keep their byte form. Labels are integers 0..<see cref="CsvReader.MaxLabel"/> of shape (n,) or (n, 1)
/// (a float label must be a whole number).
/// </summary>
internal static class NumpyData
{
    public static LoadedData Load(string path)
    {
        if (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            var info = new FileInfo(path);
            using var stream = Open(path);
            return new LoadedData(Make(NpyReader.ReadNpy(stream, path, info.Length), null, path), null);
        }
        var arrays = NpyReader.ReadNpz(path);
        if (arrays.ContainsKey("x_train"))
        {
            var train = Make(arrays["x_train"], Labels(arrays, "y_train", path), $"{path}:x_train");
            Dataset? test = arrays.TryGetValue("x_test", out var xTest) ? Make(xTest, Labels(arrays, "y_test", path), $"{path}:x_test") : null;
            if (test is not null && test.Width != train.Width)
                throw new EngineException($"{path}: x_test has {test.Width} features per example, x_train {train.Width}");
            return new LoadedData(train, test);
        }
        if (!arrays.TryGetValue("x", out var x))
            throw new EngineException($"{path}: no array 'x' (features) or 'x_train'; it holds {(arrays.Count == 0 ? "no arrays" : string.Join(", ", arrays.Keys))}");
        return new LoadedData(Make(x, Labels(arrays, "y", path), path), null);
    }

    static FileStream Open(string path)
    {
        try { return File.OpenRead(path); }
        catch (FileNotFoundException) { throw new EngineException($"{path}: file not found"); }
        catch (UnauthorizedAccessException) { throw new EngineException($"{path}: permission denied"); }
        catch (IOException e) { throw new EngineException($"{path}: {e.Message}"); }
    }

    static NpyArray? Labels(Dictionary<string, NpyArray> arrays, string name, string path) =>
        arrays.TryGetValue(name, out var y) ? y : null;

    static Dataset Make(NpyArray x, NpyArray? y, string name)
    {
        if (x.Shape.Length == 0) throw new EngineException($"{name}: the features are a single number, not an array of examples");
        int count = x.Shape[0];
        long width = 1;
        foreach (int d in x.Shape.Skip(1)) width *= d;
        if (count == 0) throw new EngineException($"{name}: holds no examples");
        if (width == 0 || width > Limits.MaxWidth) throw new EngineException($"{name}: {width} features per example (1 to {Limits.MaxWidth:N0})");
        foreach (float v in x.Data)
            if (!float.IsFinite(v)) throw new EngineException($"{name}: a feature is NaN or infinite");
        int[]? labels = null;
        if (y is not null)
        {
            bool column = y.Shape.Length == 1 || (y.Shape.Length == 2 && y.Shape[1] == 1);
            if (!column || y.Shape[0] != count)
                throw new EngineException($"{name}: labels of shape ({string.Join(", ", y.Shape)}) for {count} examples; expected ({count},)");
            labels = new int[count];
            for (int i = 0; i < count; i++)
            {
                float v = y.Data[i];
                if (v > CsvReader.MaxLabel && v == MathF.Floor(v) && float.IsFinite(v))
                    throw new EngineException($"{name}: label {i} is {v}, which would make more than the limit of {Limits.MaxClasses:N0} classes (labels 0..{CsvReader.MaxLabel})");
                if (!(v >= 0 && v <= CsvReader.MaxLabel) || v != MathF.Floor(v))
                    throw new EngineException($"{name}: label {i} is {v}, not a class label (an integer 0..{CsvReader.MaxLabel})");
                labels[i] = (int)v;
            }
        }
        return x.Bytes is { } bytes
            ? new Dataset(bytes, 1f, labels, count, (int)width, name)
            : new Dataset(x.Data, labels, count, (int)width, name);
    }
}
