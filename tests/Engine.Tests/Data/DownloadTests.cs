using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using Engine.Data;
using Xunit;

namespace Engine.Tests.Data;

/// <summary>The downloader against a local HTTP server on 127.0.0.1 only: good, corrupt and dropped transfers.</summary>
public sealed class DownloadTests : IDisposable
{
    readonly ScratchDirectory _dir = new();
    readonly FixtureServer _server = new();

    public void Dispose()
    {
        _server.Dispose();
        _dir.Dispose();
    }

    static readonly byte[] Images = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7 + i / 251)).ToArray();
    static readonly byte[] Labels = Enumerable.Range(0, 1_000).Select(i => (byte)(i % 10)).ToArray();

    static RemoteDataset Dataset(params Uri[] mirrors) => new("fixture", mirrors,
        [new("images.gz", Convert.ToHexStringLower(SHA256.HashData(Images))), new("labels.gz", Convert.ToHexStringLower(SHA256.HashData(Labels)))]);

    void Fetch(RemoteDataset dataset, string dir, List<string>? log = null) =>
        Downloader.Fetch(dataset, dir, line => log?.Add(line), attemptsPerMirror: 3, retryDelay: TimeSpan.FromMilliseconds(10));

    [Fact]
    public void Files_are_fetched_verified_and_placed_without_leftovers()
    {
        var mirror = _server.Mirror("good", new() { ["images.gz"] = Images, ["labels.gz"] = Labels });
        string dir = _dir.File("data");
        Fetch(Dataset(mirror), dir);
        Assert.Equal(Images, File.ReadAllBytes(Path.Combine(dir, "images.gz")));
        Assert.Equal(Labels, File.ReadAllBytes(Path.Combine(dir, "labels.gz")));
        Assert.Equal(["images.gz", "labels.gz"], Directory.GetFiles(dir).Select(Path.GetFileName).Order());

        // A second fetch finds both files present and verified: no request at all.
        int requests = _server.Requests.Count;
        var log = new List<string>();
        Fetch(Dataset(mirror), dir, log);
        Assert.Equal(requests, _server.Requests.Count);
        Assert.All(log, line => Assert.Contains("present, checksum verified", line));
    }

    [Fact]
    public void A_corrupt_mirror_is_rejected_and_the_next_mirror_used()
    {
        byte[] corrupt = (byte[])Images.Clone();
        corrupt[5000] ^= 1;
        var bad = _server.Mirror("bad", new() { ["images.gz"] = corrupt, ["labels.gz"] = Labels });
        var good = _server.Mirror("good", new() { ["images.gz"] = Images, ["labels.gz"] = Labels });
        string dir = _dir.File("data");
        var log = new List<string>();
        Fetch(Dataset(bad, good), dir, log);
        Assert.Equal(Images, File.ReadAllBytes(Path.Combine(dir, "images.gz")));
        Assert.Contains(log, line => line.Contains("does not match the expected"));
    }

    [Fact]
    public void Only_corrupt_copies_fail_cleanly_and_leave_nothing_in_place()
    {
        byte[] corrupt = (byte[])Images.Clone();
        corrupt[^1] ^= 0x80;
        var bad = _server.Mirror("bad", new() { ["images.gz"] = corrupt, ["labels.gz"] = Labels });
        string dir = _dir.File("data");
        var e = Assert.Throws<EngineException>(() => Fetch(Dataset(bad), dir));
        Assert.Contains("images.gz", e.Message);
        Assert.Contains("does not match", e.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void A_connection_dropped_midway_is_resumed_with_a_range_request()
    {
        var mirror = _server.Mirror("flaky", new() { ["images.gz"] = Images, ["labels.gz"] = Labels }, dropFirstAfterBytes: 40_000);
        string dir = _dir.File("data");
        var log = new List<string>();
        Fetch(Dataset(mirror), dir, log);
        Assert.Equal(Images, File.ReadAllBytes(Path.Combine(dir, "images.gz")));
        Assert.Contains(_server.Requests, r => r.Path.EndsWith("images.gz") && r.Range is long start && start > 0);
        Assert.Contains(log, line => line.Contains("attempt 1 failed") && line.Contains("images.gz"));
        Assert.Contains(log, line => line.Contains("resumed at byte"));
    }

    [Fact]
    public void An_unreachable_mirror_is_a_clear_error()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now
        var e = Assert.Throws<EngineException>(() => Fetch(Dataset(new Uri($"http://127.0.0.1:{closedPort}/")), _dir.File("data")));
        Assert.Contains("could not be downloaded from any mirror", e.Message);
        Assert.Contains("no connection", e.Message);
    }

    /// <summary>
    /// A minimal HTTP/1.1 server on 127.0.0.1 (raw sockets, so a transfer can be cut mid-way): serves byte arrays
    /// under /MIRROR/FILE, honours "Range: bytes=N-", and optionally drops each file's first transfer.
    /// </summary>
    sealed class FixtureServer : IDisposable
    {
        readonly System.Net.Sockets.TcpListener _listener = new(IPAddress.Loopback, 0);
        readonly ConcurrentDictionary<string, (Dictionary<string, byte[]> Files, int DropAfter)> _mirrors = new();
        readonly ConcurrentDictionary<string, bool> _dropped = new();
        public ConcurrentQueue<(string Path, long? Range)> Requests { get; } = new();
        readonly string _prefix;

        public FixtureServer()
        {
            _listener.Start();
            _prefix = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";
            _ = Task.Run(Serve);
        }

        public Uri Mirror(string name, Dictionary<string, byte[]> files, int dropFirstAfterBytes = 0)
        {
            _mirrors[name] = (files, dropFirstAfterBytes);
            return new Uri(_prefix + name + "/");
        }

        async Task Serve()
        {
            while (true)
            {
                System.Net.Sockets.TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(); }
                catch (Exception) { return; }
                _ = Task.Run(() => { try { Handle(client); } catch (IOException) { } finally { client.Dispose(); } });
            }
        }

        void Handle(System.Net.Sockets.TcpClient client)
        {
            using var stream = client.GetStream();
            var reader = new StreamReader(stream, System.Text.Encoding.ASCII, false, 1024, leaveOpen: true);
            string path = reader.ReadLine()?.Split(' ')[1] ?? "/";
            long? start = null;
            for (string? line = reader.ReadLine(); !string.IsNullOrEmpty(line); line = reader.ReadLine())
                if (line.StartsWith("Range: bytes=", StringComparison.OrdinalIgnoreCase)) start = long.Parse(line[13..].TrimEnd('-'));
            Requests.Enqueue((path, start));
            string[] parts = path.Trim('/').Split('/');
            void Head(string status, long length, string extra = "") =>
                stream.Write(System.Text.Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Length: {length}\r\n{extra}Connection: close\r\n\r\n"));
            if (parts.Length != 2 || !_mirrors.TryGetValue(parts[0], out var mirror) || !mirror.Files.TryGetValue(parts[1], out var bytes))
            {
                Head("404 Not Found", 0);
                return;
            }
            long from = start ?? 0;
            if (from > 0) Head("206 Partial Content", bytes.Length - from, $"Content-Range: bytes {from}-{bytes.Length - 1}/{bytes.Length}\r\n");
            else Head("200 OK", bytes.Length);
            if (mirror.DropAfter > 0 && _dropped.TryAdd(path, true))
            {
                stream.Write(bytes, (int)from, mirror.DropAfter); // then the connection closes, short of Content-Length
                return;
            }
            stream.Write(bytes, (int)from, (int)(bytes.Length - from));
        }

        public void Dispose() => _listener.Stop();
    }
}
