using System.CommandLine;
using System.Numerics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using Engine.Cli.Reporting;
using Engine.Kernels;

namespace Engine.Cli;

/// <summary><c>engine info</c>: what this machine offers and what the engine will use.</summary>
static class InfoCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the same as JSON (schema version, provenance, instruction-set paths) and nothing else" };
        var command = new Command("info", "Show CPU features, vector widths, backends, threads and .NET version") { json };
        command.SetAction(p =>
        {
            var o = Console.Out;
            if (p.GetValue(json))
            {
                using var w = new Utf8JsonWriter(Console.OpenStandardOutput(), new JsonWriterOptions { Indented = true });
                w.WriteStartObject();
                Provenance.Write(w, new Provenance.Source(Backends.Default, Environment.ProcessorCount, null, []));
                w.WriteStartObject("isaPaths");
                foreach (var i in Enum.GetValues<InstructionSet>()) w.WriteBoolean(i.Name(), InstructionSets.IsSupported(i));
                w.WriteEndObject();
                w.WriteNumber("vectorFloatCount", Vector<float>.Count);
                w.WriteStartArray("backends");
                foreach (string name in Backends.Names) w.WriteStringValue(name);
                w.WriteEndArray();
                w.WriteEndObject();
                w.Flush();
                o.WriteLine();
                return ExitCodes.Success;
            }
            // The library's informational version ("0.5.0", plus "+commit" when built from git): the same string
            // `engine --version` prints for engine.dll, since both take <Version> from Directory.Build.props.
            o.WriteLine($"engine       {typeof(IKernels).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion}");
            o.WriteLine($".NET         {RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription} ({RuntimeInformation.ProcessArchitecture})");
            o.WriteLine($"cpu          {CpuModel()}");
            o.WriteLine($"cores        {Environment.ProcessorCount} (default --threads)");
            o.WriteLine($"x86 isa      AVX-512F {Avx512F.IsSupported}, AVX2 {Avx2.IsSupported}, FMA {Fma.IsSupported}");
            o.WriteLine($"vectors      Vector512 accelerated {Vector512.IsHardwareAccelerated}, Vector256 accelerated {Vector256.IsHardwareAccelerated}, Vector<float>.Count {Vector<float>.Count}");
            o.WriteLine($"isa paths    {string.Join(", ", Enum.GetValues<InstructionSet>().Select(i => $"{i.Name()} {(InstructionSets.IsSupported(i) ? "yes" : "no")}"))}");
            string forced = Environment.GetEnvironmentVariable(InstructionSets.EnvironmentVariable) ?? "";
            o.WriteLine($"chosen isa   {InstructionSets.Resolve(null).Name()}{(forced.Length > 0 ? $" (forced by {InstructionSets.EnvironmentVariable}={forced})" : " (best supported; force with --isa or " + InstructionSets.EnvironmentVariable + ")")}");
            o.WriteLine($"caches       {CpuCaches.Current.Describe()} (override with {CpuCaches.EnvironmentVariable}=l1d=48K,l2=2M,l3=32M)");
            InstructionSet chosen = InstructionSets.Resolve(null);
            o.WriteLine($"gemm blocks  {InstructionSets.DescribeGemmBlocks(chosen, Environment.ProcessorCount)} ({chosen.Name()}, {Environment.ProcessorCount} threads; from the caches, override with ENGINE_GEMM_BLOCKS=kc=..,mc=..,nc=..,split=rows|columns)");
            o.WriteLine($"backends     {string.Join(", ", Backends.Names)} (default {Backends.Default}; reference: scalar, single-threaded, the specification)");
            return ExitCodes.Success;
        });
        return command;
    }

    internal static string CpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return "unknown";
    }
}
