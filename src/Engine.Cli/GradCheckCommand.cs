using System.CommandLine;
using System.Globalization;
using Engine.Nn;

namespace Engine.Cli;

/// <summary><c>engine gradcheck</c>: finite differences against the backward pass for every parameter tensor.</summary>
static class GradCheckCommand
{
    public const double Tolerance = 1e-2;

    public static Command Create()
    {
        var hidden = new Option<string>("--hidden") { Description = "Hidden widths of the small test network", DefaultValueFactory = _ => "6,5" };
        var activation = new Option<string>("--activation") { Description = "tanh, relu or sigmoid", DefaultValueFactory = _ => "tanh" };
        var backend = CommonOptions.Backend();
        var isa = CommonOptions.Isa();
        var seed = new Option<ulong>("--seed") { DefaultValueFactory = _ => 1UL, Description = "Seed for weights and data" };
        var command = new Command("gradcheck", "Check every gradient tensor of a small network against central finite differences")
        {
            hidden, activation, backend, isa, seed,
        };
        command.SetAction(p =>
        {
            using var kernels = CommonOptions.CreateBackend(p.GetValue(backend)!, 1, p.GetValue(isa));
            int[] widths = [7, .. CommonOptions.ParseHidden(p.GetValue(hidden)!), 4];
            var act = CommonOptions.ParseActivation(p.GetValue(activation)!);
            var results = GradientCheck.Run(kernels, widths, act, batch: 5, p.GetValue(seed));
            var inv = CultureInfo.InvariantCulture;
            Console.Out.WriteLine($"network {string.Join("-", widths)} {act.ToString().ToLowerInvariant()}, batch 5, backend {kernels.Name}, central differences (float32, ε = 1e-2)");
            Console.Out.WriteLine("tensor  count  max |numeric - analytic|  relative error");
            bool ok = true;
            foreach (var r in results)
            {
                bool pass = r.RelativeError <= Tolerance;
                ok &= pass;
                Console.Out.WriteLine($"{r.Tensor,-6}  {r.Count,5}  {r.MaxAbsDifference.ToString("0.000E+00", inv),24}  {r.RelativeError.ToString("0.000E+00", inv),14}  {(pass ? "ok" : "FAIL")}");
            }
            Console.Out.WriteLine(ok ? $"all gradients agree (relative error ≤ {Tolerance})" : "gradient check FAILED");
            return ok ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }
}
