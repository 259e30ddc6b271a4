using Engine.Data;
using Engine.Evaluation;
using Engine.Kernels;
using Engine.Kernels.Reference;
using Engine.Nn;
using Engine.Serialization;
using Engine.Serialization.Onnx.Proto;
using Engine.Tests.Data;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Engine.Tests.Serialization;

/// <summary>
/// ONNX import: graphs in the forms real exporters write, built here with the protobuf classes generated from onnx.proto,
/// run in ONNX Runtime and imported into the engine, whose probabilities must agree to 1e-5 with the same classes; the
/// engine's own export comes back with the same bits; and every unsupported graph gets its one-line refusal.
/// </summary>
public sealed class OnnxImportTests : IDisposable
{
    readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    const int Width = 12, Classes = 4;

    /// <summary>A small graph builder: one float input [batch, dims...], initializers, nodes, one output.</summary>
    sealed class Graph
    {
        public readonly ModelProto Model = new() { IrVersion = 8, ProducerName = "test", Graph = new GraphProto { Name = "g" } };
        readonly Random _rng = new(5);

        public Graph(long opset = 13, string input = "x", long[]? dims = null)
        {
            Model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
            Model.Graph.Input.Add(Value(input, dims ?? [Width]));
        }

        public static ValueInfoProto Value(string name, long[] dims)
        {
            var shape = new TensorShapeProto();
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
            foreach (long d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
            return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
        }

        /// <summary>A float initializer of random values in ±scale (raw_data, or float_data when asked).</summary>
        public string Initializer(string name, long[] dims, float scale = 0.5f, bool floatData = false, float[]? values = null)
        {
            long count = dims.Aggregate(1L, (a, d) => a * d);
            values ??= Enumerable.Range(0, (int)count).Select(_ => (float)(_rng.NextDouble() * 2 - 1) * scale).ToArray();
            var tensor = new TensorProto { Name = name, DataType = 1 };
            tensor.Dims.Add(dims);
            if (floatData) tensor.FloatData.Add(values);
            else tensor.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
            Model.Graph.Initializer.Add(tensor);
            return name;
        }

        public string Int64Initializer(string name, long[] values, bool scalar = false)
        {
            var tensor = new TensorProto { Name = name, DataType = 7 };
            if (!scalar) tensor.Dims.Add(values.Length);
            tensor.Int64Data.Add(values);
            Model.Graph.Initializer.Add(tensor);
            return name;
        }

        public string Node(string op, string[] inputs, string output, params (string Name, object Value)[] attributes)
        {
            var node = new NodeProto { OpType = op, Name = output + "_node" };
            node.Input.Add(inputs);
            node.Output.Add(output);
            foreach (var (name, value) in attributes)
                node.Attribute.Add(value is float f
                    ? new AttributeProto { Name = name, F = f, Type = AttributeProto.Types.AttributeType.Float }
                    : new AttributeProto { Name = name, I = Convert.ToInt64(value), Type = AttributeProto.Types.AttributeType.Int });
            Model.Graph.Node.Add(node);
            return output;
        }

        public byte[] Output(string name, long classes = Classes)
        {
            Model.Graph.Output.Add(Value(name, [classes]));
            return Model.ToByteArray();
        }
    }

    static float[] Features(int rows, int width, float scale = 1f)
    {
        var rng = new Random(11);
        return Enumerable.Range(0, rows * width).Select(_ => (float)rng.NextDouble() * scale).ToArray();
    }

    /// <summary>ONNX Runtime's output for the first input, (rows, classes).</summary>
    static float[] RunOrt(byte[] onnx, float[] features, long[] shape)
    {
        using var session = new InferenceSession(onnx);
        using var input = OrtValue.CreateTensorValueFromMemory(features, shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [session.InputNames[0]], [input], [session.OutputNames[0]]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    static float[] Softmax(float[] logits, int classes)
    {
        var p = new float[logits.Length];
        for (int r = 0; r < logits.Length / classes; r++)
        {
            var row = logits.AsSpan(r * classes, classes);
            float max = row.ToArray().Max();
            double sum = 0;
            for (int j = 0; j < classes; j++) sum += Math.Exp(row[j] - max);
            for (int j = 0; j < classes; j++) p[r * classes + j] = (float)(Math.Exp(row[j] - max) / sum);
        }
        return p;
    }

    static float[] EngineProbabilities(Model model, float[] features, int rows) =>
        Evaluator.Predict(model.Network, ReferenceKernels.Instance, model.Scaling.Apply(new Dataset(features, null, rows, model.Network.InputWidth, "test")));

    /// <summary>Same probabilities (after a softmax of the graph's own output, when it gives logits) and the same classes.</summary>
    static void AssertAgrees(byte[] onnx, float[] features, long[] shape, Func<float[], float[]> toProbabilities, Activation expectedActivation, string expectedWidths)
    {
        int rows = (int)shape[0];
        float[] expected = toProbabilities(RunOrt(onnx, features, shape));
        Model model = OnnxImport.FromBytes(onnx, "test.onnx");
        Assert.Equal(expectedWidths, string.Join("-", model.Network.Widths));
        Assert.Equal(expectedActivation, model.Network.HiddenActivation);
        float[] got = EngineProbabilities(model, features, rows);
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < got.Length; i++) Assert.True(MathF.Abs(got[i] - expected[i]) <= 1e-5f, $"probability {i}: engine {got[i]}, ONNX Runtime {expected[i]}");
        for (int r = 0; r < rows; r++)
            Assert.Equal(Evaluator.ArgMax(expected.AsSpan(r * Classes, Classes)), Evaluator.ArgMax(got.AsSpan(r * Classes, Classes)));
    }

    [Theory]
    [InlineData(9)]
    [InlineData(13)]
    [InlineData(21)]
    public void PyTorch_style_Gemm_with_transB_and_relu_agrees_with_ONNX_Runtime(long opset)
    {
        // torch.nn.Sequential(Linear(12, 8), ReLU(), Linear(8, 4), Softmax(dim=1)) as torch.onnx.export writes it.
        var g = new Graph(opset: Math.Min(opset, 19));
        if (opset != Math.Min(opset, 19)) g.Model.OpsetImport[0].Version = opset; // ORT may not run 21; import only below
        string h = g.Node("Gemm", ["x", g.Initializer("0.weight", [8, Width]), g.Initializer("0.bias", [8])], "h", ("transB", 1), ("alpha", 1f), ("beta", 1f));
        string a = g.Node("Relu", [h], "a");
        string z = g.Node("Gemm", [a, g.Initializer("2.weight", [Classes, 8]), g.Initializer("2.bias", [Classes])], "z", ("transB", 1));
        byte[] onnx = g.Output(g.Node("Softmax", [z], "p", ("axis", 1)));
        if (opset > 19)
        {
            Assert.Equal("12-8-4", string.Join("-", OnnxImport.FromBytes(onnx, "t").Network.Widths));
            return;
        }
        AssertAgrees(onnx, Features(7, Width), [7, Width], p => p, Activation.Relu, "12-8-4");
    }

    [Fact]
    public void Keras_style_MatMul_Add_with_tanh_float_data_and_logits_agrees_with_ONNX_Runtime()
    {
        var g = new Graph();
        string m1 = g.Node("MatMul", ["x", g.Initializer("dense/kernel", [Width, 6], floatData: true)], "m1");
        string z1 = g.Node("Add", [g.Initializer("dense/bias", [6], floatData: true), m1], "z1"); // bias first: Add commutes
        string a1 = g.Node("Tanh", [z1], "a1");
        string m2 = g.Node("MatMul", [a1, g.Initializer("out/kernel", [6, 5])], "m2");
        string z2 = g.Node("Add", [m2, g.Initializer("out/bias", [1, 5])], "z2");
        string a2 = g.Node("Tanh", [z2], "a2");
        string z3 = g.Node("MatMul", [a2, g.Initializer("last/kernel", [5, Classes])], "logits"); // no bias
        byte[] onnx = g.Output(z3);
        AssertAgrees(onnx, Features(9, Width), [9, Width], logits => Softmax(logits, Classes), Activation.Tanh, "12-6-5-4");
    }

    [Fact]
    public void Flatten_of_an_image_input_and_LogSoftmax_agree_with_ONNX_Runtime()
    {
        var g = new Graph(dims: [1, 3, 4]);
        string f = g.Node("Flatten", ["x"], "flat", ("axis", 1));
        string z1 = g.Node("Gemm", [f, g.Initializer("w1", [Width, 7]), g.Initializer("b1", [7])], "z1");
        string a1 = g.Node("Sigmoid", [z1], "a1");
        string z2 = g.Node("Gemm", [a1, g.Initializer("w2", [7, Classes]), g.Initializer("b2", [Classes])], "z2");
        byte[] onnx = g.Output(g.Node("LogSoftmax", [z2], "logp", ("axis", 1)));
        AssertAgrees(onnx, Features(5, Width), [5, 1, 3, 4], logp => logp.Select(MathF.Exp).ToArray(), Activation.Sigmoid, "12-7-4");
    }

    [Fact]
    public void PyTorch_view_reshape_with_shape_arithmetic_is_followed_through()
    {
        // x.view(x.size(0), -1): Shape → Gather(0) → Unsqueeze, Concat with [-1], Reshape.
        var g = new Graph(opset: 11, dims: [2, 6]);
        string shape = g.Node("Shape", ["x"], "shape");
        string batch = g.Node("Gather", [shape, g.Int64Initializer("zero", [0], scalar: true)], "batch", ("axis", 0));
        string batch1 = g.Node("Unsqueeze", [batch], "batch1", ("axes", 0));
        var unsqueeze = g.Model.Graph.Node[^1];
        unsqueeze.Attribute.Clear();
        unsqueeze.Attribute.Add(new AttributeProto { Name = "axes", Ints = { 0L }, Type = AttributeProto.Types.AttributeType.Ints });
        string target = g.Node("Concat", [batch1, g.Int64Initializer("minus_one", [-1])], "target", ("axis", 0));
        string flat = g.Node("Reshape", ["x", target], "flat");
        string z1 = g.Node("Gemm", [flat, g.Initializer("fc1.weight", [9, Width]), g.Initializer("fc1.bias", [9])], "z1", ("transB", 1));
        string a1 = g.Node("Relu", [z1], "a1");
        string z2 = g.Node("Gemm", [a1, g.Initializer("fc2.weight", [Classes, 9]), g.Initializer("fc2.bias", [Classes])], "z2", ("transB", 1));
        byte[] onnx = g.Output(g.Node("Softmax", [z2], "p", ("axis", 1)));
        AssertAgrees(onnx, Features(3, Width), [3, 2, 6], p => p, Activation.Relu, "12-9-4");
    }

    [Fact]
    public void Div_and_Sub_Div_in_front_become_the_input_scaling()
    {
        var g = new Graph();
        string scaled = g.Node("Div", ["x", g.Initializer("divisor", [], values: [255f])], "scaled");
        string z = g.Node("Gemm", [scaled, g.Initializer("w", [Width, Classes]), g.Initializer("b", [Classes])], "z");
        byte[] onnx = g.Output(g.Node("Softmax", [z], "p", ("axis", 1)));
        AssertAgrees(onnx, Features(4, Width, 255f), [4, Width], p => p, Activation.Tanh, "12-4");
        Assert.Equal(255f, OnnxImport.FromBytes(onnx, "t").Scaling.Divisor);

        var s = new Graph();
        string centered = s.Node("Sub", ["x", s.Initializer("mean", [Width])], "centered");
        string standardized = s.Node("Div", [centered, s.Initializer("std", [Width], values: Enumerable.Range(1, Width).Select(i => i * 0.5f).ToArray())], "standardized");
        string zs = s.Node("MatMul", [standardized, s.Initializer("w", [Width, Classes])], "zs");
        byte[] standard = s.Output(s.Node("Add", [zs, s.Initializer("b", [Classes])], "logits"));
        AssertAgrees(standard, Features(4, Width), [4, Width], logits => Softmax(logits, Classes), Activation.Tanh, "12-4");
        Assert.Equal(InputScaling.Kind.Standardize, OnnxImport.FromBytes(standard, "t").Scaling.Mode);
    }

    [Theory]
    [InlineData(Activation.Tanh, "divide")]
    [InlineData(Activation.Relu, "standardize")]
    [InlineData(Activation.Sigmoid, "divide")]
    public void The_engines_own_export_comes_back_with_the_same_bits(Activation activation, string scaling)
    {
        var network = new Network(Width, [7, 5], Classes, activation);
        network.InitializeWeights(3);
        var rng = new Random(2);
        for (int i = 0; i < network.Parameters.Length; i++) network.Parameters[i] += (float)(rng.NextDouble() - 0.5) * 1e-3f;
        var scale = scaling == "divide" ? InputScaling.Divide(16f)
            : InputScaling.Standardize(Enumerable.Range(0, Width).Select(i => i * 0.25f).ToArray(), Enumerable.Range(0, Width).Select(i => 1f + i).ToArray());
        byte[] exported = OnnxExport.ToBytes(new Model(network, scale));
        Model back = OnnxImport.FromBytes(exported, "engine.onnx");
        Assert.Equal(network.Parameters, back.Network.Parameters);
        Assert.Equal(network.Describe(), back.Network.Describe());
        Assert.Equal(exported, OnnxExport.ToBytes(back));
    }

    [Fact]
    public void Classifier_ImportOnnx_reads_a_file_and_the_cli_saves_a_model()
    {
        var g = new Graph();
        string z = g.Node("Gemm", ["x", g.Initializer("w", [Width, Classes]), g.Initializer("b", [Classes])], "z");
        string path = System.IO.Path.Combine(_dir.Path, "m.onnx");
        File.WriteAllBytes(path, g.Output(g.Node("Softmax", [z], "p", ("axis", 1))));
        using var classifier = Classifier.ImportOnnx(path);
        Assert.Equal(Width, classifier.InputWidth);
        Assert.Equal(Classes, classifier.ClassCount);
    }

    public static IEnumerable<object[]> Refusals()
    {
        // (what, expected message part, graph)
        yield return Case("a Conv", "node 'c_node' (Conv) is not a dense layer", g => g.Output(g.Node("Conv", ["x", g.Initializer("k", [1, 1, 1])], "c")));
        yield return Case("a second input", "the graph has 2 inputs (x, y)", g =>
        {
            g.Model.Graph.Input.Add(Graph.Value("y", [Width]));
            return g.Output(g.Node("Gemm", ["x", g.Initializer("w", [Width, Classes])], "z"));
        });
        yield return Case("shapes that do not chain", "node 'z2_node' (Gemm) takes 5 inputs, the layer before gives 6", g =>
        {
            string a = g.Node("Tanh", [g.Node("Gemm", ["x", g.Initializer("w1", [Width, 6])], "z1")], "a");
            return g.Output(g.Node("Gemm", [a, g.Initializer("w2", [5, Classes])], "z2"));
        });
        yield return Case("mixed activations", "the hidden layers use Tanh and Relu", g =>
        {
            string a1 = g.Node("Tanh", [g.Node("Gemm", ["x", g.Initializer("w1", [Width, 6])], "z1")], "a1");
            string a2 = g.Node("Relu", [g.Node("Gemm", [a1, g.Initializer("w2", [6, 5])], "z2")], "a2");
            return g.Output(g.Node("Gemm", [a2, g.Initializer("w3", [5, Classes])], "z3"));
        });
        yield return Case("layers without an activation between them", "follows layer 1 without an activation", g =>
            g.Output(g.Node("Gemm", [g.Node("Gemm", ["x", g.Initializer("w1", [Width, 6])], "z1"), g.Initializer("w2", [6, Classes])], "z2")));
        yield return Case("an activation after the last layer", "Relu follows the last dense layer", g =>
            g.Output(g.Node("Relu", [g.Node("Gemm", ["x", g.Initializer("w", [Width, Classes])], "z")], "a")));
        yield return Case("a branch", "does not continue the chain", g =>
        {
            string z = g.Node("Gemm", ["x", g.Initializer("w", [Width, Classes])], "z");
            g.Node("Relu", ["x"], "side");
            return g.Output(z);
        });
        yield return Case("opset 8", "opset 8 is not supported (opsets 9 to 21 are)", g =>
        {
            g.Model.OpsetImport[0].Version = 8;
            return g.Output(g.Node("Gemm", ["x", g.Initializer("w", [Width, Classes])], "z"));
        });
        yield return Case("weights that are not an initializer", "takes its weights from 'nowhere'", g => g.Output(g.Node("MatMul", ["x", "nowhere"], "z")));
        yield return Case("raw data of the wrong length", "with 8 bytes of data for 48 floats", g =>
        {
            g.Initializer("w", [Width, Classes]);
            g.Model.Graph.Initializer[^1].RawData = ByteString.CopyFrom(new byte[8]);
            return g.Output(g.Node("MatMul", ["x", "w"], "z"));
        });
        yield return Case("external data", "from external data", g =>
        {
            g.Initializer("w", [Width, Classes]);
            g.Model.Graph.Initializer[^1].DataLocation = TensorProto.Types.DataLocation.External;
            return g.Output(g.Node("MatMul", ["x", "w"], "z"));
        });
        yield return Case("Gemm with alpha", "has alpha or beta other than 1", g => g.Output(g.Node("Gemm", ["x", g.Initializer("w", [Width, Classes])], "z", ("alpha", 2f))));
        yield return Case("a NaN weight", "a weight or bias is NaN or infinite", g =>
            g.Output(g.Node("MatMul", ["x", g.Initializer("w", [Width, Classes], values: Enumerable.Repeat(float.NaN, Width * Classes).ToArray())], "z")));
        yield return Case("one class", "a classifier needs at least 2 classes", g => g.Output(g.Node("MatMul", ["x", g.Initializer("w", [Width, 1])], "z"), 1));

        static object[] Case(string what, string message, Func<Graph, byte[]> build) => [what, message, build(new Graph())];
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Unsupported_graphs_are_refused_with_one_line_naming_the_reason(string what, string message, byte[] onnx)
    {
        var e = Assert.Throws<EngineException>(() => OnnxImport.FromBytes(onnx, "m.onnx"));
        Assert.Contains(message, e.Message);
        Assert.StartsWith("m.onnx: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.NotNull(what);
    }

    [Fact]
    public void Bytes_that_are_not_an_ONNX_model_are_refused()
    {
        var g = new Graph();
        byte[] good = g.Output(g.Node("MatMul", ["x", g.Initializer("w", [Width, Classes])], "z"));
        foreach (int cut in new[] { 1, 7, good.Length / 2, good.Length - 1 })
        {
            var e = Assert.Throws<EngineException>(() => OnnxImport.FromBytes(good[..cut], "cut.onnx"));
            Assert.StartsWith("cut.onnx: ", e.Message);
        }
        Assert.Throws<EngineException>(() => OnnxImport.FromBytes("not a model at all"u8.ToArray(), "text.onnx"));
        Assert.Throws<EngineException>(() => OnnxImport.FromBytes([], "empty.onnx"));
        string dir = System.IO.Path.Combine(_dir.Path, "a-directory.onnx");
        Directory.CreateDirectory(dir);
        Assert.Contains("is a directory", Assert.Throws<EngineException>(() => OnnxImport.Read(dir)).Message);
    }
}
