using System.Globalization;
using System.Text.Json;
using Engine.Cli.Imaging;
using Engine.Data;
using Engine.Kernels;
using Engine.Tests.Data;
using Engine.Tests.Imaging;
using Xunit.Abstractions;
using static Engine.Tests.Imaging.DigitPictures;

namespace Engine.Tests.Cli;

/// <summary><c>engine predict --model M --image F [--json]</c> run as a child process on files made from test digits.</summary>
public sealed class PredictImageTests(ITestOutputHelper output) : IDisposable
{
    const int Usage = 2, Failure = 1;
    /// <summary>Test digits written as pictures, one of each class among the first ones, plus a few more.</summary>
    static readonly int[] Indices = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

    readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>The model's class for the original 784-value test digits.</summary>
    static int[] OriginalClasses()
    {
        var features = new float[Indices.Length * 784];
        for (int i = 0; i < Indices.Length; i++) Digit(Indices[i]).Pixels.CopyTo(features, i * 784);
        return Classes(features, Indices.Length);
    }

    string[] WritePictures(string format) => Indices.Select(i =>
    {
        GreyImage picture = Photo(i);
        return format switch
        {
            "png" => _dir.Write($"digit{i}.png", ImageFiles.Png(picture, tint: i % 2 == 1)),
            "jpeg" => _dir.Write($"digit{i}.jpg", ImageFiles.Jpeg(picture, quality: 90)),
            "webp" => _dir.Write($"digit{i}.webp", ImageFiles.Webp(picture, quality: 90)),
            "p2" => _dir.Write($"digit{i}.pgm", ImageFiles.PgmAscii(picture)),
            "p5" => _dir.Write($"digit{i}.pgm", ImageFiles.PgmBinary(picture, maxval: 65535)),
            _ => throw new ArgumentException(format),
        };
    }).ToArray();

    [Theory]
    [InlineData("png", 12)]
    [InlineData("p2", 12)]
    [InlineData("p5", 12)]
    [InlineData("jpeg", 11)]
    [InlineData("webp", 11)]
    public void Json_for_several_pictures_matches_the_models_class_for_the_original_digits(string format, int leastAgreeing)
    {
        string[] files = WritePictures(format);
        var run = EngineProcess.Run(["predict", "--model", ModelPath, "--image", .. files, "--json", "--threads", "1"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("", run.Stderr);

        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal(JsonValueKind.Array, json.RootElement.ValueKind);
        Assert.Equal(files.Length, json.RootElement.GetArrayLength());
        int[] original = OriginalClasses();
        int agree = 0;
        for (int i = 0; i < files.Length; i++)
        {
            JsonElement item = json.RootElement[i];
            Assert.Equal(files[i], item.GetProperty("image").GetString());
            int predicted = item.GetProperty("predicted").GetInt32();
            float[] p = item.GetProperty("probabilities").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            Assert.Equal(10, p.Length);
            Assert.InRange(p.Sum(), 0.999f, 1.001f);
            Assert.Equal(Classifier.ArgMax(p), predicted);
            // The same numbers as preprocessing the decoded file in this process: the JSON floats round-trip.
            float[] expected = Model.PredictProbabilities(DigitImage.Preprocess(ImageFile.Load(files[i])).Digit.Pixels, 1);
            Assert.Equal(expected, p);
            if (predicted == original[i]) agree++;
        }
        output.WriteLine($"{format}: {agree} of {files.Length} pictures get the class of the original digit");
        Assert.True(agree >= leastAgreeing, $"{format}: only {agree} of {files.Length} agree with the original digits' classes");
    }

    [Fact]
    public void Json_for_one_picture_is_exactly_predicted_and_probabilities()
    {
        string file = WritePictures("png")[3];
        var run = EngineProcess.Run("predict", "--model", ModelPath, "--image", file, "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal(["predicted", "probabilities"], json.RootElement.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(OriginalClasses()[3], json.RootElement.GetProperty("predicted").GetInt32());
        Assert.Equal(10, json.RootElement.GetProperty("probabilities").GetArrayLength());
    }

    [Fact]
    public void Text_output_lists_the_top_three_classes_most_probable_first()
    {
        string file = WritePictures("p5")[5];
        var run = EngineProcess.Run("predict", "--model", ModelPath, "--image", file);
        Assert.True(run.ExitCode == 0, run.ToString());
        output.WriteLine(run.Stdout);
        float[] p = Model.PredictProbabilities(DigitImage.Preprocess(ImageFile.Load(file)).Digit.Pixels, 1);
        int[] top = Enumerable.Range(0, 10).OrderByDescending(c => p[c]).Take(3).ToArray();
        string[] lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.Equal($"{file}: predicted {top[0]}", lines[0]);
        for (int r = 0; r < 3; r++)
        {
            string[] cells = lines[r + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal([top[r].ToString(CultureInfo.InvariantCulture), (p[top[r]] * 100).ToString("F2", CultureInfo.InvariantCulture), "%"], cells);
        }
        Assert.Equal(OriginalClasses()[5], top[0]);
    }

    [Theory]
    [InlineData("seen.pgm")]
    [InlineData("seen.png")]
    public void Save_preprocessed_writes_the_28x28_the_network_saw(string name)
    {
        string file = WritePictures("png")[2];
        string saved = _dir.File(name);
        var run = EngineProcess.Run("predict", "--model", ModelPath, "--image", file, "--save-preprocessed", saved);
        Assert.True(run.ExitCode == 0, run.ToString());
        GreyImage seen = ImageFile.Load(saved);
        Assert.Equal((28, 28), (seen.Width, seen.Height));
        GreyImage expected = DigitImage.Preprocess(ImageFile.Load(file)).Digit;
        Assert.Equal(expected.ToBytes(), seen.ToBytes());
        Assert.True(MeanAbsDifference(seen, Digit(2)) < 1, "the PNG round trip should restore the test digit");
    }

    // ---- errors ---------------------------------------------------------------------------------

    [Fact]
    public void A_missing_picture_is_reported()
    {
        string missing = _dir.File("absent.png");
        CliTests.AssertFailsCleanly(EngineProcess.Run("predict", "--model", ModelPath, "--image", missing), Failure, missing, "not found");
    }

    [Fact]
    public void A_file_that_is_not_a_picture_is_reported()
    {
        string text = _dir.WriteText("notes.png", "this is not a picture at all, just some text\n");
        CliTests.AssertFailsCleanly(EngineProcess.Run("predict", "--model", ModelPath, "--image", text), Failure, text, "not an image");
        string empty = _dir.Write("empty.jpg", []);
        CliTests.AssertFailsCleanly(EngineProcess.Run("predict", "--model", ModelPath, "--image", empty), Failure, empty, "empty file");
    }

    [Fact]
    public void An_unsupported_format_is_reported()
    {
        string ppm = _dir.Write("colour.ppm", System.Text.Encoding.ASCII.GetBytes("P6\n2 2\n255\n............"));
        CliTests.AssertFailsCleanly(EngineProcess.Run("predict", "--model", ModelPath, "--image", ppm), Failure, ppm, "P6 is not supported");
        // TIFF is one of the formats SkiaSharp does not decode.
        string tiff = _dir.Write("scan.tif", [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
        CliTests.AssertFailsCleanly(EngineProcess.Run("predict", "--model", ModelPath, "--image", tiff), Failure, tiff, "not an image");
    }

    [Fact]
    public void Truncated_and_absurd_pictures_are_reported()
    {
        byte[] png = ImageFiles.Png(Photo(0));
        string cut = _dir.Write("cut.png", png[..(png.Length / 2)]);
        CliTests.AssertFailsCleanly(EngineProcess.Run("predict", "--model", ModelPath, "--image", cut), Failure, cut);
        byte[] pgm = ImageFiles.PgmBinary(Photo(0));
        string cutPgm = _dir.Write("cut.pgm", pgm[..(pgm.Length - 100)]);
        CliTests.AssertFailsCleanly(EngineProcess.Run("predict", "--model", ModelPath, "--image", cutPgm), Failure, cutPgm, "truncated");
        string huge = _dir.Write("huge.pgm", System.Text.Encoding.ASCII.GetBytes("P5\n2000000000 2000000000\n255\n\0\0\0\0"));
        CliTests.AssertFailsCleanly(EngineProcess.Run("predict", "--model", ModelPath, "--image", huge), Failure, huge, "too large");
    }

    [Fact]
    public void A_blank_picture_is_no_ink_found()
    {
        var blank = new GreyImage(64, 48, Enumerable.Repeat(250f, 64 * 48).ToArray());
        string file = _dir.Write("blank.png", ImageFiles.Png(blank));
        var run = EngineProcess.Run("predict", "--model", ModelPath, "--image", file, "--json");
        CliTests.AssertFailsCleanly(run, Failure, file, "no ink found");
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public void One_bad_picture_among_several_prints_no_results()
    {
        string[] files = WritePictures("p5")[..2];
        string missing = _dir.File("absent.pgm");
        var run = EngineProcess.Run("predict", "--model", ModelPath, "--image", files[0], missing, files[1]);
        CliTests.AssertFailsCleanly(run, Failure, missing);
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public void A_model_without_784_inputs_is_reported()
    {
        string small = _dir.File("small.model");
        using (var model = Classifier.Create(20, [4], 3, Activation.Tanh, InputScaling.Divide(255f)))
            model.Save(small);
        string file = WritePictures("p5")[0];
        CliTests.AssertFailsCleanly(EngineProcess.Run("predict", "--model", small, "--image", file), Failure, small, "784");
    }

    [Theory]
    [InlineData("--data", "DATA", "exclude each other")]
    [InlineData("--out", "OUT.csv", "--out")]
    [InlineData("--save-preprocessed", "seen.bmp", "--save-preprocessed writes .pgm or .png")]
    [InlineData("--image", "second.pgm", "--save-preprocessed takes one --image")]
    public void Options_that_do_not_go_with_image_are_usage_errors(string option, string value, string message)
    {
        string file = WritePictures("p5")[0];
        string argument = value switch { "DATA" => DataSource.BundledDirectory(), _ => _dir.File(value) };
        string[] extra = option == "--image" ? ["--save-preprocessed", _dir.File("seen.pgm")] : [];
        var run = EngineProcess.Run(["predict", "--model", ModelPath, "--image", file, option, argument, .. extra]);
        CliTests.AssertFailsCleanly(run, Usage, message);
        Assert.Equal("", run.Stdout);
    }

    // --json without --image is no longer one: it prints JSON lines for --data (issue 15; ProvenanceTests).
    [Theory]
    [InlineData("--save-preprocessed")]
    public void Image_options_without_image_are_usage_errors(string option)
    {
        string[] args = ["predict", "--model", ModelPath, option, _dir.File("x.pgm")];
        CliTests.AssertFailsCleanly(EngineProcess.Run(args), Usage, option);
    }
}
