using Engine.Data;
using Engine.Kernels;
using Xunit;

namespace Engine.Tests.Api;

/// <summary>The model as bytes, the layers' weights in and out, and ONNX as bytes (what the 0.5.0 C ABI builds on).</summary>
public class ClassifierBytesAndLayersTests
{
    static float[] Rows(int rows, int width, int seed)
    {
        var rng = new Random(seed);
        var x = new float[rows * width];
        for (int i = 0; i < x.Length; i++) x[i] = 255f * rng.NextSingle();
        return x;
    }

    static Classifier Model(ulong seed) => Classifier.Create(6, [5, 4], 3, Activation.Relu, InputScaling.Divide(255f), seed);

    [Fact]
    public void ToBytes_is_the_model_file_and_FromBytes_predicts_the_same_bits()
    {
        using var model = Model(1);
        float[] x = Rows(7, 6, 2);
        byte[] bytes = model.ToBytes();
        string path = Path.Combine(Path.GetTempPath(), $"engine-bytes-{Guid.NewGuid():N}.model");
        try
        {
            model.Save(path);
            Assert.Equal(File.ReadAllBytes(path), bytes);
        }
        finally { File.Delete(path); }
        using var copy = Classifier.FromBytes(bytes, new ComputeOptions("reference"));
        Assert.Equal(model.PredictProbabilities(x, 7), copy.PredictProbabilities(x, 7));
        var e = Assert.Throws<EngineException>(() => Classifier.FromBytes(bytes.AsSpan(0, bytes.Length - 1), name: "the stored model"));
        Assert.StartsWith("the stored model: ", e.Message);
    }

    [Fact]
    public void GetLayer_and_SetLayer_copy_weights_between_models_and_reject_bad_input_without_changing_anything()
    {
        using var trained = Model(1);
        using var fresh = Model(2);
        Assert.Equal(3, trained.LayerCount);
        Assert.Equal((6, 5), trained.LayerShape(0));
        Assert.Equal((4, 3), trained.LayerShape(2));
        float[] x = Rows(9, 6, 3);
        Assert.NotEqual(trained.PredictProbabilities(x, 9), fresh.PredictProbabilities(x, 9));
        for (int layer = 0; layer < 3; layer++)
        {
            var (fanIn, fanOut) = trained.LayerShape(layer);
            float[] w = new float[fanIn * fanOut], b = new float[fanOut];
            trained.GetLayer(layer, w, b);
            fresh.SetLayer(layer, w, b);
        }
        float[] expected = trained.PredictProbabilities(x, 9);
        Assert.Equal(expected, fresh.PredictProbabilities(x, 9));

        Assert.Throws<EngineException>(() => trained.LayerShape(3));
        Assert.Throws<EngineException>(() => trained.LayerShape(-1));
        Assert.Throws<EngineException>(() => fresh.SetLayer(1, new float[19], new float[4]));
        float[] nan = new float[20];
        nan[7] = float.NaN;
        Assert.Throws<EngineException>(() => fresh.SetLayer(1, nan, new float[4]));
        Assert.Throws<EngineException>(() => fresh.SetLayer(1, new float[20], [0, 0, float.PositiveInfinity, 0]));
        Assert.Equal(expected, fresh.PredictProbabilities(x, 9));
    }

    [Fact]
    public void ToOnnx_is_what_ExportOnnx_writes()
    {
        using var model = Model(1);
        string path = Path.Combine(Path.GetTempPath(), $"engine-bytes-{Guid.NewGuid():N}.onnx");
        try
        {
            model.ExportOnnx(path);
            Assert.Equal(File.ReadAllBytes(path), model.ToOnnx());
        }
        finally { File.Delete(path); }
    }
}
