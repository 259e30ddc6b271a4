using Engine.Data;
using Engine.Kernels;
using Engine.Nn;

namespace Engine.Serialization;

/// <summary>
/// Writes a model as a standard ONNX file (ModelProto, IR version 8, default-domain opset 13, producer
/// "engine") that ONNX Runtime and the serving systems built on it can run. The graph:
/// <code>
/// input "input"          float32 [batch, InputWidth]   (dim_param "batch")
/// scaling                Div(input, scale_divisor)                         x / divisor
///                        or Div(Sub(input, scale_mean), scale_std)         (x − mean) / std, per feature
/// layer i = 1…L          z_i = Add(MatMul(a_{i−1}, W{i}), b{i})            W{i} [fanIn, fanOut], b{i} [fanOut]
///                        a_i = Tanh | Relu | Sigmoid (z_i) for hidden layers; z_L is "logits"
/// output "probabilities" Softmax(logits, axis = 1)     float32 [batch, ClassCount]
/// </code>
/// The scaling ops are the engine's own arithmetic in the engine's order (a true division, not a
/// multiplication by a reciprocal; subtract, then divide), and MatMul then Add rounds like the engine's
/// z = x·W, then z += b. Weights are initializers stored as raw little-endian float32, named as in the
/// .npz export (W1, b1, W2, …).
/// The protobuf is encoded by hand (<see cref="ProtobufWriter"/>) so that the library takes no
/// protobuf or ONNX package dependency: the subset needed for one small graph is a few varints and
/// length-delimited fields. Field numbers follow onnx/onnx.proto.
/// </summary>
internal static class OnnxExport
{
    public const long IrVersion = 8;
    public const long OpsetVersion = 13;
    public const string ProducerName = "engine";
    public const string InputName = "input";
    public const string OutputName = "probabilities";
    public const string BatchDimension = "batch";

    /// <summary>Writes the ONNX file atomically: an interrupted or failed export leaves any previous file as it was.</summary>
    public static void Write(string path, Model model) => AtomicFile.Write(path, stream => stream.Write(ToBytes(model)));

    /// <summary>The serialized ONNX ModelProto.</summary>
    public static byte[] ToBytes(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var net = model.Network;
        var scaling = model.Scaling;
        if (scaling.Mode == InputScaling.Kind.Standardize && scaling.Mean.Length != net.InputWidth)
            throw new EngineException($"the input scaling was fitted on {scaling.Mean.Length} features, the network takes {net.InputWidth}");
        long payload = 4L * net.Parameters.Length + 8L * scaling.Mean.Length;
        if (payload > ProtobufWriter.MaxMessageBytes - (1 << 20))
            throw new EngineException($"{net.Describe()} has {payload:N0} bytes of weights; one ONNX file holds under 2 GiB (external data is not supported)");

        var graph = new ProtobufWriter(checked((int)payload + 4096));
        var initializers = new List<(string Name, long[] Dims, ReadOnlyMemory<float> Values)>();

        // Scaling: the same operations, in the same order, as InputScaling.Apply.
        if (scaling.Mode == InputScaling.Kind.Divide)
        {
            initializers.Add(("scale_divisor", [], new[] { scaling.Divisor }));
            Node(graph, "Div", "scale", [InputName, "scale_divisor"], "scaled");
        }
        else
        {
            initializers.Add(("scale_mean", [scaling.Mean.Length], scaling.Mean));
            initializers.Add(("scale_std", [scaling.Std.Length], scaling.Std));
            Node(graph, "Sub", "center", [InputName, "scale_mean"], "centered");
            Node(graph, "Div", "scale", ["centered", "scale_std"], "scaled");
        }
        string x = "scaled";

        for (int l = 0; l < net.Layers.Count; l++)
        {
            var layer = net.Layers[l];
            int n = l + 1;
            bool last = n == net.Layers.Count;
            string w = $"W{n}", b = $"b{n}", product = $"matmul{n}", z = last ? "logits" : $"z{n}";
            initializers.Add((w, [layer.FanIn, layer.FanOut], net.Parameters.AsMemory(layer.WeightOffset, layer.WeightCount)));
            initializers.Add((b, [layer.FanOut], net.Parameters.AsMemory(layer.BiasOffset, layer.FanOut)));
            Node(graph, "MatMul", $"layer{n}_matmul", [x, w], product);
            Node(graph, "Add", $"layer{n}_bias", [product, b], z);
            x = z;
            if (!last)
            {
                x = $"a{n}";
                Node(graph, OpType(layer.Activation), $"layer{n}_{layer.Activation.Name()}", [z], x);
            }
        }
        // Softmax (opset 13) over the classes: attribute axis = 1, an INT.
        Node(graph, "Softmax", "softmax", [x], OutputName, node => node.Message(5, attribute => attribute
            .String(1, "axis")      // AttributeProto.name
            .Int64(3, 1)            // AttributeProto.i
            .Int64(20, 2)));        // AttributeProto.type = INT

        graph.String(2, "engine_mlp");                                                  // GraphProto.name
        foreach (var (name, dims, values) in initializers)                              // GraphProto.initializer
            graph.Message(5, t => Tensor(t, name, dims, values.Span), capacity: 4 * values.Length + 64);
        graph.String(10, $"{net.Describe()}; inputs {scaling.Describe()}; outputs softmax probabilities"); // GraphProto.doc_string
        graph.Message(11, v => Value(v, InputName, net.InputWidth));                   // GraphProto.input
        graph.Message(12, v => Value(v, OutputName, net.ClassCount));                  // GraphProto.output

        var file = new ProtobufWriter(graph.Length + 64);
        file.Int64(1, IrVersion);           // ModelProto.ir_version
        file.String(2, ProducerName);       // ModelProto.producer_name
        file.Message(7, graph);             // ModelProto.graph
        file.Message(8, opset => opset      // ModelProto.opset_import
            .String(1, "")                  // OperatorSetIdProto.domain: the default ONNX domain
            .Int64(2, OpsetVersion));       // OperatorSetIdProto.version
        return file.ToArray();
    }

    static string OpType(Activation activation) => activation switch
    {
        Activation.Tanh => "Tanh",
        Activation.Relu => "Relu",
        Activation.Sigmoid => "Sigmoid",
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "not a hidden-layer activation"),
    };

    /// <summary>GraphProto.node (field 1): a NodeProto in the default domain.</summary>
    static void Node(ProtobufWriter graph, string opType, string name, string[] inputs, string output, Action<ProtobufWriter>? attributes = null) =>
        graph.Message(1, node =>
        {
            foreach (string input in inputs) node.String(1, input); // NodeProto.input
            node.String(2, output);                                   // NodeProto.output
            node.String(3, name);                                     // NodeProto.name
            node.String(4, opType);                                   // NodeProto.op_type
            attributes?.Invoke(node);                                 // NodeProto.attribute (5)
        });

    /// <summary>A float32 TensorProto with raw_data.</summary>
    static void Tensor(ProtobufWriter tensor, string name, ReadOnlySpan<long> dims, ReadOnlySpan<float> values)
    {
        foreach (long d in dims) tensor.Int64(1, d);   // TensorProto.dims
        tensor.Int64(2, 1);                            // TensorProto.data_type = FLOAT
        tensor.String(8, name);                        // TensorProto.name
        tensor.FloatsAsBytes(9, values);               // TensorProto.raw_data, little-endian float32
    }

    /// <summary>A ValueInfoProto for a float32 tensor of shape [batch, width].</summary>
    static void Value(ProtobufWriter value, string name, int width)
    {
        value.String(1, name);                          // ValueInfoProto.name
        value.Message(2, type => type                   // ValueInfoProto.type: TypeProto
            .Message(1, tensor => tensor                // TypeProto.tensor_type
                .Int64(1, 1)                            // TypeProto.Tensor.elem_type = FLOAT
                .Message(2, shape => shape              // TypeProto.Tensor.shape: TensorShapeProto
                    .Message(1, dim => dim.String(2, BatchDimension))   // dim { dim_param }
                    .Message(1, dim => dim.Int64(1, width)))));         // dim { dim_value }
    }
}
