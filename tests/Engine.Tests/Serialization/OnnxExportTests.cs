using Engine.Data;
using Engine.Evaluation;
using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Nn;
using Engine.Serialization;
using Engine.Tests.Data;
using Engine.Training;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace Engine.Tests.Serialization;

/// <summary>Runs exported ONNX files in ONNX Runtime on raw (unscaled) inputs.</summary>
internal static class OnnxRunner
{
    /// <summary>The "probabilities" output, (rows, classes) row-major, for (rows, width) raw features.</summary>
    public static float[] Probabilities(byte[] onnx, float[] features, int rows, int width, int classes)
    {
        using var session = new InferenceSession(onnx);
        return Probabilities(session, features, rows, width, classes);
    }

    public static float[] Probabilities(InferenceSession session, float[] features, int rows, int width, int classes)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(features, [rows, width]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [OnnxExport.InputName], [input], [OnnxExport.OutputName]);
        var output = outputs[0];
        Assert.Equal([(long)rows, classes], output.GetTensorTypeAndShape().Shape);
        return output.GetTensorDataAsSpan<float>().ToArray();
    }
}

public sealed class OnnxExportTests(ITestOutputHelper output) : IDisposable
{
    const float Tolerance = 1e-5f;

    readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Largest |a − b| over all entries, and the rows whose argmax differs.</summary>
    static (float MaxDiff, List<int> ArgMaxMismatches) Compare(float[] engine, float[] onnx, int classes)
    {
        Assert.Equal(engine.Length, onnx.Length);
        float max = 0;
        for (int i = 0; i < engine.Length; i++)
        {
            float d = MathF.Abs(engine[i] - onnx[i]);
            if (!(d <= max)) max = d; // NaN propagates
        }
        var mismatches = new List<int>();
        for (int r = 0; r < engine.Length / classes; r++)
            if (Evaluator.ArgMax(engine.AsSpan(r * classes, classes)) != Evaluator.ArgMax(onnx.AsSpan(r * classes, classes)))
                mismatches.Add(r);
        return (max, mismatches);
    }

    /// <summary>Engine probabilities on the reference backend, ONNX Runtime on the exported file, both from raw features.</summary>
    static (float[] Engine, float[] Onnx) BothWays(Model model, Dataset raw)
    {
        float[] engine = Evaluator.Predict(model.Network, ReferenceKernels.Instance, model.Scaling.Apply(raw));
        float[] onnx = OnnxRunner.Probabilities(OnnxExport.ToBytes(model), raw.Features, raw.Count, raw.Width, model.Network.ClassCount);
        return (engine, onnx);
    }

    /// <summary>Glorot/He weights from <paramref name="seed"/> and nonzero biases, so every initializer matters.</summary>
    static Network SmallNetwork(int input, int[] hidden, int classes, Activation activation, int seed)
    {
        var net = new Network(input, hidden, classes, activation);
        net.InitializeWeights((ulong)seed);
        var rng = new Random(seed);
        foreach (var layer in net.Layers)
            for (int j = 0; j < layer.FanOut; j++) net.Parameters[layer.BiasOffset + j] = (float)(rng.NextDouble() - 0.5);
        return net;
    }

    /// <summary>Raw features on very different scales per column (column j around 10^(j mod 4 − 1)), as standardization expects.</summary>
    static Dataset RandomData(int rows, int width, int seed, bool integers = false)
    {
        var rng = new Random(seed);
        var features = new float[rows * width];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < width; j++)
                features[i * width + j] = integers
                    ? rng.Next(0, 17)
                    : (float)((rng.NextDouble() * 2 - 0.5) * Math.Pow(10, j % 4 - 1) + j);
        return new Dataset(features, null, rows, width, "random");
    }

    // ---- the trained digit model on the whole bundled test split --------------------------------

    [Fact]
    public void A_trained_digit_model_gives_the_engines_probabilities_on_all_2000_test_images()
    {
        var loaded = DataSource.Load(RepoPaths.BundledData);
        var scaling = InputScaling.FitMax(loaded.Train);
        var test = loaded.Test!;
        Assert.Equal(2000, test.Count);
        var net = new Network(784, [32], 10, Activation.Tanh);
        net.InitializeWeights(0);
        new Trainer(net, ReferenceKernels.Instance, new TrainingOptions(3, 32, 0.1f, 1e-4f, 0, Shuffle: true)).Train(scaling.Apply(loaded.Train), null);
        var model = new Model(net, scaling);

        string path = _dir.File("digits.onnx");
        OnnxExport.Write(path, model);
        float[] engine = Evaluator.Predict(net, ReferenceKernels.Instance, scaling.Apply(test));
        float[] onnx;
        using (var session = new InferenceSession(path))
            onnx = OnnxRunner.Probabilities(session, test.Features, test.Count, test.Width, 10);

        var (maxDiff, mismatches) = Compare(engine, onnx, 10);
        var accuracy = Evaluator.Evaluate(net, ReferenceKernels.Instance, scaling.Apply(test)).Accuracy;
        output.WriteLine($"784-32-10 tanh, 3 epochs: engine accuracy {accuracy:P2}; max |p_engine − p_onnx| over 2000×10 = {maxDiff:E3}; argmax mismatches {mismatches.Count}");
        Assert.True(accuracy > 0.85, $"the trained model is not a real digit classifier: accuracy {accuracy}");
        Assert.True(maxDiff <= Tolerance, $"max abs difference {maxDiff:E3} > {Tolerance:E0}");
        Assert.Empty(mismatches);
    }

    // ---- activations, depth and scalings on small random models --------------------------------

    public static TheoryData<Activation, int[], bool> Architectures()
    {
        var data = new TheoryData<Activation, int[], bool>();
        foreach (var activation in new[] { Activation.Tanh, Activation.Relu, Activation.Sigmoid })
            foreach (bool standardize in new[] { false, true })
            {
                data.Add(activation, [16], standardize);
                data.Add(activation, [16, 12], standardize);
            }
        data.Add(Activation.Relu, [], false); // no hidden layer: scaling, one MatMul + Add, softmax
        data.Add(Activation.Sigmoid, [9, 7, 5], true);
        return data;
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Small_models_give_the_engines_probabilities(Activation activation, int[] hidden, bool standardize)
    {
        var train = RandomData(200, 20, seed: 1, integers: !standardize);
        var scaling = standardize ? InputScaling.FitStandardize(train) : InputScaling.FitMax(train);
        var model = new Model(SmallNetwork(20, hidden, 4, activation, seed: 7), scaling);
        var raw = RandomData(300, 20, seed: 2, integers: !standardize);

        var (engine, onnx) = BothWays(model, raw);

        var (maxDiff, mismatches) = Compare(engine, onnx, 4);
        output.WriteLine($"{model.Network.Describe()} {scaling.Describe()}: max abs difference {maxDiff:E3}");
        Assert.True(maxDiff <= Tolerance, $"max abs difference {maxDiff:E3} > {Tolerance:E0}");
        Assert.Empty(mismatches);
        // The probabilities are not all alike: the comparison has something to compare.
        Assert.True(engine.Max() - engine.Min() > 0.1f);
    }

    [Fact]
    public void A_single_example_and_a_larger_batch_both_run_with_the_symbolic_batch_dimension()
    {
        var model = new Model(SmallNetwork(20, [8], 3, Activation.Tanh, seed: 3), InputScaling.Divide(16f));
        byte[] onnx = OnnxExport.ToBytes(model);
        using var session = new InferenceSession(onnx);
        foreach (int rows in new[] { 1, 2, 1001 })
        {
            var raw = RandomData(rows, 20, seed: rows, integers: true);
            float[] engine = Evaluator.Predict(model.Network, ReferenceKernels.Instance, model.Scaling.Apply(raw));
            var (maxDiff, mismatches) = Compare(engine, OnnxRunner.Probabilities(session, raw.Features, rows, 20, 3), 3);
            Assert.True(maxDiff <= Tolerance, $"{rows} rows: {maxDiff:E3}");
            Assert.Empty(mismatches);
        }
    }

    [Fact]
    public void The_comparison_notices_a_single_flipped_weight()
    {
        // The check above has teeth: export, then flip the sign of the largest first-layer weight in the engine's copy.
        var train = RandomData(200, 20, seed: 1);
        var model = new Model(SmallNetwork(20, [16], 4, Activation.Tanh, seed: 7), InputScaling.FitStandardize(train));
        byte[] onnx = OnnxExport.ToBytes(model);
        var layer = model.Network.Layers[0];
        var w = model.Network.Parameters.AsSpan(layer.WeightOffset, layer.WeightCount);
        int largest = 0;
        for (int i = 1; i < w.Length; i++) if (MathF.Abs(w[i]) > MathF.Abs(w[largest])) largest = i;
        w[largest] = -w[largest];

        var raw = RandomData(300, 20, seed: 2);
        float[] engine = Evaluator.Predict(model.Network, ReferenceKernels.Instance, model.Scaling.Apply(raw));
        var (maxDiff, _) = Compare(engine, OnnxRunner.Probabilities(onnx, raw.Features, 300, 20, 4), 4);
        output.WriteLine($"one flipped weight: max abs difference {maxDiff:E3}");
        Assert.True(maxDiff > 100 * Tolerance, $"max abs difference only {maxDiff:E3}");
    }

    // ---- what the file contains -----------------------------------------------------------------

    [Fact]
    public void The_file_is_an_ir8_opset13_model_from_engine_with_the_documented_graph()
    {
        var train = RandomData(50, 6, seed: 4);
        var model = new Model(SmallNetwork(6, [5, 4], 3, Activation.Relu, seed: 5), InputScaling.FitStandardize(train));
        var file = ProtobufReader.Parse(OnnxExport.ToBytes(model));

        Assert.Equal(8UL, file.Single(1).Value);                 // ir_version
        Assert.Equal("engine", file.Single(2).Text);             // producer_name
        var opset = file.Single(8).Message;                      // opset_import
        Assert.Equal("", opset.Single(1).Text);
        Assert.Equal(13UL, opset.Single(2).Value);
        var graph = file.Single(7).Message;

        var nodes = graph.All(1).Select(n => n.Message).ToList();
        Assert.Equal(["Sub", "Div", "MatMul", "Add", "Relu", "MatMul", "Add", "Relu", "MatMul", "Add", "Softmax"],
                     nodes.Select(n => n.Single(4).Text));
        Assert.Equal(["input", "scale_mean"], nodes[0].All(1).Select(f => f.Text));
        Assert.Equal(["centered", "scale_std"], nodes[1].All(1).Select(f => f.Text));
        Assert.Equal(["scaled", "W1"], nodes[2].All(1).Select(f => f.Text));
        Assert.Equal(["logits"], nodes[^1].All(1).Select(f => f.Text));
        Assert.Equal("probabilities", nodes[^1].Single(2).Text);
        var axis = nodes[^1].Single(5).Message;                  // Softmax attribute
        Assert.Equal("axis", axis.Single(1).Text);
        Assert.Equal(1UL, axis.Single(3).Value);
        Assert.Equal(2UL, axis.Single(20).Value);                // AttributeType INT

        // Initializers: names, dims, FLOAT, and the engine's exact bits as raw little-endian float32.
        Assert.Equal(["scale_mean", "scale_std", "W1", "b1", "W2", "b2", "W3", "b3"], graph.All(5).Select(t => t.Message.Single(8).Text));
        var initializers = graph.All(5).Select(t => t.Message).ToDictionary(t => t.Single(8).Text);
        void AssertTensor(string name, long[] dims, ReadOnlySpan<float> values)
        {
            var t = initializers[name];
            Assert.Equal(dims, t.All(1).Select(d => (long)d.Value));
            Assert.Equal(1UL, t.Single(2).Value);
            Assert.Equal(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).ToArray(), t.Single(9).Bytes);
        }
        AssertTensor("scale_mean", [6], model.Scaling.Mean);
        AssertTensor("scale_std", [6], model.Scaling.Std);
        var p = model.Network.Parameters;
        var layers = model.Network.Layers;
        for (int l = 0; l < layers.Count; l++)
        {
            AssertTensor($"W{l + 1}", [layers[l].FanIn, layers[l].FanOut], p.AsSpan(layers[l].WeightOffset, layers[l].WeightCount));
            AssertTensor($"b{l + 1}", [layers[l].FanOut], p.AsSpan(layers[l].BiasOffset, layers[l].FanOut));
        }

        // Input and output: float32 [batch, width] with a symbolic batch dimension.
        void AssertValue(ProtoField field, string name, int width)
        {
            var value = field.Message;
            Assert.Equal(name, value.Single(1).Text);
            var tensor = value.Single(2).Message.Single(1).Message;
            Assert.Equal(1UL, tensor.Single(1).Value);
            var dims = tensor.Single(2).Message.All(1).Select(d => d.Message).ToList();
            Assert.Equal(2, dims.Count);
            Assert.Equal("batch", dims[0].Single(2).Text);
            Assert.Equal((ulong)width, dims[1].Single(1).Value);
        }
        AssertValue(graph.Single(11), "input", 6);
        AssertValue(graph.Single(12), "probabilities", 3);
    }

    [Fact]
    public void Divide_scaling_is_one_Div_by_the_exact_divisor()
    {
        var model = new Model(SmallNetwork(3, [2], 2, Activation.Sigmoid, seed: 6), InputScaling.Divide(255f));
        var graph = ProtobufReader.Parse(OnnxExport.ToBytes(model)).Single(7).Message;
        var first = graph.All(1).First().Message;
        Assert.Equal("Div", first.Single(4).Text);
        Assert.Equal(["input", "scale_divisor"], first.All(1).Select(f => f.Text));
        var divisor = graph.All(5).Select(t => t.Message).Single(t => t.Single(8).Text == "scale_divisor");
        Assert.Empty(divisor.All(1)); // a scalar: no dims
        Assert.Equal(BitConverter.GetBytes(255f), divisor.Single(9).Bytes);
        Assert.Equal(["Div", "MatMul", "Add", "Sigmoid", "MatMul", "Add", "Softmax"],
                     graph.All(1).Select(n => n.Message.Single(4).Text));
    }

    [Fact]
    public void ONNX_Runtime_reports_the_producer_and_the_input_and_output_shapes()
    {
        var model = new Model(SmallNetwork(20, [8], 5, Activation.Tanh, seed: 8), InputScaling.Divide(16f));
        using var session = new InferenceSession(OnnxExport.ToBytes(model));
        Assert.Equal("engine", session.ModelMetadata.ProducerName);
        var input = Assert.Single(session.InputMetadata);
        Assert.Equal("input", input.Key);
        Assert.Equal([-1, 20], input.Value.Dimensions);
        Assert.Equal("batch", input.Value.SymbolicDimensions[0]);
        Assert.Equal(typeof(float), input.Value.ElementType);
        var outputMeta = Assert.Single(session.OutputMetadata);
        Assert.Equal("probabilities", outputMeta.Key);
        Assert.Equal([-1, 5], outputMeta.Value.Dimensions);
    }

    // ---- saving ---------------------------------------------------------------------------------

    [Fact]
    public void Write_saves_the_bytes_and_leaves_no_temp_file()
    {
        var model = new Model(SmallNetwork(4, [3], 2, Activation.Tanh, seed: 9), InputScaling.Divide(1f));
        string path = _dir.File("model.onnx");
        OnnxExport.Write(path, model);
        Assert.Equal(OnnxExport.ToBytes(model), File.ReadAllBytes(path));
        Assert.Equal(["model.onnx"], _dir.FileNames());
    }

    [Fact]
    public void A_failing_export_leaves_the_previous_file_intact()
    {
        string path = _dir.File("model.onnx");
        var good = new Model(SmallNetwork(5, [3], 2, Activation.Tanh, seed: 10), InputScaling.Divide(255f));
        OnnxExport.Write(path, good);
        byte[] before = File.ReadAllBytes(path);

        // A scaling fitted on 3 features for a 5-input network: the export fails inside the atomic write.
        var mismatched = new Model(good.Network, InputScaling.Standardize([0f, 0f, 0f], [1f, 1f, 1f]));
        var e = Assert.Throws<EngineException>(() => OnnxExport.Write(path, mismatched));
        Assert.Contains("3 features", e.Message);

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.onnx"], _dir.FileNames());
        using var session = new InferenceSession(path); // still a loadable model
    }

    [Fact]
    public void Exporting_onto_a_directory_or_into_a_missing_directory_is_an_engine_error()
    {
        var model = new Model(SmallNetwork(4, [3], 2, Activation.Tanh, seed: 11), InputScaling.Divide(1f));
        string target = Path.Combine(_dir.Path, "sub");
        Directory.CreateDirectory(target);
        var onDirectory = Assert.Throws<EngineException>(() => OnnxExport.Write(target, model));
        Assert.Contains(target, onDirectory.Message);
        Assert.True(Directory.Exists(target));
        Assert.Empty(_dir.FileNames());

        string missing = Path.Combine(_dir.Path, "missing", "model.onnx");
        var e = Assert.Throws<EngineException>(() => OnnxExport.Write(missing, model));
        Assert.Contains("does not exist", e.Message);
    }
}
