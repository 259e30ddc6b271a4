using System.CommandLine;
using Engine.Training;

namespace Engine.Cli;

/// <summary>
/// The command-line options that choose the learning rate, optimizer and schedule, shared by <c>train</c> and
/// <c>compare</c>: each command adds them and reads a validated <see cref="TrainingOptions"/> back.
/// </summary>
sealed class OptimizerOptions
{
    readonly Option<float?> _lr = new("--lr") { Description = $"Learning rate (default {TrainCommand.DefaultLearningRate} for sgd, 0.01 for momentum and nesterov, 0.001 for adam and adamw)" };
    readonly Option<string> _optimizer = new("--optimizer") { Description = "Update rule: sgd, momentum, nesterov, adam or adamw (PyTorch's conventions)", DefaultValueFactory = _ => "sgd" };
    readonly Option<float> _momentum = new("--momentum") { Description = "Momentum μ for momentum and nesterov", DefaultValueFactory = _ => 0.9f };
    readonly Option<float> _beta1 = new("--beta1") { Description = "Adam β1", DefaultValueFactory = _ => 0.9f };
    readonly Option<float> _beta2 = new("--beta2") { Description = "Adam β2", DefaultValueFactory = _ => 0.999f };
    readonly Option<float> _eps = new("--eps") { Description = "Adam ε", DefaultValueFactory = _ => 1e-8f };
    readonly Option<string> _schedule = new("--schedule") { Description = "Learning rate per epoch: constant, step (×--lr-gamma every --lr-step epochs) or cosine (to --lr-min over --epochs)", DefaultValueFactory = _ => "constant" };
    readonly Option<int> _lrStep = new("--lr-step") { Description = "step schedule: epochs between decays", DefaultValueFactory = _ => 10 };
    readonly Option<float> _lrGamma = new("--lr-gamma") { Description = "step schedule: decay factor", DefaultValueFactory = _ => 0.1f };
    readonly Option<float> _lrMin = new("--lr-min") { Description = "cosine schedule: final learning rate", DefaultValueFactory = _ => 0f };

    public IEnumerable<Option> All => [_lr, _optimizer, _momentum, _beta1, _beta2, _eps, _schedule, _lrStep, _lrGamma, _lrMin];

    /// <summary>The default learning rate of each optimizer (the --lr help text lists them).</summary>
    public static float DefaultRate(OptimizerKind kind) => kind switch
    {
        OptimizerKind.Sgd => TrainCommand.DefaultLearningRate,
        OptimizerKind.Momentum or OptimizerKind.Nesterov => 0.01f,
        _ => 0.001f,
    };

    /// <summary>
    /// The settings with this command line's rate, optimizer and schedule, validated; settings of another optimizer or
    /// schedule than the chosen one are refused rather than silently ignored.
    /// </summary>
    /// <exception cref="UsageException">A setting is out of range or does not apply.</exception>
    public TrainingOptions Read(ParseResult p, int epochs, int batch, float l2, ulong seed, bool shuffle, int earlyStopping = 0)
    {
        try
        {
            OptimizerKind kind = Optimizer.ParseKind(p.GetValue(_optimizer)!);
            var options = new TrainingOptions(epochs, batch, p.GetValue(_lr) ?? DefaultRate(kind), l2, seed, shuffle)
            {
                Optimizer = new Optimizer(kind, p.GetValue(_momentum), p.GetValue(_beta1), p.GetValue(_beta2), p.GetValue(_eps)),
                Schedule = new LearningRateSchedule(LearningRateSchedule.ParseKind(p.GetValue(_schedule)!), p.GetValue(_lrStep), p.GetValue(_lrGamma), p.GetValue(_lrMin)),
                EarlyStoppingPatience = earlyStopping,
            };
            options.Validate();
            foreach (var (option, applies, to) in new (Option, bool, string)[]
            {
                (_momentum, options.Optimizer.StateVectors == 1, "--optimizer momentum or nesterov"),
                (_beta1, options.Optimizer.StateVectors == 2, "--optimizer adam or adamw"),
                (_beta2, options.Optimizer.StateVectors == 2, "--optimizer adam or adamw"),
                (_eps, options.Optimizer.StateVectors == 2, "--optimizer adam or adamw"),
                (_lrStep, options.Schedule.Kind == ScheduleKind.Step, "--schedule step"),
                (_lrGamma, options.Schedule.Kind == ScheduleKind.Step, "--schedule step"),
                (_lrMin, options.Schedule.Kind == ScheduleKind.Cosine, "--schedule cosine"),
            })
                if (!applies && p.GetResult(option) is { Implicit: false })
                    throw new EngineException($"{option.Name} applies only to {to}");
            return options;
        }
        catch (EngineException e) { throw new UsageException(ParameterFlags.Message(e)); }
    }
}
