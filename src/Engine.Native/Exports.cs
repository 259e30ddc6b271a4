using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Engine.Data;
using Engine.Kernels;
using Engine.Numerics;
using Engine.Training;

namespace Engine.Native;

/// <summary>
/// The C ABI declared in include/engine.h. Every export catches everything: a status code and a thread-local
/// message cross the boundary, never an exception. Models live in a handle table, so a stale or made-up handle
/// is an error, not a crash. Only the library's public API is used.
/// </summary>
static unsafe class Exports
{
    const int Ok = 0, ErrorArgument = 1, ErrorData = 2, ErrorInternal = 3;

    sealed class ArgumentError(string message) : Exception(message);

    sealed class Handle(Classifier model)
    {
        public readonly Classifier Model = model;
        public readonly Lock Gate = new();
    }

    static readonly ConcurrentDictionary<long, Handle> Models = new();
    static long _nextHandle;
    static readonly ConcurrentDictionary<int, (IKernels Kernels, Lock Gate)> GemmBackends = new();
    static readonly byte* VersionUtf8 = Utf8(typeof(Classifier).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0");
    static readonly byte* Empty = Utf8("");

    [ThreadStatic] static nint _lastError;

    static byte* Utf8(string s) => (byte*)Marshal.StringToCoTaskMemUTF8(s);

    static void SetError(string? message)
    {
        if (_lastError != 0) Marshal.FreeCoTaskMem(_lastError);
        _lastError = message is null ? 0 : (nint)Utf8(message.ReplaceLineEndings(" "));
    }

    /// <summary>Runs <paramref name="body"/>, turning every exception into a status code and a message.</summary>
    static int Call(Func<int> body)
    {
        SetError(null);
        try { return body(); }
        catch (ArgumentError e) { SetError(e.Message); return ErrorArgument; }
        catch (EngineException e) { SetError(e.Message); return ErrorData; }
        catch (Exception e) { SetError($"internal error: {e.GetType().Name}: {e.Message}"); return ErrorInternal; }
    }

    static void Require(bool condition, string message)
    {
        if (!condition) throw new ArgumentError(message);
    }

    static string? Text(byte* utf8) => utf8 is null ? null : Marshal.PtrToStringUTF8((nint)utf8);

    static ComputeOptions Compute(byte* backend, int threads)
    {
        string name = (Text(backend) ?? Backends.Default).Trim().ToLowerInvariant();
        Require(Backends.Names.Contains(name), $"backend must be one of {string.Join(", ", Backends.Names)}, got '{name}'");
        Require(threads >= 1 && threads <= Limits.MaxThreads, $"threads must be 1..{Limits.MaxThreads}, got {threads}");
        return new ComputeOptions(name, threads);
    }

    static long Register(Classifier model)
    {
        long id = Interlocked.Increment(ref _nextHandle);
        Models[id] = new Handle(model);
        return id;
    }

    static Handle Find(long model) =>
        Models.TryGetValue(model, out var h) ? h : throw new ArgumentError($"model handle {model} is not a live model (never created, or freed)");

    /// <summary>Copies rows × cols caller floats after checking the sizes against the model.</summary>
    static float[] Features(Handle h, float* x, long rows, int cols) => FeatureSpan(h, x, rows, cols).ToArray();

    /// <summary>The caller's rows, checked: x not NULL, 1..int.MaxValue rows of the model's width.</summary>
    static ReadOnlySpan<float> FeatureSpan(Handle h, float* x, long rows, int cols)
    {
        Require(x is not null, "x is NULL");
        Require(rows >= 1 && rows <= int.MaxValue, $"rows must be 1..{int.MaxValue}, got {rows}");
        Require(cols == h.Model.InputWidth, $"cols is {cols}, the model takes {h.Model.InputWidth} features");
        Require(rows * cols <= Array.MaxLength, $"{rows} x {cols} features are more than one array can hold");
        return new ReadOnlySpan<float>(x, checked((int)(rows * cols)));
    }

    static int[] Labels(Handle h, int* y, long rows)
    {
        Require(y is not null, "y is NULL");
        var labels = new ReadOnlySpan<int>(y, (int)rows).ToArray();
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)h.Model.ClassCount)
                throw new EngineException($"y[{i}] = {labels[i]} is not a class 0..{h.Model.ClassCount - 1}");
        return labels;
    }

    [UnmanagedCallersOnly(EntryPoint = "engine_version")]
    static byte* Version() => VersionUtf8;

    [UnmanagedCallersOnly(EntryPoint = "engine_last_error")]
    static byte* LastError() => _lastError == 0 ? Empty : (byte*)_lastError;

    [UnmanagedCallersOnly(EntryPoint = "engine_create")]
    static int Create(byte* spec, float inputDivisor, ulong seed, byte* backend, int threads, long* outModel) => Call(() =>
    {
        Require(outModel is not null, "out_model is NULL");
        string text = Text(spec) ?? throw new ArgumentError("spec is NULL");
        var scaling = Divisor(inputDivisor);
        var (widths, activation) = ParseSpec(text);
        var model = Classifier.Create(widths[0], widths[1..^1], widths[^1], activation, scaling, seed, Compute(backend, threads));
        *outModel = Register(model);
        return Ok;
    });

    /// <summary>x / input_divisor, for engine_create and the imports that take a divisor.</summary>
    static InputScaling Divisor(float inputDivisor)
    {
        Require(float.IsFinite(inputDivisor) && inputDivisor > 0, $"input_divisor must be a positive finite number, got {inputDivisor.ToString(CultureInfo.InvariantCulture)}");
        return InputScaling.Divide(inputDivisor);
    }

    /// <summary>"784-128-10 tanh" → widths and hidden activation.</summary>
    static (int[] Widths, Activation Activation) ParseSpec(string spec)
    {
        string[] words = spec.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Require(words.Length is 1 or 2, $"spec '{spec}' is not like \"784-128-10 tanh\"");
        var activation = Activation.Tanh;
        Require(words.Length == 1 || (ActivationNames.TryParse(words[1], out activation) && activation != Activation.Identity),
                $"spec '{spec}': the activation must be tanh, relu or sigmoid");
        string[] parts = words[0].Split('-');
        var widths = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            Require(int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out widths[i]) && widths[i] >= 1 && widths[i] <= 1 << 20,
                    $"spec '{spec}': '{parts[i]}' is not a layer width");
        Require(widths.Length >= 2 && widths[^1] >= 2, $"spec '{spec}' needs an input width and at least 2 classes");
        return (widths, activation);
    }

    [UnmanagedCallersOnly(EntryPoint = "engine_load")]
    static int Load(byte* path, byte* backend, int threads, long* outModel) => Call(() =>
    {
        Require(outModel is not null, "out_model is NULL");
        string file = Text(path) ?? throw new ArgumentError("path is NULL");
        *outModel = Register(Classifier.Load(file, Compute(backend, threads)));
        return Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "engine_import_onnx")]
    static int ImportOnnx(byte* path, byte* backend, int threads, long* outModel) => Call(() =>
    {
        Require(outModel is not null, "out_model is NULL");
        string file = Text(path) ?? throw new ArgumentError("path is NULL");
        *outModel = Register(Classifier.ImportOnnx(file, Compute(backend, threads)));
        return Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "engine_import_safetensors")]
    static int ImportSafetensors(byte* path, byte* activation, float inputDivisor, byte* backend, int threads, long* outModel) => Call(() =>
    {
        Require(outModel is not null, "out_model is NULL");
        string file = Text(path) ?? throw new ArgumentError("path is NULL");
        string name = Text(activation) ?? throw new ArgumentError("activation is NULL");
        Require(ActivationNames.TryParse(name, out var hidden), $"activation '{name}' is not tanh, relu or sigmoid");
        var scaling = Divisor(inputDivisor);
        *outModel = Register(Classifier.FromSafetensors(file, hidden, scaling, Compute(backend, threads)));
        return Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "engine_save")]
    static int Save(long model, byte* path) => Call(() => WriteFile(model, path, (m, file) => m.Save(file)));

    /// <summary>engine_save and the exports: one of the model's files written to path under the model's lock.</summary>
    static int WriteFile(long model, byte* path, Action<Classifier, string> write)
    {
        var h = Find(model);
        string file = Text(path) ?? throw new ArgumentError("path is NULL");
        lock (h.Gate) write(h.Model, file);
        return Ok;
    }

    [UnmanagedCallersOnly(EntryPoint = "engine_free")]
    static void Free(long model)
    {
        try
        {
            if (Models.TryRemove(model, out var h))
                lock (h.Gate) h.Model.Dispose();
        }
        catch (Exception e) { SetError($"internal error: {e.Message}"); }
    }

    [UnmanagedCallersOnly(EntryPoint = "engine_shape")]
    static int Shape(long model, int* outInputs, int* outClasses) => Call(() =>
    {
        var h = Find(model);
        Require(outInputs is not null && outClasses is not null, "out_inputs or out_classes is NULL");
        *outInputs = h.Model.InputWidth;
        *outClasses = h.Model.ClassCount;
        return Ok;
    });

    /// <summary>Mirrors engine_train_options in engine.h.</summary>
    [StructLayout(LayoutKind.Sequential)]
    struct TrainOptions
    {
        public int Epochs, BatchSize;
        public float LearningRate, L2;
        public ulong Seed;
        public int Shuffle;
        public delegate* unmanaged<int, double, void*, void> OnEpoch;
        public void* User;
    }

    /// <summary>Mirrors engine_optimizer_options in engine.h.</summary>
    [StructLayout(LayoutKind.Sequential)]
    struct OptimizerOptions
    {
        public int Optimizer;
        public float Momentum, Beta1, Beta2, Epsilon;
        public int Schedule, StepEpochs;
        public float Gamma, MinLearningRate;
    }

    [UnmanagedCallersOnly(EntryPoint = "engine_train")]
    static int Train(long model, float* x, int* y, long rows, int cols, TrainOptions* options, double* outMeanLoss) =>
        Call(() => TrainWith(model, x, y, rows, cols, options, null, outMeanLoss));

    [UnmanagedCallersOnly(EntryPoint = "engine_train_ex")]
    static int TrainEx(long model, float* x, int* y, long rows, int cols, TrainOptions* options, OptimizerOptions* optimizer, double* outMeanLoss) =>
        Call(() => TrainWith(model, x, y, rows, cols, options, optimizer, outMeanLoss));

    static int TrainWith(long model, float* x, int* y, long rows, int cols, TrainOptions* options, OptimizerOptions* optimizer, double* outMeanLoss)
    {
        var h = Find(model);
        return TrainWith(model, Features(h, x, rows, cols), y, rows, cols, options, optimizer, outMeanLoss);
    }

    static int TrainWith(long model, float[] features, int* y, long rows, int cols, TrainOptions* options, OptimizerOptions* optimizer, double* outMeanLoss)
    {
        var h = Find(model);
        Require(options is not null, "options is NULL");
        TrainOptions o = *options;
        var settings = new TrainingOptions(o.Epochs, o.BatchSize, o.LearningRate, o.L2, o.Seed, o.Shuffle != 0);
        if (optimizer is not null)
        {
            OptimizerOptions r = *optimizer;
            Require(Enum.IsDefined((OptimizerKind)r.Optimizer), $"optimizer {r.Optimizer} is not one of ENGINE_SGD ({(int)OptimizerKind.Sgd}) ... ENGINE_ADAMW ({(int)OptimizerKind.AdamW})");
            Require(Enum.IsDefined((ScheduleKind)r.Schedule), $"schedule {r.Schedule} is not ENGINE_CONSTANT, ENGINE_STEP or ENGINE_COSINE");
            settings = settings with
            {
                Optimizer = new Optimizer((OptimizerKind)r.Optimizer, r.Momentum, r.Beta1, r.Beta2, r.Epsilon),
                Schedule = new LearningRateSchedule((ScheduleKind)r.Schedule, r.StepEpochs, r.Gamma, r.MinLearningRate),
            };
        }
        try { settings.Validate(); } catch (EngineException e) { throw new ArgumentError(e.Message); }
        var data = new Dataset(features, Labels(h, y, rows), (int)rows, cols, "x");
        IReadOnlyList<EpochReport> reports;
        lock (h.Gate)
            reports = h.Model.Train(data, settings, onEpoch: o.OnEpoch is null ? null : r => o.OnEpoch(r.Epoch, r.TrainLoss, o.User));
        if (outMeanLoss is not null) *outMeanLoss = reports[^1].TrainLoss;
        return Ok;
    }

    [UnmanagedCallersOnly(EntryPoint = "engine_predict")]
    static int Predict(long model, float* x, long rows, int cols, float* probabilities, long capacity) => Call(() =>
    {
        var h = Find(model);
        ReadOnlySpan<float> features = FeatureSpan(h, x, rows, cols);
        Require(probabilities is not null, "probabilities is NULL");
        long needed = rows * h.Model.ClassCount;
        Require(capacity >= needed, $"probabilities holds {capacity} floats, {rows} rows x {h.Model.ClassCount} classes need {needed}");
        // Straight from the caller's rows into the caller's memory: no copy of either.
        lock (h.Gate) h.Model.PredictProbabilities(features, new Span<float>(probabilities, checked((int)needed)));
        return Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "engine_evaluate")]
    static int Evaluate(long model, float* x, int* y, long rows, int cols, double* outAccuracy, double* sensitivity, double* specificity,
                        int* confusion, int classCapacity) => Call(() =>
    {
        var h = Find(model);
        int k = h.Model.ClassCount;
        Require(outAccuracy is not null, "out_accuracy is NULL");
        Require(classCapacity >= k, $"class_capacity is {classCapacity}, the model has {k} classes");
        var data = new Dataset(Features(h, x, rows, cols), Labels(h, y, rows), (int)rows, cols, "x");
        Engine.Evaluation.EvaluationResult result;
        lock (h.Gate) result = h.Model.Evaluate(data);
        *outAccuracy = result.Accuracy;
        for (int c = 0; c < k; c++)
        {
            if (sensitivity is not null) sensitivity[c] = result.Classes[c].Sensitivity;
            if (specificity is not null) specificity[c] = result.Classes[c].Specificity;
            if (confusion is not null)
                for (int j = 0; j < k; j++) confusion[c * k + j] = result.Confusion[c][j];
        }
        return Ok;
    });

    // ---- Layouts: row-major with a row stride, or column-major (R, Fortran) with a column stride. ----

    const int RowMajor = 0, ColumnMajor = 1;

    /// <summary>
    /// The caller's rows × cols matrix in the engine's row-major order: the caller's memory itself when it already is
    /// tight row-major (<paramref name="gathered"/> null), else one gathered copy (a transpose for column-major input).
    /// </summary>
    static ReadOnlySpan<float> RowMajorFeatures(Handle h, float* x, long rows, int cols, int layout, long ld, out float[]? gathered)
    {
        Require(layout is RowMajor or ColumnMajor, $"layout must be ENGINE_ROW_MAJOR ({RowMajor}) or ENGINE_COL_MAJOR ({ColumnMajor}), got {layout}");
        ReadOnlySpan<float> tightRows = FeatureSpan(h, x, rows, cols); // checks x, rows and cols
        long tight = layout == RowMajor ? cols : rows;
        if (ld == 0) ld = tight;
        Require(ld >= tight, layout == RowMajor
            ? $"ld {ld} is below cols {cols}: rows would overlap"
            : $"ld {ld} is below rows {rows}: columns would overlap");
        gathered = null;
        if (layout == RowMajor && ld == cols) return tightRows;
        var copy = new float[rows * cols];
        if (layout == RowMajor)
            for (long i = 0; i < rows; i++)
                new ReadOnlySpan<float>(x + i * ld, cols).CopyTo(copy.AsSpan((int)(i * cols), cols));
        else
            // Column j is contiguous in the caller's memory: read it once, scatter it down column j of the copy.
            for (int j = 0; j < cols; j++)
            {
                float* column = x + j * ld;
                for (long i = 0; i < rows; i++) copy[i * cols + j] = column[i];
            }
        gathered = copy;
        return copy;
    }

    [UnmanagedCallersOnly(EntryPoint = "engine_predict_layout")]
    static int PredictLayout(long model, float* x, long rows, int cols, int layout, long ld, float* probabilities, long capacity) => Call(() =>
    {
        var h = Find(model);
        ReadOnlySpan<float> features = RowMajorFeatures(h, x, rows, cols, layout, ld, out _);
        Require(probabilities is not null, "probabilities is NULL");
        long needed = rows * h.Model.ClassCount;
        Require(capacity >= needed, $"probabilities holds {capacity} floats, {rows} rows x {h.Model.ClassCount} classes need {needed}");
        lock (h.Gate) h.Model.PredictProbabilities(features, new Span<float>(probabilities, checked((int)needed)));
        return Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "engine_train_layout")]
    static int TrainLayout(long model, float* x, int layout, long ld, int* y, long rows, int cols, TrainOptions* options, OptimizerOptions* optimizer,
                           double* outMeanLoss) => Call(() =>
    {
        var h = Find(model);
        // Training keeps the rows for the whole run (a Dataset owns its array): the gathered copy, or one copy of tight rows.
        ReadOnlySpan<float> rowMajor = RowMajorFeatures(h, x, rows, cols, layout, ld, out float[]? gathered);
        float[] features = gathered ?? rowMajor.ToArray();
        return TrainWith(model, features, y, rows, cols, options, optimizer, outMeanLoss);
    });

    // ---- Models as bytes ----

    [UnmanagedCallersOnly(EntryPoint = "engine_save_buffer")]
    static int SaveBuffer(long model, byte* buffer, nuint capacity, nuint* outSize) => Call(() =>
    {
        var h = Find(model);
        Require(outSize is not null, "out_size is NULL");
        byte[] bytes;
        lock (h.Gate) bytes = h.Model.ToBytes();
        return CopyOut(bytes, buffer, capacity, outSize, "the model");
    });

    [UnmanagedCallersOnly(EntryPoint = "engine_spec")]
    static int Spec(long model, byte* buffer, nuint capacity, nuint* outSize) => Call(() =>
    {
        var h = Find(model);
        Require(outSize is not null, "out_size is NULL");
        string spec;
        lock (h.Gate) spec = h.Model.Describe();
        return CopyOut(Encoding.UTF8.GetBytes(spec + "\0"), buffer, capacity, outSize, "the spec");
    });

    /// <summary>
    /// The caller-buffer convention of engine_save_buffer and engine_spec: *out_size gets the bytes needed, a NULL buffer
    /// asks only for that, and a shorter buffer is an argument error that leaves it untouched.
    /// </summary>
    static int CopyOut(byte[] bytes, byte* buffer, nuint capacity, nuint* outSize, string what)
    {
        *outSize = (nuint)bytes.Length;
        if (buffer is null) return Ok; // the size query
        Require(capacity >= (nuint)bytes.Length, $"buffer holds {capacity} bytes, {what} needs {bytes.Length} (*out_size)");
        bytes.CopyTo(new Span<byte>(buffer, bytes.Length));
        return Ok;
    }

    [UnmanagedCallersOnly(EntryPoint = "engine_load_buffer")]
    static int LoadBuffer(byte* data, nuint size, byte* backend, int threads, long* outModel) => Call(() =>
    {
        Require(outModel is not null, "out_model is NULL");
        Require(data is not null, "data is NULL");
        Require(size <= int.MaxValue, $"size {size} is more than a model file can be");
        var compute = Compute(backend, threads);
        *outModel = Register(Classifier.FromBytes(new ReadOnlySpan<byte>(data, (int)size), compute, "model buffer"));
        return Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "engine_export_onnx")]
    static int ExportOnnx(long model, byte* path) => Call(() => WriteFile(model, path, (m, file) => m.ExportOnnx(file)));

    [UnmanagedCallersOnly(EntryPoint = "engine_export_safetensors")]
    static int ExportSafetensors(long model, byte* path) => Call(() => WriteFile(model, path, (m, file) => m.ExportSafetensors(file)));

    // ---- Weights ----

    [UnmanagedCallersOnly(EntryPoint = "engine_layer_count")]
    static int LayerCount(long model, int* outLayers) => Call(() =>
    {
        var h = Find(model);
        Require(outLayers is not null, "out_layers is NULL");
        *outLayers = h.Model.LayerCount;
        return Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "engine_layer_shape")]
    static int LayerShape(long model, int layer, int* outFanIn, int* outFanOut) => Call(() =>
    {
        var h = Find(model);
        Require(outFanIn is not null && outFanOut is not null, "out_fan_in or out_fan_out is NULL");
        var (fanIn, fanOut) = LayerOf(h, layer);
        *outFanIn = fanIn;
        *outFanOut = fanOut;
        return Ok;
    });

    static (int FanIn, int FanOut) LayerOf(Handle h, int layer)
    {
        Require(layer >= 0 && layer < h.Model.LayerCount, $"layer {layer} does not exist: the model has layers 0..{h.Model.LayerCount - 1}");
        return h.Model.LayerShape(layer);
    }

    static void RequireRoom(string what, long have, long need, bool exact)
    {
        Require(exact ? have == need : have >= need, exact
            ? $"{what} has {have} floats, the layer has {need}"
            : $"{what} holds {have} floats, the layer has {need}");
    }

    [UnmanagedCallersOnly(EntryPoint = "engine_get_weights")]
    static int GetWeights(long model, int layer, float* weights, long weightCapacity, float* bias, long biasCapacity) => Call(() =>
    {
        var h = Find(model);
        var (fanIn, fanOut) = LayerOf(h, layer);
        Require(weights is not null && bias is not null, "weights or bias is NULL");
        RequireRoom("weights", weightCapacity, (long)fanIn * fanOut, exact: false);
        RequireRoom("bias", biasCapacity, fanOut, exact: false);
        lock (h.Gate) h.Model.GetLayer(layer, new Span<float>(weights, fanIn * fanOut), new Span<float>(bias, fanOut));
        return Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "engine_set_weights")]
    static int SetWeights(long model, int layer, float* weights, long weightCount, float* bias, long biasCount) => Call(() =>
    {
        var h = Find(model);
        var (fanIn, fanOut) = LayerOf(h, layer);
        Require(weights is not null && bias is not null, "weights or bias is NULL");
        RequireRoom("weights", weightCount, (long)fanIn * fanOut, exact: true);
        RequireRoom("bias", biasCount, fanOut, exact: true);
        try
        {
            lock (h.Gate) h.Model.SetLayer(layer, new ReadOnlySpan<float>(weights, fanIn * fanOut), new ReadOnlySpan<float>(bias, fanOut));
        }
        catch (EngineException e) { throw new ArgumentError(e.Message); }
        return Ok;
    });

    // ---- One training step ----

    /// <summary>Mirrors engine_step_options in engine.h (version 1: 32 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    struct StepOptions
    {
        public uint StructSize;
        public int Optimizer;
        public float LearningRate, L2, Momentum, Beta1, Beta2, Epsilon;
    }

    /// <summary>
    /// A versioned options struct: struct_size must cover at least version 1; fields a newer caller knows and this
    /// library does not must be zero (then they ask for nothing), else the call is refused rather than half-obeyed.
    /// </summary>
    static T ReadVersioned<T>(T* options, string name, int version1Size) where T : unmanaged
    {
        Require(options is not null, $"{name} is NULL");
        uint size = *(uint*)options;
        Require(size >= version1Size && size <= 1 << 16, $"{name}->struct_size is {size}: set it to sizeof({name}) ({sizeof(T)} in this engine.h)");
        T result = default;
        int known = Math.Min((int)size, sizeof(T));
        new ReadOnlySpan<byte>(options, known).CopyTo(new Span<byte>(&result, sizeof(T)));
        if (size > (uint)sizeof(T))
            Require(new ReadOnlySpan<byte>((byte*)options + sizeof(T), (int)size - sizeof(T)).IndexOfAnyExcept((byte)0) < 0,
                    $"{name} sets fields this library ({LibraryVersion()}) does not know: struct_size {size}, known {sizeof(T)}");
        return result;
    }

    static string LibraryVersion() => Marshal.PtrToStringUTF8((nint)VersionUtf8) ?? "?";

    [UnmanagedCallersOnly(EntryPoint = "engine_train_step")]
    static int TrainStep(long model, float* x, int* y, long rows, int cols, StepOptions* options, double* outLoss) => Call(() =>
    {
        var h = Find(model);
        StepOptions o = ReadVersioned(options, "engine_step_options", 32);
        ReadOnlySpan<float> features = FeatureSpan(h, x, rows, cols);
        int[] labels = Labels(h, y, rows);
        Require(Enum.IsDefined((OptimizerKind)o.Optimizer), $"optimizer {o.Optimizer} is not one of ENGINE_SGD ({(int)OptimizerKind.Sgd}) ... ENGINE_ADAMW ({(int)OptimizerKind.AdamW})");
        var rule = new Optimizer((OptimizerKind)o.Optimizer, o.Momentum, o.Beta1, o.Beta2, o.Epsilon);
        double loss;
        try
        {
            rule.Validate();
            new TrainingOptions(1, (int)rows, o.LearningRate, o.L2, 0, false) { Optimizer = rule }.Validate();
        }
        catch (EngineException e) { throw new ArgumentError(e.Message); }
        lock (h.Gate) loss = h.Model.TrainStep(features, labels, rule, o.LearningRate, o.L2);
        if (outLoss is not null) *outLoss = loss;
        return Ok;
    });

    // ---- Which kernels run ----

    static readonly byte*[] IsaNames = [Utf8("scalar"), Utf8("vector"), Utf8("avx2"), Utf8("avx512")];

    [UnmanagedCallersOnly(EntryPoint = "engine_instruction_set")]
    static byte* InstructionSetName()
    {
        try { return IsaNames[(int)InstructionSets.Resolve(null)]; }
        catch (Exception e) { SetError(e.Message); return Empty; }
    }

    [UnmanagedCallersOnly(EntryPoint = "engine_sgemm")]
    static int Sgemm(int transA, int transB, int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, int accumulate, int threads) => Call(() =>
    {
        Require(m >= 0 && n >= 0 && k >= 0, $"m, n, k must be >= 0, got {m}, {n}, {k}");
        Require(threads >= 1 && threads <= Limits.MaxThreads, $"threads must be 1..{Limits.MaxThreads}, got {threads}");
        bool ta = transA != 0, tb = transB != 0;
        // Stored shapes: A is m×k (k×m when transposed), B is k×n (n×k), C is m×n.
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        Require(lda >= Math.Max(1, aCols) && ldb >= Math.Max(1, bCols) && ldc >= Math.Max(1, n),
                $"leading dimensions must be at least the stored row lengths: lda {lda} >= {aCols}, ldb {ldb} >= {bCols}, ldc {ldc} >= {n}");
        if (m == 0 || n == 0) return Ok;
        Require(c is not null && (k == 0 || (a is not null && b is not null)), "a, b or c is NULL");
        var (kernels, gate) = GemmBackends.GetOrAdd(threads, t => (Backends.Create(Backends.Default, t), new Lock()));
        var av = new ReadOnlyMatrixView(new ReadOnlySpan<float>(a, Extent(aRows, aCols, lda)), aRows, aCols, lda);
        var bv = new ReadOnlyMatrixView(new ReadOnlySpan<float>(b, Extent(bRows, bCols, ldb)), bRows, bCols, ldb);
        var cv = new MatrixView(new Span<float>(c, Extent(m, n, ldc)), m, n, ldc);
        lock (gate) kernels.Gemm(ta ? Transpose.Yes : Transpose.No, tb ? Transpose.Yes : Transpose.No, av, bv, cv, accumulate != 0);
        return Ok;
    });

    /// <summary>Floats spanned by a rows × cols matrix with row stride ld (0 for an empty one).</summary>
    static int Extent(int rows, int cols, int ld)
    {
        if (rows == 0 || cols == 0) return 0;
        long floats = (long)(rows - 1) * ld + cols;
        Require(floats <= Array.MaxLength, $"a {rows} x {cols} matrix with leading dimension {ld} is too large");
        return (int)floats;
    }
}
