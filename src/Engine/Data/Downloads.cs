using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Engine.Data;

/// <summary>One file of a downloadable data set and the SHA-256 of its exact bytes.</summary>
/// <param name="Name">File name, as on the mirrors and as saved.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the file.</param>
public sealed record RemoteFile(string Name, string Sha256);

/// <summary>A data set published as files on one or more mirrors (tried in order).</summary>
/// <param name="Name">The name <c>engine data fetch</c> takes.</param>
/// <param name="Mirrors">Base addresses; a file's address is the mirror followed by its name.</param>
/// <param name="Files">The files and their checksums.</param>
public sealed record RemoteDataset(string Name, IReadOnlyList<Uri> Mirrors, IReadOnlyList<RemoteFile> Files)
{
    /// <summary>
    /// MNIST (LeCun, Cortes, Burges): the four IDX files as mirrored by PyTorch and Google; SHA-256 sums as
    /// published by TensorFlow Datasets and others (9,912,422 bytes for the training images).
    /// </summary>
    public static RemoteDataset Mnist { get; } = new("mnist",
        [new("https://ossci-datasets.s3.amazonaws.com/mnist/"), new("https://storage.googleapis.com/cvdf-datasets/mnist/")],
        [
            new("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
            new("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
            new("t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
            new("t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
        ]);

    /// <summary>Fashion-MNIST (Zalando Research): the four IDX files from the project's own mirrors.</summary>
    public static RemoteDataset FashionMnist { get; } = new("fashion-mnist",
        [new("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"), new("https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/")],
        [
            new("train-images-idx3-ubyte.gz", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
            new("train-labels-idx1-ubyte.gz", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
            new("t10k-images-idx3-ubyte.gz", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
            new("t10k-labels-idx1-ubyte.gz", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
        ]);

    /// <summary>The data sets <c>engine data fetch</c> knows.</summary>
    public static IReadOnlyList<RemoteDataset> Known { get; } = [Mnist, FashionMnist];
}

/// <summary>
/// Downloads a <see cref="RemoteDataset"/> into a directory: each file goes to a hidden <c>.NAME.part</c> file,
/// an interrupted transfer resumes from where it stopped (HTTP range requests; a server that ignores them sends
/// the whole file again), the bytes are checked against the SHA-256, and only then is the file renamed into
/// place. Files already present with the right checksum are kept. A mirror that fails or serves wrong bytes
/// is retried, then the next mirror is tried.
/// </summary>
public static class Downloader
{
    /// <summary>Fetches every file of <paramref name="dataset"/> into <paramref name="directory"/> (created if needed).</summary>
    /// <param name="log">Progress lines for the user.</param>
    /// <param name="attemptsPerMirror">Tries per mirror and file before moving on (each try resumes).</param>
    /// <param name="client">For tests; by default a client with a 5-minute timeout.</param>
    /// <exception cref="EngineException">A file could not be fetched with the right checksum from any mirror.</exception>
    public static void Fetch(RemoteDataset dataset, string directory, Action<string>? log = null, int attemptsPerMirror = 3,
                             HttpClient? client = null, TimeSpan? retryDelay = null)
    {
        if (string.IsNullOrWhiteSpace(directory)) throw new EngineException("download directory name is empty");
        string full = Path.GetFullPath(directory);
        if (File.Exists(full)) throw new EngineException($"{directory}: is a file, expected a directory");
        string? parent = Path.GetDirectoryName(full);
        if (parent is not null && !Directory.Exists(parent)) throw new EngineException($"{directory}: parent directory {parent} does not exist");
        Directory.CreateDirectory(full);
        using var owned = client is null ? new HttpClient { Timeout = TimeSpan.FromMinutes(5) } : null;
        HttpClient http = client ?? owned!;
        foreach (var file in dataset.Files)
            FetchFile(http, dataset, file, full, log ?? (_ => { }), Math.Max(1, attemptsPerMirror), retryDelay ?? TimeSpan.FromSeconds(1));
    }

    static void FetchFile(HttpClient http, RemoteDataset dataset, RemoteFile file, string directory, Action<string> log, int attempts, TimeSpan delay)
    {
        string target = Path.Combine(directory, file.Name), part = Path.Combine(directory, "." + file.Name + ".part");
        if (File.Exists(target) && Sha256Of(target) == file.Sha256)
        {
            log($"{file.Name}: present, checksum verified");
            return;
        }
        string? lastError = null;
        foreach (Uri mirror in dataset.Mirrors)
        {
            var address = new Uri(mirror, file.Name);
            for (int attempt = 1; attempt <= attempts; attempt++)
            {
                try
                {
                    long resumedAt = Download(http, address, part);
                    string sha = Sha256Of(part);
                    if (sha != file.Sha256)
                    {
                        File.Delete(part); // wrong bytes: start over rather than resume them
                        lastError = $"{address}: SHA-256 {sha} does not match the expected {file.Sha256}";
                        log($"{file.Name}: {lastError}");
                        continue;
                    }
                    File.Move(part, target, overwrite: true);
                    log($"{file.Name}: {new FileInfo(target).Length:N0} bytes from {address}{(resumedAt > 0 ? $" (resumed at byte {resumedAt:N0})" : "")}, checksum verified");
                    return;
                }
                catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
                {
                    lastError = $"{address}: {Describe(e)}";
                    log($"{file.Name}: attempt {attempt} failed ({lastError}){(attempt < attempts ? ", retrying" : "")}");
                    if (attempt < attempts) Thread.Sleep(delay * attempt);
                }
            }
        }
        throw new EngineException($"{file.Name}: could not be downloaded from any mirror of {dataset.Name} (last error: {lastError})");
    }

    /// <summary>Appends the rest of <paramref name="address"/> to <paramref name="part"/>; returns the offset it resumed from.</summary>
    static long Download(HttpClient http, Uri address, string part)
    {
        long have = File.Exists(part) ? new FileInfo(part).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, address);
        if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
        using var response = http.Send(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            File.Delete(part); // the part is as long as the file or longer: check it from scratch next time
            throw new IOException("range not satisfiable, restarting the file");
        }
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        bool partial = response.StatusCode == HttpStatusCode.PartialContent && have > 0;
        using var body = response.Content.ReadAsStream();
        using var output = new FileStream(part, partial ? FileMode.Append : FileMode.Create, FileAccess.Write);
        body.CopyTo(output);
        output.Flush(flushToDisk: true);
        return partial ? have : 0;
    }

    static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    static string Describe(Exception e) => e switch
    {
        HttpRequestException { InnerException: System.Net.Sockets.SocketException s } => $"no connection ({s.Message})",
        TaskCanceledException => "timed out",
        _ => e.Message,
    };
}
