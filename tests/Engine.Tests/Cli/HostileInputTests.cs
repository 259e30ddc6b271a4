using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using Engine.Data;
using Engine.Kernels;
using Engine.Serialization;
using Engine.Tests.Data;
using static Engine.Tests.Cli.CliTests;

namespace Engine.Tests.Cli;

/// <summary>Issue 16: hostile input, odd files and odd output targets. Every case ends in one line and a non-zero exit, and
/// nothing outside the run's own files changes.</summary>
public sealed class HostileInputTests : IDisposable
{
    const int Usage = 2, Failure = 1;

    readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A small learnable CSV: 60 rows of 6 features, labels 0..2 (the last one <paramref name="lastLabel"/> when given).</summary>
    string Csv(string name = "data.csv", int? lastLabel = null, string? lastCell = null)
    {
        var csv = new StringBuilder("label,a,b,c,d,e,f\n");
        for (int i = 0; i < 60; i++)
        {
            int c = i % 3;
            string label = i == 59 && lastLabel is int l ? l.ToString() : c.ToString();
            string first = i == 59 && lastCell is not null ? lastCell : (c == 0 ? 9 : 1).ToString();
            csv.Append($"{label},{first},{(c == 1 ? 9 : 1)},{(c == 2 ? 9 : 1)},{i % 4},{i % 5},{i % 7}\n");
        }
        return _dir.WriteText(name, csv.ToString());
    }

    static string FileType(string path)
    {
        var stat = Process.Start(new ProcessStartInfo("stat", ["-L", "-c", "%F", path]) { RedirectStandardOutput = true })!;
        string type = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return type;
    }

    // ---- 1. stack traces become one-line usage errors naming the limit -------------------------------------------

    [Theory]
    [InlineData("--batch", "100000000", "65,536")]
    [InlineData("--threads", "100000", "1,024")]
    [InlineData("--epochs", "2000000", "1,000,000")]
    [InlineData("--hidden", "100000000", "16,777,216")]
    public void Train_options_beyond_the_limits_are_refused_naming_the_limit(string option, string value, string limit)
    {
        var run = EngineProcess.Run("train", "--data", Csv(), option, value);
        AssertFailsCleanly(run, Usage, option, limit);
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public void Evaluate_with_too_many_threads_is_a_usage_error()
    {
        string model = _dir.File("m.model");
        using (var c = Classifier.Create(6, [4], 3, Activation.Tanh, InputScaling.Divide(9))) c.Save(model);
        AssertFailsCleanly(EngineProcess.Run("evaluate", "--model", model, "--data", Csv(), "--threads", "100000"), Usage, "--threads", "1,024");
    }

    [Theory]
    [InlineData("bench")]
    [InlineData("compare")]
    public void Other_commands_refuse_too_many_threads(string command)
    {
        var run = EngineProcess.Run(command, "--threads", "100000");
        AssertFailsCleanly(run, Usage, "--threads", "1,024");
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public void The_library_refuses_what_its_readers_would_refuse()
    {
        var e = Assert.Throws<EngineException>(() => Classifier.Create(6, Enumerable.Repeat(4, Limits.MaxHiddenLayers + 1).ToArray(), 3, Activation.Tanh, InputScaling.Divide(1)));
        Assert.Contains("limit of 64", e.Message);
        e = Assert.Throws<EngineException>(() => Classifier.Create(6, [4], Limits.MaxClasses + 1, Activation.Tanh, InputScaling.Divide(1)));
        Assert.Contains("limit of 10,000", e.Message);
        e = Assert.Throws<EngineException>(() => Classifier.Create(6, [4], 3, Activation.Tanh, InputScaling.Divide(1), compute: new ComputeOptions("simd", 100_000)));
        Assert.Contains("1,024", e.Message);
        e = Assert.Throws<EngineException>(() => new global::Engine.Training.TrainingOptions(1, Limits.MaxBatch + 1, 0.1f, 0, 0, true).Validate());
        Assert.Contains("65,536", e.Message);
    }

    // ---- 2. data loss -------------------------------------------------------------------------------------------------

    [Fact]
    public void Seventy_hidden_layers_are_refused_before_training_and_the_old_model_is_kept()
    {
        string model = _dir.File("good.model");
        using (var c = Classifier.Create(6, [4], 3, Activation.Tanh, InputScaling.Divide(9))) c.Save(model);
        byte[] before = File.ReadAllBytes(model);
        var run = EngineProcess.Run("train", "--data", Csv(), "--hidden", string.Join(',', Enumerable.Repeat(4, 70)), "--out", model);
        AssertFailsCleanly(run, Usage, "70 hidden layers", "64");
        Assert.Equal(before, File.ReadAllBytes(model));
    }

    [Fact]
    public void A_save_through_a_symlink_replaces_the_target_and_keeps_the_link()
    {
        string target = _dir.WriteText("target.json", "old");
        string link = _dir.File("link.json");
        File.CreateSymbolicLink(link, target);
        AtomicFile.Write(link, s => s.Write("new"u8));
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.Equal("new", File.ReadAllText(target));
        Assert.Equal(["link.json", "target.json"], _dir.FileNames());
    }

    [Fact]
    public void A_device_is_written_through_never_replaced()
    {
        AtomicFile.Write("/dev/null", s => s.Write("x"u8));
        Assert.Equal("character special file", FileType("/dev/null"));
        Assert.DoesNotContain(Directory.GetFiles("/dev"), f => f.EndsWith(".tmp", StringComparison.Ordinal));
        var e = Assert.Throws<EngineException>(() => AtomicFile.Write("/dev/full", s => s.Write(new byte[1 << 16])));
        Assert.Contains("no space left", e.Message);
        Assert.DoesNotContain(" : ", e.Message);
        Assert.Equal("character special file", FileType("/dev/full"));
    }

    [Fact]
    public void A_socket_is_refused_and_left_alone()
    {
        string path = _dir.File("engine.sock");
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        var e = Assert.Throws<EngineException>(() => AtomicFile.Write(path, s => s.Write("x"u8)));
        Assert.Contains("is a socket", e.Message);
        Assert.Equal("socket", FileType(path));
        Assert.Equal(["engine.sock"], _dir.FileNames());
    }

    [Fact]
    public async Task A_fifo_is_written_through()
    {
        string fifo = _dir.File("pipe");
        Process.Start("mkfifo", [fifo])!.WaitForExit();
        Assert.Equal("fifo", FileType(fifo));
        var reader = Task.Run(() => File.ReadAllBytes(fifo));
        AtomicFile.Write(fifo, s => s.Write("through"u8));
        Assert.Equal("through"u8.ToArray(), await reader.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("fifo", FileType(fifo));
    }

    [Fact]
    public void Training_to_devices_keeps_them_devices()
    {
        var run = EngineProcess.Run("train", "--data", Csv(), "--epochs", "1", "--quiet", "--out", "/dev/null", "--metrics-json", "/dev/null", "--export-npz", "/dev/null");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("character special file", FileType("/dev/null"));
        AssertFailsCleanly(EngineProcess.Run("train", "--data", Csv(), "--epochs", "1", "--quiet", "--out", "/dev/full"), Failure, "/dev/full", "no space left");
    }

    [Theory]
    [InlineData("--out")]
    [InlineData("--metrics-json")]
    [InlineData("--export-npz")]
    [InlineData("--report")]
    [InlineData("--checkpoint-dir")]
    public void An_output_that_cannot_be_written_is_found_before_training(string option)
    {
        // /proc takes no new files, even for root (the tests may run as root, where chmod would not stop a write).
        var run = EngineProcess.Run("train", "--data", Csv(), "--epochs", "1", option, "/proc/engine-test-output");
        AssertFailsCleanly(run, null, option, "/proc");
        Assert.Equal("", run.Stdout);
        Assert.DoesNotContain("Could not find", run.Stderr);
    }

    // ---- 3. classes ---------------------------------------------------------------------------------------------------

    [Fact]
    public void A_label_beyond_the_class_limit_is_refused_at_once()
    {
        var watch = Stopwatch.StartNew();
        var run = EngineProcess.Run("train", "--data", Csv(lastLabel: 65535), "--epochs", "1");
        AssertFailsCleanly(run, Failure, "65535", "10,000");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), run.ToString());
    }

    [Fact]
    public void A_numpy_label_beyond_the_class_limit_is_refused()
    {
        string path = _dir.File("data.npz");
        Npz.Write(path, [("x", new NpyArray([2, 3], new float[6])), ("y", new NpyArray([2], [0f, 10_000f]))]);
        var e = Assert.Throws<EngineException>(() => DataSource.Load(path));
        Assert.Contains("10,000", e.Message);
    }

    // ---- 4. unbounded reads -------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("/dev/urandom")]
    public void An_endless_device_as_model_fails_on_the_magic_number(string device)
    {
        var watch = Stopwatch.StartNew();
        var run = EngineProcess.Run("evaluate", "--model", device);
        AssertFailsCleanly(run, Failure, device, "bad magic number");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), run.ToString());
    }

    [Fact]
    public void A_gzip_bomb_is_refused_as_soon_as_it_delivers_more_than_its_header_says()
    {
        // The header claims 5 images; the gzip stream goes on for 2 GiB of zeros (2 MB on disk): more than the child's
        // 1 GiB heap, so reading toward the data instead of the header would end in "out of memory".
        byte[] header = IdxFiles.Build([5, 28, 28], [])[..16];
        using (var file = File.Create(_dir.File("train-images-idx3-ubyte.gz")))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        {
            gzip.Write(header);
            var zeros = new byte[1 << 20];
            for (int i = 0; i < 2048; i++) gzip.Write(zeros);
        }
        _dir.Write("train-labels-idx1-ubyte", IdxFiles.Labels(0, 1, 2, 3, 4));
        var run = EngineProcess.Run("train", "--data", _dir.Path, "--epochs", "1");
        AssertFailsCleanly(run, Failure, "train-images-idx3-ubyte.gz", "holds more");
        Assert.DoesNotContain("out of memory", run.Stderr);
    }

    /// <summary>An .npz whose stored member's data no longer matches the directory's CRC-32 (one float changed).</summary>
    string CorruptNpz()
    {
        string path = _dir.File("w.npz");
        var w1 = Enumerable.Range(0, 18).Select(i => i == 7 ? 1234.5f : 0.01f * i).ToArray();
        Npz.Write(path, [("W1", new NpyArray([6, 3], w1)), ("b1", new NpyArray([3], new float[3]))]);
        byte[] bytes = File.ReadAllBytes(path);
        byte[] marker = BitConverter.GetBytes(1234.5f);
        int at = bytes.AsSpan().IndexOf(marker);
        Assert.True(at > 0);
        BitConverter.GetBytes(-1f).CopyTo(bytes, at);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void An_npz_member_with_a_bad_crc_is_refused()
    {
        string path = CorruptNpz();
        var e = Assert.Throws<EngineException>(() => NpyReader.ReadNpz(path));
        Assert.Contains("Bad CRC-32", e.Message);
        AssertFailsCleanly(EngineProcess.Run("train", "--data", Csv(), "--epochs", "1", "--init", path), Failure, "Bad CRC-32");
    }

    // ---- 5. silent wrong results --------------------------------------------------------------------------------------

    [Fact]
    public void An_init_npz_with_a_bias_but_no_weight_is_refused()
    {
        string path = _dir.File("w.npz");
        Npz.Write(path, [("W1", new NpyArray([6, 16], new float[96])), ("b1", new NpyArray([16], new float[16])), ("b2", new NpyArray([3], new float[3]))]);
        AssertFailsCleanly(EngineProcess.Run("train", "--data", Csv(), "--epochs", "1", "--init", path), Failure, "b2 has no W2");
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Init_weights_that_are_not_finite_have_their_own_message(float bad)
    {
        string path = _dir.File("w.npz");
        var w1 = new float[18];
        w1[5] = bad;
        Npz.Write(path, [("W1", new NpyArray([6, 3], w1)), ("b1", new NpyArray([3], new float[3]))]);
        var run = EngineProcess.Run("train", "--data", Csv(), "--epochs", "1", "--init", path);
        AssertFailsCleanly(run, Failure, "W1 has a NaN or infinite value");
        Assert.DoesNotContain("diverged", run.Stderr);
    }

    [Theory]
    [InlineData("2\0")]
    [InlineData("\u00002")]
    public void A_csv_cell_with_a_nul_is_refused(string cell)
    {
        AssertFailsCleanly(EngineProcess.Run("train", "--data", Csv(lastCell: cell), "--epochs", "1"), Failure, "line 61", "NUL");
        AssertFailsCleanly(EngineProcess.Run("train", "--data", Csv(), "--epochs", "1", "--test", WriteLabelCell(cell)), Failure, "NUL");
    }

    string WriteLabelCell(string cell) => _dir.WriteText("test.csv", $"label,a,b,c,d,e,f\n{cell},1,2,3,4,5,6\n");

    // ---- 6. messages --------------------------------------------------------------------------------------------------

    [Fact]
    public void A_directory_as_model_says_it_is_a_directory()
    {
        AssertFailsCleanly(EngineProcess.Run("evaluate", "--model", _dir.Path), Failure, "is a directory");
    }

    [Theory]
    [InlineData("--lr", "inf", "not a finite number")]
    [InlineData("--epochs", "99999999999", "1,000,000")]
    [InlineData("--epochs", "abc", "not a whole number")]
    [InlineData("--seed", "-1", "out of range")]
    [InlineData("--batch", "1.5", "not a whole number")]
    [InlineData("--l2", "x", "not a number")]
    public void Values_that_do_not_parse_are_explained_without_dotnet_types(string option, string value, string says)
    {
        var run = EngineProcess.Run("train", option, value);
        AssertFailsCleanly(run, Usage, option, says);
        Assert.DoesNotContain("System.", run.Stderr);
    }

    [Theory]
    [InlineData("train", "--epoch", "--epochs")]
    [InlineData("train", "--hiden", "--hidden")]
    [InlineData("trian", null, "train")]
    public void A_mistyped_name_gets_a_suggestion(string first, string? second, string suggestion)
    {
        var run = second is null ? EngineProcess.Run(first) : EngineProcess.Run(first, second, "3");
        AssertFailsCleanly(run, Usage, $"did you mean {suggestion}?");
    }

    [Fact]
    public void Edit_distance_counts_insertions_deletions_and_substitutions()
    {
        Assert.Equal(0, global::Engine.Cli.UsageMessages.EditDistance("--lr", "--lr"));
        Assert.Equal(1, global::Engine.Cli.UsageMessages.EditDistance("--epoch", "--epochs"));
        Assert.Equal(2, global::Engine.Cli.UsageMessages.EditDistance("trian", "train"));
        Assert.Equal(3, global::Engine.Cli.UsageMessages.EditDistance("", "abc"));
    }

    [Fact]
    public void A_checkpoint_directory_that_cannot_be_made_is_reported_without_raw_os_text()
    {
        var e = Assert.Throws<EngineException>(() => new global::Engine.Training.Checkpointer(
            new global::Engine.Training.CheckpointOptions("/proc/engine-test-checkpoints"), _ => throw new InvalidOperationException()));
        Assert.Contains("cannot create the checkpoint directory", e.Message);
        Assert.DoesNotContain(" : '", e.Message);
    }

    /// <summary>Endless devices behind the names of formats without a magic number: each is refused on its first bytes,
    /// not read toward the child's 1 GiB heap cap.</summary>
    [Theory]
    [InlineData("/dev/zero", "data.csv", "--data")]
    [InlineData("/dev/zero", "w.safetensors", "--init")]
    [InlineData("/dev/zero", "w.onnx", "--init")]
    [InlineData("/dev/urandom", "w.safetensors", "--init")]
    public void An_endless_device_behind_a_file_name_is_refused_at_once(string device, string name, string option)
    {
        string link = _dir.File(name);
        File.CreateSymbolicLink(link, device);
        var args = option == "--data" ? new[] { "train", "--data", link } : ["train", "--data", Csv(), option, link];
        var watch = Stopwatch.StartNew();
        var run = EngineProcess.Run(args);
        AssertFailsCleanly(run, Failure, name);
        Assert.DoesNotContain("out of memory", run.Stderr);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), run.ToString());
    }

    [Fact]
    public void A_gzip_bomb_whose_header_disagrees_with_the_labels_is_refused_before_its_data_is_read()
    {
        // 1,400,000 images of 28x28 zeros really are in the stream (1.1 GB, about 1 MB on disk): reading them would pass
        // the child's 1 GiB heap cap; the 5 labels refuse the header first.
        const int claimed = 1_400_000;
        byte[] header = IdxFiles.Build([claimed, 28, 28], [])[..16];
        using (var file = File.Create(_dir.File("train-images-idx3-ubyte.gz")))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        {
            gzip.Write(header);
            var zeros = new byte[784 * 1000];
            for (int i = 0; i < claimed / 1000; i++) gzip.Write(zeros);
        }
        _dir.Write("train-labels-idx1-ubyte", IdxFiles.Labels(0, 1, 2, 3, 4));
        var watch = Stopwatch.StartNew();
        var run = EngineProcess.Run("train", "--data", _dir.Path, "--epochs", "1");
        AssertFailsCleanly(run, Failure, "5 labels for 1400000 images");
        Assert.DoesNotContain("out of memory", run.Stderr);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), run.ToString());
    }
}
