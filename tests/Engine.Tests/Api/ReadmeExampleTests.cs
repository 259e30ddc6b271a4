using Engine.Data;
using Engine.Evaluation;
using Engine.Kernels;
using Engine.Tests.Data;
using Engine.Training;
using Xunit;

namespace Engine.Tests.Api;

/// <summary>The README's embedding example, compiled here; the test checks the README shows exactly this code.</summary>
static class ReadmeExample
{
    public static (EvaluationResult Result, int[] Predicted) Run()
    {
        // readme-example:start
        LoadedData digits = DataSource.Load(DataSource.BundledDirectory());
        using var model = Classifier.Create(784, [128], 10, Activation.Tanh, InputScaling.FitMax(digits.Train),
                                            seed: 0, new ComputeOptions("simd", Threads: 2));
        model.Train(digits.Train, new TrainingOptions(Epochs: 5, BatchSize: 32, LearningRate: 0.1f, L2: 1e-4f, Seed: 0, Shuffle: true),
                    onEpoch: e => Console.WriteLine($"epoch {e.Epoch}: loss {e.TrainLoss:F4}"));
        EvaluationResult result = model.Evaluate(digits.Test!);
        Console.WriteLine($"accuracy {result.Accuracy:P2}, digit 5 sensitivity {result.Classes[5].Sensitivity:P1}");
        int[] predicted = model.Predict(digits.Test!);
        model.Save(Path.Combine(Path.GetTempPath(), "digits.model"));
        // readme-example:end
        return (result, predicted);
    }
}

public class ReadmeExampleTests
{
    static string[] Lines(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();

    [Fact]
    public void The_readme_shows_the_compiled_example()
    {
        string readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));
        string inReadme = Between(readme, "<!-- readme-example:start -->", "<!-- readme-example:end -->")
            .Replace("```csharp", "").Replace("```", "");
        string source = File.ReadAllText(Path.Combine(RepoPaths.Root, "tests", "Engine.Tests", "Api", "ReadmeExampleTests.cs"));
        string inSource = Between(source, "// readme-example:" + "start", "// readme-example:" + "end");
        Assert.Equal(Lines(inSource), Lines(inReadme));
    }

    [Fact]
    public void The_example_trains_evaluates_predicts_and_saves_a_loadable_model()
    {
        var (result, predicted) = ReadmeExample.Run();
        Assert.True(result.Accuracy > 0.9, $"accuracy {result.Accuracy}");
        Assert.Equal(2000, predicted.Length);
        string path = Path.Combine(Path.GetTempPath(), "digits.model");
        using var loaded = Classifier.Load(path, new ComputeOptions("reference"));
        var test = DataSource.Load(DataSource.BundledDirectory()).Test!;
        Assert.Equal(predicted, loaded.Predict(test)); // reference backend, same bits as simd
        Assert.Equal(result.Accuracy, loaded.Evaluate(test).Accuracy);
    }

    static string Between(string text, string start, string end)
    {
        int s = text.IndexOf(start, StringComparison.Ordinal), e = text.IndexOf(end, StringComparison.Ordinal);
        Assert.True(s >= 0 && e > s, $"markers {start} … {end} not found");
        return text[(s + start.Length)..e];
    }
}
