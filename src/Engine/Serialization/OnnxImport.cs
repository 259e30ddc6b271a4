using Engine.Data;
using Engine.Kernels;
using Engine.Nn;
using Engine.Serialization.Onnx.Proto;
using Google.Protobuf;

namespace Engine.Serialization;

/// <summary>
/// Reads the fully-connected classifiers that real ONNX exporters write into an engine model: one float input
/// ([batch, features], or [batch, c, h, w] with a Flatten or Reshape first), optional input scaling in the engine's own
/// form (Div by a constant, or Sub then Div, as <see cref="OnnxExport"/> writes it), then dense layers — Gemm (PyTorch's
/// torch.onnx.export: transB = 1, W as (out, in)) or MatMul with an optional Add (Keras/tf2onnx, and the engine's
/// export: W as (in, out)) — with one of Relu, Tanh or Sigmoid between them, the same for every hidden layer, and
/// Softmax, LogSoftmax or nothing at the end (the engine's model gives softmax probabilities in every case; classes are
/// the same). Identity and Dropout (a no-op at inference) pass through. Shape arithmetic that only feeds a Reshape's
/// shape (Shape, Gather, Unsqueeze, Concat, Constant, …) is skipped. Anything else is refused with one line that names
/// the node, its op and why.
/// Parsing is Google.Protobuf's over the whole file in memory (it checks every length against the bytes it has); the
/// file size is checked before it is read.
/// </summary>
internal static class OnnxImport
{
    /// <summary>Opsets of the default domain whose semantics for the ops above this reader implements.</summary>
    public const int MinOpset = 9, MaxOpset = 21;

    /// <summary>One protobuf message holds less than 2 GiB; ONNX's external-data files are not read.</summary>
    const long MaxFileBytes = int.MaxValue;

    /// <summary>Ops whose outputs may only feed a Reshape's shape input (or each other).</summary>
    static readonly HashSet<string> ShapeOps = ["Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Constant", "Slice", "Cast", "ConstantOfShape"];

    public static Model Read(string path)
    {
        var info = new FileInfo(path);
        if (Directory.Exists(path)) throw new EngineException($"{path}: is a directory, not an ONNX file");
        if (!info.Exists) throw new EngineException($"{path}: file not found");
        if (info.Length > MaxFileBytes) throw new EngineException($"{path}: {info.Length:N0} bytes is more than one ONNX protobuf can hold (2 GiB)");
        // A protobuf message starts with a field tag: field number 1 or more, wire type varint, 64-bit, length or 32-bit.
        return FromBytes(SpanReader.ReadFile(path, "ONNX file", 1, head => head[0] >= 0x08 && (head[0] & 7) is 0 or 1 or 2 or 5), path);
    }

    public static Model FromBytes(byte[] bytes, string name)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new EngineException($"{name}: not an ONNX model ({e.Message})");
        }
        if (model.Graph is null || model.Graph.Node.Count == 0) throw new EngineException($"{name}: not an ONNX model (no graph)");
        return new GraphReader(model, name).Read();
    }

    /// <summary>Walks one graph from its input to its output, collecting the layers.</summary>
    sealed class GraphReader(ModelProto model, string name)
    {
        readonly GraphProto _graph = model.Graph;
        readonly Dictionary<string, TensorProto> _constants = [];
        readonly List<LayerWeights> _layers = [];
        readonly List<string> _activations = []; // after each layer but the last
        InputScaling _scaling = InputScaling.Divide(1f);
        string _current = "";
        int _width;          // features per row of the current value
        bool _afterActivation = true, _ended;
        bool _biasSet;       // the last layer has its bias (from Gemm's C or an Add)

        public Model Read()
        {
            CheckOpset();
            foreach (var tensor in _graph.Initializer) _constants[tensor.Name] = tensor;
            foreach (var node in _graph.Node)
                if (node.OpType == "Constant" && node.Output.Count == 1 && node.Attribute.FirstOrDefault(a => a.Name == "value")?.T is { } t)
                    _constants[node.Output[0]] = t;

            var inputs = _graph.Input.Where(i => !_constants.ContainsKey(i.Name)).ToList();
            if (inputs.Count != 1)
                throw Refuse($"the graph has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => i.Name))}); the engine's models take one");
            if (_graph.Output.Count != 1)
                throw Refuse($"the graph has {_graph.Output.Count} outputs ({string.Join(", ", _graph.Output.Select(o => o.Name))}); the engine's models give one");
            _current = inputs[0].Name;
            _width = InputWidth(inputs[0]);

            var shapeSide = ShapeSideTensors();
            foreach (var node in _graph.Node)
            {
                if (node.OpType == "Constant" || (node.Output.Count > 0 && node.Output.All(shapeSide.Contains))) continue;
                Step(node);
            }
            if (_current != _graph.Output[0].Name)
                throw Refuse($"the graph's output '{_graph.Output[0].Name}' is not the end of the chain of layers ('{_current}')");
            if (_layers.Count == 0) throw Refuse("the graph has no dense layer (Gemm or MatMul)");
            if (_activations.Count == _layers.Count)
                throw Refuse($"{_activations[^1]} follows the last dense layer; the engine's output layer gives its logits to a softmax");
            return Build();
        }

        void CheckOpset()
        {
            var opset = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx");
            if (opset is null) throw Refuse("the model imports no opset of the default ONNX domain");
            if (opset.Version < MinOpset || opset.Version > MaxOpset)
                throw Refuse($"opset {opset.Version} is not supported (opsets {MinOpset} to {MaxOpset} are)");
        }

        /// <summary>Features per row from the input's declared type: the product of every dimension after the batch.</summary>
        int InputWidth(ValueInfoProto input)
        {
            var type = input.Type?.TensorType;
            if (type is null) throw Refuse($"input '{input.Name}' is not a tensor");
            if (type.ElemType != (int)TensorProto.Types.DataType.Float)
                throw Refuse($"input '{input.Name}' has element type {(TensorProto.Types.DataType)type.ElemType}; the engine reads float32");
            var dims = type.Shape?.Dim;
            if (dims is null || dims.Count < 2) throw Refuse($"input '{input.Name}' has no shape [batch, features, …]");
            long width = 1;
            foreach (var dim in dims.Skip(1))
            {
                if (!dim.HasDimValue || dim.DimValue <= 0) throw Refuse($"input '{input.Name}' has a feature dimension without a fixed size");
                width *= dim.DimValue;
                if (width > Limits.MaxWidth) throw Refuse($"input '{input.Name}' has more than {Limits.MaxWidth:N0} features, the most a model holds");
            }
            return (int)width;
        }

        /// <summary>
        /// Outputs of shape arithmetic (PyTorch's x.view(x.size(0), -1) exports Shape, Gather, Unsqueeze, Concat) whose
        /// every use is another such output or a Reshape's shape input: the largest such set, found by starting from
        /// every shape op's outputs and dropping any with another use until nothing changes.
        /// </summary>
        HashSet<string> ShapeSideTensors()
        {
            var side = _graph.Node.Where(n => ShapeOps.Contains(n.OpType)).SelectMany(n => n.Output).ToHashSet();
            side.Remove(_graph.Output[0].Name);
            for (bool changed = true; changed;)
            {
                changed = false;
                foreach (var node in _graph.Node)
                    for (int i = 0; i < node.Input.Count; i++)
                    {
                        string input = node.Input[i];
                        if (!side.Contains(input)) continue;
                        bool shapeUse = (node.OpType == "Reshape" && i == 1) || (ShapeOps.Contains(node.OpType) && node.Output.All(side.Contains));
                        if (!shapeUse) { side.Remove(input); changed = true; }
                    }
            }
            return side;
        }

        void Step(NodeProto node)
        {
            if (_ended) throw Refuse(node, $"comes after the softmax at the end");
            if (node.Input.Count == 0 || !node.Input.Contains(_current))
                throw Refuse(node, $"does not continue the chain from the input (it reads {Names(node.Input)}, the chain is at '{_current}')");
            switch (node.OpType)
            {
                case "Identity" or "Dropout":
                    Continue(node);
                    break;
                case "Flatten":
                    if (Int(node, "axis", 1) != 1) throw Refuse(node, "flattens from an axis other than 1");
                    Continue(node);
                    break;
                case "Reshape":
                    if (node.Input.Count != 2 || node.Input[0] != _current) throw Refuse(node, "reshapes something other than the chain");
                    if (_constants.TryGetValue(node.Input[1], out var shape))
                    {
                        long[] dims = Int64s(shape, node);
                        if (dims.Length != 2 || (dims[1] != -1 && dims[1] != _width))
                            throw Refuse(node, $"reshapes to ({string.Join(", ", dims)}), not (batch, {_width})");
                    }
                    Continue(node);
                    break;
                case "Sub" or "Div":
                    Scaling(node);
                    break;
                case "Gemm":
                    Gemm(node);
                    break;
                case "MatMul":
                    MatMul(node);
                    break;
                case "Add":
                    Bias(node);
                    break;
                case "Relu" or "Tanh" or "Sigmoid":
                    if (_afterActivation) throw Refuse(node, _layers.Count == 0 ? "comes before the first layer" : "follows another activation");
                    _activations.Add(node.OpType);
                    _afterActivation = true;
                    Continue(node);
                    break;
                case "Softmax" or "LogSoftmax":
                    if (_afterActivation || _layers.Count == 0) throw Refuse(node, "does not follow the last dense layer");
                    long axis = Int(node, "axis", model.OpsetImport.First(o => o.Domain is "" or "ai.onnx").Version >= 13 ? -1 : 1);
                    if (axis is not (1 or -1)) throw Refuse(node, $"normalises over axis {axis}, not the classes (axis 1)");
                    Continue(node);
                    _ended = true;
                    break;
                default:
                    throw Refuse(node, "is not a dense layer, an activation, a flatten or a softmax the engine can run");
            }
        }

        void Continue(NodeProto node)
        {
            if (node.Output.Count < 1) throw Refuse(node, "has no output");
            _current = node.Output[0];
        }

        /// <summary>Div by a constant (the engine's divide scaling), or Sub of a per-feature mean then Div (standardize).</summary>
        void Scaling(NodeProto node)
        {
            if (_layers.Count > 0) throw Refuse(node, "is arithmetic between layers, not input scaling in front of the first");
            if (node.Input.Count != 2 || node.Input[0] != _current || !_constants.TryGetValue(node.Input[1], out var constant))
                throw Refuse(node, "is not the input divided by (or minus) a constant");
            float[] values = Floats(constant, node);
            bool scalar = values.Length == 1, perFeature = values.Length == _width;
            if (!scalar && !perFeature) throw Refuse(node, $"uses {values.Length} constants for {_width} features");
            float[] Spread() => scalar ? Enumerable.Repeat(values[0], _width).ToArray() : values;
            if (node.OpType == "Sub")
            {
                if (_scaling.Mode != InputScaling.Kind.Divide || _scaling.Divisor != 1f) throw Refuse(node, "subtracts after the input was already scaled");
                _scaling = InputScaling.Standardize(Spread(), Enumerable.Repeat(1f, _width).ToArray());
            }
            else if (_scaling.Mode == InputScaling.Kind.Standardize)
            {
                if (_scaling.Std.Any(s => s != 1f)) throw Refuse(node, "divides twice");
                _scaling = Guarded(node, () => InputScaling.Standardize(_scaling.Mean, Spread()));
            }
            else if (_scaling.Divisor != 1f) throw Refuse(node, "divides twice");
            else _scaling = Guarded(node, () => scalar ? InputScaling.Divide(values[0]) : InputScaling.Standardize(new float[_width], values));
            Continue(node);
        }

        void Gemm(NodeProto node)
        {
            RequireLayerStart(node);
            if (node.Input[0] != _current) throw Refuse(node, "multiplies the chain from the right");
            if (Int(node, "transA", 0) != 0) throw Refuse(node, "has transA = 1");
            if (Float(node, "alpha", 1f) != 1f || Float(node, "beta", 1f) != 1f) throw Refuse(node, "has alpha or beta other than 1");
            var (w, rows, cols) = Matrix(node, node.Input.Count > 1 ? node.Input[1] : "");
            bool transB = Int(node, "transB", 0) != 0;
            int fanIn = transB ? cols : rows, fanOut = transB ? rows : cols;
            float[] weights = transB ? Transposed(w, rows, cols) : w;
            bool hasBias = node.Input.Count > 2 && node.Input[2] != "";
            AddLayer(node, weights, fanIn, fanOut, hasBias ? BiasValues(node, node.Input[2], fanOut) : new float[fanOut]);
            _biasSet = hasBias;
            Continue(node);
        }

        void MatMul(NodeProto node)
        {
            RequireLayerStart(node);
            if (node.Input.Count != 2 || node.Input[0] != _current) throw Refuse(node, "multiplies the chain from the right");
            var (w, rows, cols) = Matrix(node, node.Input[1]);
            AddLayer(node, w, rows, cols, new float[cols]);
            Continue(node);
        }

        /// <summary>Add of a bias vector right after a MatMul.</summary>
        void Bias(NodeProto node)
        {
            if (_afterActivation || _layers.Count == 0 || _biasSet)
                throw Refuse(node, "is not a bias added to a MatMul's product");
            string other = node.Input.Count == 2 ? (node.Input[0] == _current ? node.Input[1] : node.Input[0]) : "";
            var layer = _layers[^1];
            BiasValues(node, other, layer.FanOut).CopyTo(layer.Bias, 0);
            _biasSet = true;
            Continue(node);
        }

        void RequireLayerStart(NodeProto node)
        {
            if (!_afterActivation)
                throw Refuse(node, $"follows layer {_layers.Count} without an activation between them");
        }

        void AddLayer(NodeProto node, float[] weights, int fanIn, int fanOut, float[] bias)
        {
            if (fanIn != _width) throw Refuse(node, $"takes {fanIn} inputs, the layer before gives {_width}");
            if (fanOut > Limits.MaxWidth) throw Refuse(node, $"gives {fanOut:N0} outputs, more than the {Limits.MaxWidth:N0} a model holds");
            _layers.Add(new LayerWeights(fanIn, fanOut, weights, bias));
            _width = fanOut;
            _afterActivation = false;
            _biasSet = false;
        }

        Model Build()
        {
            var distinct = _activations.Distinct().ToList();
            if (distinct.Count > 1) throw Refuse($"the hidden layers use {string.Join(" and ", distinct)}; the engine uses one activation for all");
            // Layers only start after an activation (RequireLayerStart), so there is one per hidden layer.
            Activation activation = Activation.Tanh; // a single-layer model has no hidden activation; any will do
            if (distinct.Count == 1) ActivationNames.TryParse(distinct[0], out activation);
            if (_scaling.Width is int features && features != _layers[0].FanIn)
                throw Refuse($"the input scaling has {features} features, the first layer takes {_layers[0].FanIn}");
            // No LayerNames: a layer's values come from two initializers (Gemm's B and C, or MatMul's and Add's), so a NaN is "a weight or bias".
            return new Model(Network.FromLayers(_layers, activation, name), _scaling);
        }

        (float[] Values, int Rows, int Cols) Matrix(NodeProto node, string input)
        {
            if (!_constants.TryGetValue(input, out var tensor)) throw Refuse(node, $"takes its weights from '{input}', which is not an initializer");
            if (tensor.Dims.Count != 2) throw Refuse(node, $"has weights '{input}' of shape ({string.Join(", ", tensor.Dims)}), not a matrix");
            if (tensor.Dims[0] <= 0 || tensor.Dims[1] <= 0 || tensor.Dims[0] > int.MaxValue || tensor.Dims[1] > int.MaxValue)
                throw Refuse(node, $"has weights '{input}' of shape ({string.Join(", ", tensor.Dims)})");
            return (Floats(tensor, node), (int)tensor.Dims[0], (int)tensor.Dims[1]);
        }

        float[] BiasValues(NodeProto node, string input, int fanOut)
        {
            if (!_constants.TryGetValue(input, out var tensor)) throw Refuse(node, $"adds '{input}', which is not an initializer");
            long count = tensor.Dims.Aggregate(1L, (a, d) => a * d);
            bool vector = tensor.Dims.Count == 1 || (tensor.Dims.Count == 2 && tensor.Dims[0] == 1);
            if (!vector || count != fanOut) throw Refuse(node, $"adds '{input}' of shape ({string.Join(", ", tensor.Dims)}), not a bias of {fanOut}");
            return Floats(tensor, node);
        }

        /// <summary>A float32 tensor's values from raw_data (little-endian) or float_data, its length checked against its dims.</summary>
        float[] Floats(TensorProto tensor, NodeProto node)
        {
            if (tensor.DataType != (int)TensorProto.Types.DataType.Float)
                throw Refuse(node, $"reads '{tensor.Name}' of type {(TensorProto.Types.DataType)tensor.DataType}, not float32");
            if (tensor.DataLocation == TensorProto.Types.DataLocation.External) throw Refuse(node, $"reads '{tensor.Name}' from external data, which is not supported");
            long count = 1;
            foreach (long d in tensor.Dims)
            {
                if (d < 0) throw Refuse(node, $"reads '{tensor.Name}' with a negative dimension");
                count *= d;
                if (count > int.MaxValue / 4) throw Refuse(node, $"reads '{tensor.Name}' with more elements than a file can hold");
            }
            if (tensor.HasRawData)
            {
                if (tensor.RawData.Length != 4 * count) throw Refuse(node, $"reads '{tensor.Name}' with {tensor.RawData.Length} bytes of data for {count} floats");
                var values = new float[count];
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).CopyTo(values);
                if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts");
                return values;
            }
            if (tensor.FloatData.Count != count) throw Refuse(node, $"reads '{tensor.Name}' with {tensor.FloatData.Count} values for {count} elements");
            return tensor.FloatData.ToArray();
        }

        long[] Int64s(TensorProto tensor, NodeProto node)
        {
            if (tensor.DataType != (int)TensorProto.Types.DataType.Int64) throw Refuse(node, $"reads a shape '{tensor.Name}' that is not int64");
            if (tensor.HasRawData)
            {
                if (tensor.RawData.Length % 8 != 0 || tensor.RawData.Length > 64) throw Refuse(node, $"reads a malformed shape '{tensor.Name}'");
                return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(tensor.RawData.Span).ToArray();
            }
            if (tensor.Int64Data.Count > 8) throw Refuse(node, $"reads a malformed shape '{tensor.Name}'");
            return tensor.Int64Data.ToArray();
        }

        static long Int(NodeProto node, string attribute, long fallback) =>
            node.Attribute.FirstOrDefault(a => a.Name == attribute) is { } a ? a.I : fallback;

        static float Float(NodeProto node, string attribute, float fallback) =>
            node.Attribute.FirstOrDefault(a => a.Name == attribute) is { } a ? a.F : fallback;

        static float[] Transposed(float[] m, int rows, int cols)
        {
            var t = new float[m.Length];
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
            return t;
        }

        InputScaling Guarded(NodeProto node, Func<InputScaling> make)
        {
            try { return make(); }
            catch (EngineException e) { throw Refuse(node, e.Message); }
        }

        static string Names(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));

        EngineException Refuse(string why) => new($"{name}: {why}");

        EngineException Refuse(NodeProto node, string why) =>
            new($"{name}: node '{(node.Name == "" ? string.Join(",", node.Output) : node.Name)}' ({node.OpType}) {why}");
    }
}
