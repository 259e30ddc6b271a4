using Engine.Kernels;
using Engine.Nn;
using Engine.Numerics;

namespace Engine.Training;

/// <summary>
/// The optimizer's per-parameter state (velocity, or Adam's two moments) and step count, laid out like
/// <see cref="Network.Parameters"/>. A training step takes its update from <see cref="Begin"/>: a gradient sink that
/// applies the rule to each layer's weights fused into the weight-gradient product (<see cref="UpdateWeights{TRule}"/>)
/// and to its biases from the stored db. The optimizer's kind is looked at here, once per step, and nowhere else.
/// </summary>
internal sealed class OptimizerState
{
    public Optimizer Optimizer { get; }
    /// <summary>Velocity (momentum) or first moment m (Adam); empty for SGD.</summary>
    public float[] First { get; }
    /// <summary>Second moment v (Adam); empty otherwise.</summary>
    public float[] Second { get; }
    /// <summary>Updates applied so far (Adam's t after the update).</summary>
    public long Steps { get; private set; }

    readonly RuleSink<SgdRule>? _sgd;
    readonly RuleSink<MomentumRule>? _momentum;
    readonly RuleSink<AdamRule>? _adam;

    public OptimizerState(Optimizer optimizer, int parameterCount)
    {
        Optimizer = optimizer;
        First = new float[optimizer.StateVectors >= 1 ? parameterCount : 0];
        Second = new float[optimizer.StateVectors >= 2 ? parameterCount : 0];
        switch (optimizer.StateVectors)
        {
            case 0: _sgd = new(this); break;
            case 1: _momentum = new(this); break;
            default: _adam = new(this); break;
        }
    }

    /// <summary>Continues from saved state (a checkpoint).</summary>
    public void Restore(ReadOnlySpan<float> first, ReadOnlySpan<float> second, long steps)
    {
        if (first.Length != First.Length || second.Length != Second.Length || steps < 0)
            throw new EngineException($"optimizer state of {first.Length}+{second.Length} values does not fit {Optimizer.Name} on {First.Length}+{Second.Length}");
        first.CopyTo(First);
        second.CopyTo(Second);
        Steps = steps;
    }

    /// <summary>
    /// Counts a step and returns the sink that applies it, for <see cref="Network.Backward(IKernels, ReadOnlyMatrixView, ReadOnlySpan{int}, Workspace, IGradientSink)"/>:
    /// weights with L2 (or AdamW's decay) at <paramref name="learningRate"/>, biases without.
    /// </summary>
    public IGradientSink Begin(float learningRate, float l2)
    {
        Steps++;
        var o = Optimizer;
        switch (o.Kind)
        {
            case OptimizerKind.Sgd:
                return _sgd!.With(new SgdRule(learningRate, l2), new SgdRule(learningRate, 0f));
            case OptimizerKind.Momentum or OptimizerKind.Nesterov:
                bool nesterov = o.Kind == OptimizerKind.Nesterov;
                return _momentum!.With(new MomentumRule(learningRate, l2, o.Momentum, nesterov), new MomentumRule(learningRate, 0f, o.Momentum, nesterov));
            default:
                var adam = AdamStep.For(learningRate, o.Beta1, o.Beta2, o.Epsilon, l2, o.Kind == OptimizerKind.AdamW, Steps);
                return _adam!.With(new AdamRule(adam), new AdamRule(adam.WithoutDecay()));
        }
    }

    /// <summary>One update of every layer's weights and biases from stored gradients (laid out like the parameters).</summary>
    public void Apply(IKernels kernels, Network network, ReadOnlySpan<float> gradients, float learningRate, float l2)
    {
        var sink = (IStoredGradientUpdate)Begin(learningRate, l2);
        for (int l = 0; l < network.Layers.Count; l++) // indexed: a foreach over the interface would allocate an enumerator
            sink.Apply(kernels, network.Layers[l], network.Parameters, gradients);
    }

    interface IStoredGradientUpdate
    {
        void Apply(IKernels kernels, DenseLayer layer, Span<float> parameters, ReadOnlySpan<float> gradients);
    }

    /// <summary>The step of one rule type: weights fused into their gradient product, biases from db.</summary>
    sealed unsafe class RuleSink<TRule>(OptimizerState state) : IGradientSink, IStoredGradientUpdate where TRule : struct, IUpdateRule
    {
        TRule _weights, _biases;

        public RuleSink<TRule> With(TRule weights, TRule biases)
        {
            (_weights, _biases) = (weights, biases);
            return this;
        }

        public void WeightGradient(IKernels kernels, DenseLayer layer, ReadOnlyMatrixView input, ReadOnlyMatrixView dz, Span<float> parameters, Span<float> gradients)
        {
            // W ← rule(W, xᵀ·dz): each tile of the product steps the weights (and their state, laid out like W) as it is made.
            fixed (float* first = state.First, second = state.Second)
            {
                float* s1 = TRule.StateVectors >= 1 ? first + layer.WeightOffset : null, s2 = TRule.StateVectors >= 2 ? second + layer.WeightOffset : null;
                kernels.Gemm(Transpose.Yes, Transpose.No, input, dz, layer.Weights(parameters), new UpdateWeights<TRule>(_weights, s1, s2, layer.FanOut));
            }
        }

        public void BiasGradient(IKernels kernels, DenseLayer layer, Span<float> parameters, Span<float> gradients) =>
            kernels.Update(_biases, layer.Bias(parameters), layer.Bias(gradients), State(state.First, layer.BiasOffset, layer.FanOut), State(state.Second, layer.BiasOffset, layer.FanOut));

        public void Apply(IKernels kernels, DenseLayer layer, Span<float> parameters, ReadOnlySpan<float> gradients)
        {
            kernels.Update(_weights, parameters.Slice(layer.WeightOffset, layer.WeightCount), gradients.Slice(layer.WeightOffset, layer.WeightCount),
                           State(state.First, layer.WeightOffset, layer.WeightCount), State(state.Second, layer.WeightOffset, layer.WeightCount));
            kernels.Update(_biases, parameters.Slice(layer.BiasOffset, layer.FanOut), gradients.Slice(layer.BiasOffset, layer.FanOut),
                           State(state.First, layer.BiasOffset, layer.FanOut), State(state.Second, layer.BiasOffset, layer.FanOut));
        }

        static Span<float> State(float[] values, int offset, int count) => values.Length == 0 ? default : values.AsSpan(offset, count);
    }
}
