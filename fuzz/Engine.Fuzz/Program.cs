using Engine;
using Engine.Data;
using Engine.Serialization;
using Engine.Training;
using SharpFuzz;

// One reader per run: dotnet Engine.Fuzz.dll idx|csv|model|npz|checkpoint|onnx|safetensors [FILE]
// Under afl-fuzz (no FILE) each input is written to a scratch file and read through the same path-based entry
// point the engine uses, so gzip detection, size checks and error mapping are all fuzzed. The contract: a reader
// either returns or throws EngineException; anything else (another exception, a hang, a crash) is a finding.
// With FILE it reads that one file and reports, for turning findings into regression tests.
if (args.Length is < 1 or > 2 || !Targets.All.ContainsKey(args[0]))
{
    Console.Error.WriteLine($"usage: Engine.Fuzz {string.Join('|', Targets.All.Keys)} [FILE]");
    return 2;
}
Action<string> read = Targets.All[args[0]];
if (args.Length == 2)
{
    try { read(args[1]); Console.WriteLine("read"); }
    catch (EngineException e) { Console.WriteLine($"rejected: {e.Message}"); }
    return 0;
}
string scratch = Path.Combine(Path.GetTempPath(), $"engine-fuzz-{Environment.ProcessId}.{args[0]}");
Fuzzer.OutOfProcess.Run(stream =>
{
    using (var file = File.Create(scratch)) stream.CopyTo(file);
    try { read(scratch); }
    catch (EngineException) { }
});
return 0;

static class Targets
{
    public static readonly Dictionary<string, Action<string>> All = new()
    {
        ["idx"] = path => IdxReader.Read(path),
        ["csv"] = path => CsvReader.Read(path),
        ["model"] = path => ModelFile.Load(path),
        ["npz"] = path => Npz.ToNetwork(NpyReader.ReadNpz(path), Engine.Kernels.Activation.Tanh, path),
        ["checkpoint"] = path => Checkpoint.Load(path),
        ["onnx"] = path => OnnxImport.Read(path),
        ["safetensors"] = path => Safetensors.Read(path, Engine.Kernels.Activation.Tanh),
    };
}
