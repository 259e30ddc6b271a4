using Engine.Kernels;
using Engine.Nn;

namespace Engine.Training;

/// <summary>The update rule applied to each batch's mean gradient.</summary>
public enum OptimizerKind
{
    /// <summary>Plain SGD: w −= lr·(g + l2·w).</summary>
    Sgd,
    /// <summary>SGD with heavy-ball momentum (PyTorch <c>SGD(momentum=μ)</c>, dampening 0).</summary>
    Momentum,
    /// <summary>SGD with Nesterov momentum (PyTorch <c>SGD(momentum=μ, nesterov=True)</c>).</summary>
    Nesterov,
    /// <summary>Adam with L2 added to the gradient (PyTorch <c>Adam(weight_decay=l2)</c>).</summary>
    Adam,
    /// <summary>Adam with decoupled weight decay (PyTorch <c>AdamW(weight_decay=l2)</c>).</summary>
    AdamW,
}

/// <summary>
/// An optimizer and its hyperparameters. The conventions are PyTorch's (torch.optim, 2.x docs), in float32 with the
/// operation order each kernel documents (see <see cref="IKernels.MomentumUpdate"/> and <see cref="IKernels.AdamUpdate"/>).
/// One difference: the L2 / weight-decay factor <see cref="TrainingOptions.L2"/> applies to weights only, never to
/// biases — in PyTorch terms, biases sit in a parameter group with weight_decay 0.
/// </summary>
/// <param name="Kind">The update rule.</param>
/// <param name="Momentum">μ of momentum and Nesterov (in [0, 1)).</param>
/// <param name="Beta1">Adam's β1, the decay of the first-moment average (in [0, 1)).</param>
/// <param name="Beta2">Adam's β2, the decay of the second-moment average (in [0, 1)).</param>
/// <param name="Epsilon">Adam's ε, added to the bias-corrected root of the second moment (positive).</param>
public sealed record Optimizer(OptimizerKind Kind, float Momentum = 0.9f, float Beta1 = 0.9f, float Beta2 = 0.999f, float Epsilon = 1e-8f)
{
    /// <summary>Plain SGD, the write-up's rule.</summary>
    public static Optimizer Sgd { get; } = new(OptimizerKind.Sgd);

    /// <summary>The command-line name: sgd, momentum, nesterov, adam or adamw.</summary>
    public string Name => Kind.ToString().ToLowerInvariant();

    /// <summary>Parses a command-line name.</summary>
    /// <exception cref="EngineException">Not one of the names.</exception>
    public static OptimizerKind ParseKind(string name) => CommandLineNames.Parse<OptimizerKind>(name, "optimizer");

    /// <summary>Per-parameter state vectors the rule keeps (0, 1 or 2).</summary>
    public int StateVectors => Kind switch { OptimizerKind.Sgd => 0, OptimizerKind.Momentum or OptimizerKind.Nesterov => 1, _ => 2 };

    /// <summary>Checks the ranges above.</summary>
    /// <exception cref="EngineException">A setting is out of range; <see cref="EngineException.Parameter"/> names it.</exception>
    public void Validate()
    {
        // Only the settings the rule uses are checked: a C caller may leave the others zero.
        if (!Enum.IsDefined(Kind)) throw new EngineException($"unknown optimizer {Kind}");
        if (StateVectors == 1 && !(Momentum >= 0 && Momentum < 1)) throw EngineException.ForParameter("momentum", $"must be in [0, 1), got {Momentum}");
        if (StateVectors == 2)
        {
            if (!(Beta1 >= 0 && Beta1 < 1)) throw EngineException.ForParameter("beta1", $"must be in [0, 1), got {Beta1}");
            if (!(Beta2 >= 0 && Beta2 < 1)) throw EngineException.ForParameter("beta2", $"must be in [0, 1), got {Beta2}");
            if (!(Epsilon > 0) || !float.IsFinite(Epsilon)) throw EngineException.ForParameter("epsilon", $"must be a positive finite number, got {Epsilon}");
        }
    }

    /// <summary>A short description, e.g. <c>adam (β1 0.9, β2 0.999, ε 1E-08)</c>.</summary>
    public string Describe() => Kind switch
    {
        OptimizerKind.Sgd => "sgd",
        OptimizerKind.Momentum or OptimizerKind.Nesterov => FormattableString.Invariant($"{Name} (μ {Momentum})"),
        _ => FormattableString.Invariant($"{Name} (β1 {Beta1}, β2 {Beta2}, ε {Epsilon})"),
    };
}

/// <summary>How the learning rate changes from epoch to epoch.</summary>
public enum ScheduleKind
{
    /// <summary>The same rate every epoch.</summary>
    Constant,
    /// <summary>PyTorch <c>StepLR</c>: lr·γ^⌊(e−1)/StepEpochs⌋ for epoch e (from 1).</summary>
    Step,
    /// <summary>PyTorch <c>CosineAnnealingLR</c> with T_max = epochs: min + (lr − min)·(1 + cos(π·(e−1)/epochs))/2.</summary>
    Cosine,
}

/// <summary>A per-epoch learning-rate schedule (stepped once per epoch, as PyTorch's schedulers usually are).</summary>
/// <param name="Kind">The schedule.</param>
/// <param name="StepEpochs">Step: epochs between decays (≥ 1).</param>
/// <param name="Gamma">Step: the decay factor (in (0, 1]).</param>
/// <param name="MinLearningRate">Cosine: the rate approached at the end (≥ 0, below the base rate).</param>
public sealed record LearningRateSchedule(ScheduleKind Kind, int StepEpochs = 10, float Gamma = 0.1f, float MinLearningRate = 0f)
{
    /// <summary>No schedule.</summary>
    public static LearningRateSchedule Constant { get; } = new(ScheduleKind.Constant);

    /// <summary>The command-line name: constant, step or cosine.</summary>
    public string Name => Kind.ToString().ToLowerInvariant();

    /// <summary>Parses a command-line name.</summary>
    /// <exception cref="EngineException">Not one of the names.</exception>
    public static ScheduleKind ParseKind(string name) => CommandLineNames.Parse<ScheduleKind>(name, "learning-rate schedule");

    /// <summary>The rate of epoch <paramref name="epoch"/> (from 1) of <paramref name="epochs"/>, computed in double and rounded once.</summary>
    public float RateAt(int epoch, int epochs, float learningRate) => Kind switch
    {
        ScheduleKind.Step => (float)(learningRate * Math.Pow(Gamma, (epoch - 1) / StepEpochs)),
        ScheduleKind.Cosine => (float)(MinLearningRate + (learningRate - (double)MinLearningRate) * (1 + Math.Cos(Math.PI * (epoch - 1) / epochs)) / 2),
        _ => learningRate,
    };

    /// <summary>Checks the ranges above against the base rate (the settings of the chosen schedule only).</summary>
    /// <exception cref="EngineException">A setting is out of range; <see cref="EngineException.Parameter"/> names it.</exception>
    public void Validate(float learningRate)
    {
        if (!Enum.IsDefined(Kind)) throw new EngineException($"unknown schedule {Kind}");
        if (Kind == ScheduleKind.Step && StepEpochs < 1) throw EngineException.ForParameter("schedule step", $"must be at least 1 epoch, got {StepEpochs}");
        if (Kind == ScheduleKind.Step && !(Gamma > 0 && Gamma <= 1)) throw EngineException.ForParameter("schedule gamma", $"must be in (0, 1], got {Gamma}");
        if (Kind == ScheduleKind.Cosine && !(MinLearningRate >= 0 && MinLearningRate < learningRate))
            throw EngineException.ForParameter("minimum learning rate", $"must be ≥ 0 and below the learning rate {learningRate}, got {MinLearningRate}");
    }

    /// <summary>A short description, e.g. <c>cosine to 0</c>.</summary>
    public string Describe() => Kind switch
    {
        ScheduleKind.Step => FormattableString.Invariant($"step (×{Gamma} every {StepEpochs} epochs)"),
        ScheduleKind.Cosine => FormattableString.Invariant($"cosine (to {MinLearningRate})"),
        _ => "constant",
    };
}

/// <summary>Enum members by their lower-case command-line names (numbers are not names).</summary>
internal static class CommandLineNames
{
    public static T Parse<T>(string name, string parameter) where T : struct, Enum =>
        Enum.TryParse(name, ignoreCase: true, out T value) && Enum.IsDefined(value) && !int.TryParse(name, out _)
            ? value
            : throw EngineException.ForParameter(parameter, $"must be {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}, got '{name}'");
}
