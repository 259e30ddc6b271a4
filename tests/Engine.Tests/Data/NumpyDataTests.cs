using System.IO.Compression;
using System.Text;
using Engine.Data;
using Engine.Tests.Cli;

namespace Engine.Tests.Data;

/// <summary>Data as NumPy holds it (.npz with x and y or Keras's x_train…, .npy features), and CSV on standard input.</summary>
public sealed class NumpyDataTests : IDisposable
{
    readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>An .npy file's bytes: NPY 1.0 header for descr and shape, then the data as given.</summary>
    static byte[] Npy(string descr, int[] shape, byte[] data, bool fortran = false)
    {
        string shapeText = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        string dict = $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shapeText}, }}";
        int total = 10 + dict.Length + 1;
        string header = dict + new string(' ', (total + 63) / 64 * 64 - total) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)(header.Length & 0xFF), (byte)(header.Length >> 8) };
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    string Npz(string name, params (string Name, byte[] Npy)[] members)
    {
        string path = Path.Combine(_dir.Path, name);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (member, npy) in members)
        {
            using var s = zip.CreateEntry(member + ".npy").Open();
            s.Write(npy);
        }
        return path;
    }

    static byte[] Int64s(params long[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();
    static byte[] Doubles(params double[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

    [Fact]
    public void Uint8_images_and_int64_labels_keep_their_byte_form_and_flatten()
    {
        byte[] pixels = Enumerable.Range(0, 3 * 2 * 3).Select(i => (byte)(i * 13)).ToArray();
        string path = Npz("mnist.npz", ("x", Npy("|u1", [3, 2, 3], pixels)), ("y", Npy("<i8", [3], Int64s(2, 0, 1))));
        var data = DataSource.Load(path);
        Assert.Null(data.Test);
        Assert.Equal((3, 6), (data.Train.Count, data.Train.Width));
        Assert.Equal(pixels.Select(b => (float)b), data.Train.Features);
        Assert.Equal([2, 0, 1], data.Train.Labels!);
        Assert.Equal(pixels, data.Train.Bytes);
    }

    [Fact]
    public void The_keras_layout_gives_a_train_and_a_test_part()
    {
        string path = Npz("keras.npz",
            ("x_train", Npy("<f8", [2, 2], Doubles(0.5, 1.5, 2.5, 3.5))), ("y_train", Npy("<i4", [2, 1], [1, 0, 0, 0, 0, 0, 0, 0])),
            ("x_test", Npy("<f8", [1, 2], Doubles(9, 8))), ("y_test", Npy("<f4", [1], BitConverter.GetBytes(1f))));
        var data = DataSource.Load(path);
        Assert.Equal([0.5f, 1.5f, 2.5f, 3.5f], data.Train.Features);
        Assert.Equal([1, 0], data.Train.Labels!);
        Assert.Equal([9f, 8f], data.Test!.Features);
        Assert.Equal([1], data.Test.Labels!);
        Assert.Null(data.Train.Bytes);
    }

    [Fact]
    public void An_npy_of_features_is_unlabelled_in_any_byte_order_and_layout()
    {
        string big = Path.Combine(_dir.Path, "x.npy");
        File.WriteAllBytes(big, Npy(">i2", [2, 2], [0, 1, 0xFF, 0xFE, 0, 3, 0, 4])); // 1, -2, 3, 4
        var data = DataSource.Load(big).Train;
        Assert.False(data.HasLabels);
        Assert.Equal([1f, -2f, 3f, 4f], data.Features);

        string fortran = Path.Combine(_dir.Path, "f.npy");
        File.WriteAllBytes(fortran, Npy("<f4", [2, 3], new[] { 1f, 4f, 2f, 5f, 3f, 6f }.SelectMany(BitConverter.GetBytes).ToArray(), fortran: true));
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], DataSource.Load(fortran).Train.Features);
    }

    public static IEnumerable<object[]> BadFiles() =>
    [
        ["no x", new[] { ("w", Npy("<f4", [1], new byte[4])) }, "no array 'x' (features) or 'x_train'; it holds w"],
        ["labels of another count", new[] { ("x", Npy("<f4", [2, 1], new byte[8])), ("y", Npy("<i8", [3], Int64s(0, 1, 1))) }, "labels of shape (3) for 2 examples"],
        ["a negative label", new[] { ("x", Npy("<f4", [1, 1], new byte[4])), ("y", Npy("<i8", [1], Int64s(-1))) }, "label 0 is -1, not a class label"],
        ["a fractional label", new[] { ("x", Npy("<f4", [1, 1], new byte[4])), ("y", Npy("<f8", [1], Doubles(1.5))) }, "label 0 is 1.5"],
        ["a NaN feature", new[] { ("x", Npy("<f4", [1, 1], BitConverter.GetBytes(float.NaN))), ("y", Npy("<i8", [1], Int64s(0))) }, "a feature is NaN or infinite"],
        ["a complex dtype", new[] { ("x", Npy("<c8", [1, 1], new byte[8])) }, "dtype <c8 is not supported"],
        ["no examples", new[] { ("x", Npy("<f4", [0, 3], [])) }, "holds no examples"],
        ["a scalar", new[] { ("x", Npy("<f4", [], new byte[4])) }, "a single number"],
    ];

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Bad_numpy_data_is_refused_with_one_line(string what, (string, byte[])[] members, string message)
    {
        var e = Assert.Throws<EngineException>(() => DataSource.Load(Npz($"{what.Replace(' ', '_')}.npz", members)));
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void The_command_line_trains_on_npz_and_predicts_from_csv_on_standard_input()
    {
        var rng = new Random(3);
        int n = 60;
        byte[] pixels = Enumerable.Range(0, n * 4).Select(_ => (byte)rng.Next(256)).ToArray();
        long[] labels = Enumerable.Range(0, n).Select(i => (long)(pixels[4 * i] > 127 ? 1 : 0)).ToArray();
        string data = Npz("train.npz", ("x", Npy("|u1", [n, 4], pixels)), ("y", Npy("<i8", [n], Int64s(labels))));
        string model = Path.Combine(_dir.Path, "m.model");
        var train = EngineProcess.Run("train", "--data", data, "--hidden", "4", "--epochs", "2", "--out", model);
        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.Contains("4 features, 2 classes", train.Stdout);

        string csv = "p0,p1,p2,p3\n255,0,0,0\n0,9,9,9\n";
        var predict = EngineProcess.RunWithInput(csv, "predict", "--model", model, "--data", "-");
        Assert.True(predict.ExitCode == 0, predict.ToString());
        Assert.Contains("index,predicted", predict.Stdout);
        Assert.Equal(3, predict.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => char.IsDigit(l[0]) || l.StartsWith("index", StringComparison.Ordinal)));
    }
}
