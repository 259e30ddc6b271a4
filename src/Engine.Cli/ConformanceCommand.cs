using System.CommandLine;
using Engine.Conformance;

namespace Engine.Cli;

/// <summary><c>engine conformance export DIR</c>: writes the golden vectors other implementations check themselves against.</summary>
static class ConformanceCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("DIR") { Description = "Directory to write into (created if missing; its parent must exist)" };
        var export = new Command("export", "Write the golden vectors (.npz cases computed by the reference backend, and manifest.json) into DIR")
        {
            dir,
        };
        export.SetAction(p =>
        {
            string path = p.GetValue(dir)!;
            if (path.Trim().Length == 0) throw new UsageException("DIR must not be empty");
            if (File.Exists(path)) throw new UsageException($"{path} is a file, expected a directory");
            string full = Path.GetFullPath(path);
            string parent = Path.GetDirectoryName(full.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar)) ?? full;
            if (!Directory.Exists(full) && !Directory.Exists(parent))
                throw new UsageException($"{path}: parent directory {parent} does not exist");
            IReadOnlyList<string> files;
            try { files = GoldenVectors.Export(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new EngineException($"{path}: cannot write ({e.Message})");
            }
            long bytes = files.Sum(f => new FileInfo(Path.Combine(path, f)).Length);
            Console.Out.WriteLine($"golden vectors: {files.Count} files, {bytes:N0} bytes written to {path}");
            foreach (string f in files) Console.Out.WriteLine($"  {f}");
            return ExitCodes.Success;
        });
        return new Command("conformance", "Golden vectors for checking other implementations against this engine") { export };
    }
}
