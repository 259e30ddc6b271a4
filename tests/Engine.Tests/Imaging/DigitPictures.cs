using Engine.Cli.Imaging;
using Engine.Data;
using Engine.Kernels;
using Engine.Training;

namespace Engine.Tests.Imaging;

/// <summary>
/// Pictures made from bundled MNIST test digits (enlarged, inverted, pasted off-centre) and one small model trained
/// on the bundled training split, shared by the imaging tests.
/// </summary>
internal static class DigitPictures
{
    const int Pixels = 28 * 28;

    static readonly Lazy<LoadedData> s_digits = new(() => DataSource.Load(DataSource.BundledDirectory()));
    static readonly Lazy<(Classifier Model, string Path)> s_model = new(Train);

    /// <summary>The bundled test split (2,000 labelled digits, values 0…255).</summary>
    public static Dataset Test => s_digits.Value.Test!;

    /// <summary>A 784-64-10 tanh model, 3 epochs on the 8,000 bundled training digits (≈ 93 % test accuracy).</summary>
    public static Classifier Model => s_model.Value.Model;

    /// <summary>Where <see cref="Model"/> is saved (deleted when the test process ends).</summary>
    public static string ModelPath => s_model.Value.Path;

    static (Classifier, string) Train()
    {
        Dataset train = s_digits.Value.Train;
        var model = Classifier.Create(Pixels, [64], 10, Activation.Tanh, InputScaling.FitMax(train), seed: 0, new ComputeOptions("simd", Threads: 1));
        model.Train(train, new TrainingOptions(Epochs: 3, BatchSize: 32, LearningRate: 0.1f, L2: 1e-4f, Seed: 0, Shuffle: true));
        string path = Path.Combine(Path.GetTempPath(), $"engine-tests-digits-{Guid.NewGuid():N}.model");
        model.Save(path);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { File.Delete(path); } catch (IOException) { } };
        return (model, path);
    }

    /// <summary>Test digit <paramref name="index"/> as a 28×28 picture.</summary>
    public static GreyImage Digit(int index) => new(28, 28, Test.Row(index).ToArray());

    /// <summary>The model's most probable class for each 784-value row of <paramref name="features"/>.</summary>
    public static int[] Classes(float[] features, int rows)
    {
        float[] p = Model.PredictProbabilities(features, rows);
        return Enumerable.Range(0, rows).Select(i => Classifier.ArgMax(p.AsSpan(i * 10, 10))).ToArray();
    }

    /// <summary>Each pixel repeated <paramref name="factor"/>×<paramref name="factor"/> times.</summary>
    public static GreyImage Enlarge(GreyImage image, int factor)
    {
        var big = new GreyImage(image.Width * factor, image.Height * factor);
        for (int y = 0; y < big.Height; y++)
            for (int x = 0; x < big.Width; x++) big[x, y] = image[x / factor, y / factor];
        return big;
    }

    /// <summary>Bilinear resampling by a non-integer factor (pixel centres aligned), as a photo editor would enlarge.</summary>
    public static GreyImage Resample(GreyImage image, double factor)
    {
        var result = new GreyImage((int)Math.Round(image.Width * factor), (int)Math.Round(image.Height * factor));
        for (int y = 0; y < result.Height; y++)
            for (int x = 0; x < result.Width; x++)
            {
                double sx = Math.Clamp((x + 0.5) / factor - 0.5, 0, image.Width - 1), sy = Math.Clamp((y + 0.5) / factor - 0.5, 0, image.Height - 1);
                int x0 = (int)sx, y0 = (int)sy, x1 = Math.Min(x0 + 1, image.Width - 1), y1 = Math.Min(y0 + 1, image.Height - 1);
                double fx = sx - x0, fy = sy - y0;
                result[x, y] = (float)((1 - fy) * ((1 - fx) * image[x0, y0] + fx * image[x1, y0]) + fy * ((1 - fx) * image[x0, y1] + fx * image[x1, y1]));
            }
        return result;
    }

    /// <summary>255 − v: black ink on white paper.</summary>
    public static GreyImage Invert(GreyImage image) => new(image.Width, image.Height, image.Pixels.Select(v => 255f - v).ToArray());

    /// <summary><paramref name="image"/> copied into a <paramref name="width"/>×<paramref name="height"/> canvas of <paramref name="fill"/> at (x, y).</summary>
    public static GreyImage Paste(GreyImage image, int width, int height, float fill, int x, int y)
    {
        var canvas = new GreyImage(width, height, Enumerable.Repeat(fill, width * height).ToArray());
        for (int v = 0; v < image.Height; v++)
            for (int u = 0; u < image.Width; u++) canvas[x + u, y + v] = image[u, v];
        return canvas;
    }

    /// <summary>Test digit <paramref name="index"/> enlarged 3×, as black ink on white, at a position that varies with the index.</summary>
    public static GreyImage Photo(int index) =>
        Paste(Invert(Enlarge(Digit(index), 3)), 150, 130, 255f, 7 + index * 7 % 59, 3 + index * 5 % 43);

    /// <summary>Mean absolute difference of two pictures of the same size, in grey levels.</summary>
    public static double MeanAbsDifference(GreyImage a, GreyImage b)
    {
        Assert.Equal((a.Width, a.Height), (b.Width, b.Height));
        return a.Pixels.Zip(b.Pixels, (p, q) => Math.Abs((double)p - q)).Average();
    }
}
