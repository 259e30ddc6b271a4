using System.Globalization;
using System.Text;
using Engine.Data;
using Engine.Evaluation;
using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Nn;
using Engine.Tests.Data;
using Engine.Training;

namespace Engine.Tests.Training;

/// <summary>
/// Data of another width and value range: the bundled digits reduced the UCI "optdigits" way (pad to 32×32,
/// threshold, count set pixels per 4×4 block → 64 features of 0..16), written as CSV, read back and trained
/// with the default scaling (divide by the training maximum, 16). Nothing about 784 or 255 is assumed.
/// </summary>
public class OtherWidthDataTests
{
    static string ToCsv(Dataset images)
    {
        var sb = new StringBuilder("label," + string.Join(",", Enumerable.Range(0, 64).Select(i => $"pixel{i}")) + "\n");
        for (int n = 0; n < images.Count; n++)
        {
            ReadOnlySpan<float> img = images.Row(n);
            sb.Append(images.Labels![n].ToString(CultureInfo.InvariantCulture));
            for (int by = 0; by < 8; by++)
                for (int bx = 0; bx < 8; bx++)
                {
                    int count = 0;
                    for (int y = by * 4 - 2; y < by * 4 + 2; y++)
                        for (int x = bx * 4 - 2; x < bx * 4 + 2; x++)
                            if (y >= 0 && y < 28 && x >= 0 && x < 28 && img[y * 28 + x] >= 128) count++;
                    sb.Append(',').Append(count);
                }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    [Fact]
    public void Sixty_four_features_of_0_to_16_train_from_csv_with_default_scaling()
    {
        var bundled = DataSource.Load(RepoPaths.BundledData);
        using var dir = new ScratchDirectory();
        string trainCsv = dir.WriteText("train.csv", ToCsv(bundled.Train));
        string testCsv = dir.WriteText("test.csv", ToCsv(bundled.Test!));

        var train = DataSource.Load(trainCsv).Train;
        var test = DataSource.LoadForInference(testCsv);
        Assert.Equal(64, train.Width);
        var scaling = InputScaling.FitMax(train);
        Assert.Equal(16f, scaling.Divisor);

        var net = new Network(train.Width, [64], 10, Activation.Tanh);
        net.InitializeWeights(0);
        new Trainer(net, ReferenceKernels.Instance, new TrainingOptions(10, 32, 0.1f, 1e-4f, 0, true)).Train(scaling.Apply(train), null);
        var result = Evaluator.Evaluate(net, ReferenceKernels.Instance, scaling.Apply(test));
        // This coarse 8×8 binarised view of MNIST loses detail; an MLP lands near 87-88 %.
        Assert.True(result.Accuracy > 0.85, $"accuracy {result.Accuracy:P2}");
    }
}
