using System.CommandLine;
using Engine.Data;

namespace Engine.Cli;

/// <summary><c>engine data fetch NAME [--dir D]</c>: downloads a known data set with checksums, retries and resume.</summary>
static class DataCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = $"Data set: {string.Join(", ", RemoteDataset.Known.Select(d => d.Name))}" };
        var dir = new Option<string?>("--dir") { Description = "Directory for the files (default: data/NAME)" };
        var fetch = new Command("fetch", "Download a data set's IDX files from its mirrors, verify their SHA-256 and place them atomically") { name, dir };
        fetch.SetAction(p =>
        {
            string wanted = p.GetValue(name)!.Trim().ToLowerInvariant();
            RemoteDataset dataset = RemoteDataset.Known.FirstOrDefault(d => d.Name == wanted)
                ?? throw new UsageException($"unknown data set '{p.GetValue(name)}' (known: {string.Join(", ", RemoteDataset.Known.Select(d => d.Name))})");
            string target = p.GetValue(dir) ?? Path.Combine("data", dataset.Name);
            if (target.Trim().Length == 0) throw new UsageException("--dir needs a directory name");
            Downloader.Fetch(dataset, target, line => Console.Out.WriteLine(line));
            Console.Out.WriteLine($"{dataset.Name} is in {target}; train on it with: engine train --data {target}");
            return ExitCodes.Success;
        });
        return new Command("data", "Data sets") { fetch };
    }
}
