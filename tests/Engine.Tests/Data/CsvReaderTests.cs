using System.Text;
using Engine.Data;

namespace Engine.Tests.Data;

public sealed class CsvReaderTests : IDisposable
{
    readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    static Dataset Parse(string text, string name = "data.csv") => CsvReader.Read(new StringReader(text), name);

    static EngineException ParseFails(string text, string name = "data.csv")
    {
        var e = Assert.Throws<EngineException>(() => Parse(text, name));
        Assert.StartsWith(name, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    // ---- CsvReader ------------------------------------------------------------------------------

    [Fact]
    public void Reads_the_kaggle_layout()
    {
        var d = Parse("label,pixel0,pixel1,pixel2\n1,0,5,255\n0,3,4,5\n9,0.5,-2,1e2\n");

        Assert.Equal(3, d.Count);
        Assert.Equal(3, d.Width);
        Assert.True(d.HasLabels);
        Assert.Equal([1, 0, 9], d.Labels!);
        Assert.Equal([0f, 5f, 255f, 3f, 4f, 5f, 0.5f, -2f, 100f], d.Features);
        Assert.Equal("data.csv", d.Source);
        Assert.Equal(10, d.ClassCountFromLabels());
    }

    [Theory]
    [InlineData("a,label,b\n1.5,2,-3\n4,0,5\n")]
    [InlineData("a,b,LABEL\n1.5,-3,2\n4,5,0\n")]
    [InlineData("\"a\",\"Label\",\"b\"\n1.5,2,-3\n4,0,5\n")]
    [InlineData(" a , label , b \n 1.5 , 2 , -3 \n4,0,5\n")]
    public void Finds_the_label_column_anywhere(string text)
    {
        var d = Parse(text);
        Assert.Equal(2, d.Count);
        Assert.Equal(2, d.Width);
        Assert.Equal([2, 0], d.Labels!);
        Assert.Equal([1.5f, -3f, 4f, 5f], d.Features);
    }

    [Fact]
    public void Reads_an_unlabelled_file()
    {
        var d = Parse("pixel0,pixel1\n1,2\n3,4\n5,6\n");
        Assert.False(d.HasLabels);
        Assert.Null(d.Labels);
        Assert.Equal(3, d.Count);
        Assert.Equal(2, d.Width);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], d.Features);
        Assert.Equal(0, d.ClassCountFromLabels());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(784)]
    public void The_input_width_comes_from_the_file(int width)
    {
        var text = new StringBuilder("label");
        for (int j = 0; j < width; j++) text.Append(",f").Append(j);
        text.Append('\n');
        for (int i = 0; i < 3; i++)
        {
            text.Append(i);
            for (int j = 0; j < width; j++) text.Append(',').Append(i + j);
            text.Append('\n');
        }
        var d = Parse(text.ToString());
        Assert.Equal(width, d.Width);
        Assert.Equal(3, d.Count);
        Assert.Equal([0, 1, 2], d.Labels!);
        Assert.Equal(2f + width - 1, d.Row(2)[^1]);
    }

    [Fact]
    public void A_bad_number_names_line_and_column()
    {
        var e = ParseFails("label,a,b\n1,2,3\n0,4,abc\n");
        Assert.Contains("line 3", e.Message);
        Assert.Contains("column 3", e.Message);
        Assert.Contains("(b)", e.Message);
        Assert.Contains("'abc'", e.Message);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("1e39")]
    [InlineData("")]
    [InlineData("0x10")]
    [InlineData("1.2.3")]
    public void Non_finite_or_malformed_numbers_are_rejected(string field)
    {
        string text = $"a,b\n1,2\n3,{field}\n";
        var e = ParseFails(text);
        Assert.Contains("line 3", e.Message);
        Assert.Contains("column 2", e.Message);
        Assert.Contains("(b)", e.Message);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("2e0")]
    [InlineData("x")]
    [InlineData("")]
    [InlineData("65536")]
    [InlineData("99999999999")]
    public void A_bad_label_names_line_and_column(string label)
    {
        var e = ParseFails($"a,label\n1,0\n2,{label}\n");
        Assert.Contains("line 3", e.Message);
        Assert.Contains("column 2", e.Message);
        Assert.Contains("label", e.Message);
    }

    [Fact]
    public void The_largest_label_is_accepted()
    {
        var d = Parse($"label,a\n{CsvReader.MaxLabel},1\n");
        Assert.Equal([CsvReader.MaxLabel], d.Labels!);
    }

    [Fact]
    public void A_long_bad_field_is_shortened_in_the_message()
    {
        string field = new('z', 500);
        var e = ParseFails($"a\n{field}\n");
        Assert.Contains("line 2", e.Message);
        Assert.True(e.Message.Length < 200, e.Message);
    }

    [Fact]
    public void More_fields_than_the_header_names_line_and_column()
    {
        var e = ParseFails("label,a,b\n1,2,3\n0,4,5\n1,2,3,4\n");
        Assert.Contains("line 4", e.Message);
        Assert.Contains("column 4", e.Message); // the first field beyond the header's
        Assert.Contains("3 fields", e.Message);
    }

    [Fact]
    public void Fewer_fields_than_the_header_names_line_column_and_the_counts()
    {
        var e = ParseFails("label,a,b\n1,2,3\n0,4\n");
        Assert.Contains("line 3", e.Message);
        Assert.Contains("column 3", e.Message); // the first missing field
        Assert.Contains("2 fields", e.Message);
        Assert.Contains("3", e.Message);
    }

    [Fact]
    public void A_trailing_comma_is_an_extra_field()
    {
        var e = ParseFails("a,b\n1,2,\n");
        Assert.Contains("line 2", e.Message);
    }

    [Theory]
    [InlineData("1,2,3\n4,5,6\n")]
    [InlineData("0,0.5,1e3\n")]
    [InlineData("7\n")]
    public void A_missing_header_is_reported_on_line_1(string text)
    {
        var e = ParseFails(text);
        Assert.Contains("line 1", e.Message);
        Assert.Contains("header", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("   \r\n")]
    public void An_empty_file_is_reported(string text)
    {
        var e = ParseFails(text);
        Assert.Contains("empty", e.Message);
    }

    [Theory]
    [InlineData("label,a,b\n")]
    [InlineData("label,a,b")]
    [InlineData("label,a,b\n\n  \n\n")]
    public void A_file_without_data_rows_is_reported(string text)
    {
        var e = ParseFails(text);
        Assert.Contains("no data rows", e.Message);
    }

    [Fact]
    public void A_header_with_only_a_label_column_is_reported()
    {
        var e = ParseFails("label\n1\n");
        Assert.Contains("line 1", e.Message);
        Assert.Contains("no feature columns", e.Message);
    }

    [Fact]
    public void Blank_lines_are_skipped_but_still_counted_in_line_numbers()
    {
        var d = Parse("label,a\n\n1,2\n   \n0,3\n\n\n");
        Assert.Equal(2, d.Count);
        Assert.Equal([1, 0], d.Labels!);
        Assert.Equal([2f, 3f], d.Features);

        var e = ParseFails("label,a\n\n1,2\n   \n0,x\n");
        Assert.Contains("line 5", e.Message);
    }

    [Fact]
    public void Crlf_line_endings_are_read_from_a_file()
    {
        string path = _dir.WriteText("crlf.csv", "label,a,b\r\n1,2,3\r\n\r\n0,4,5\r\n");
        var d = CsvReader.Read(path);
        Assert.Equal(2, d.Count);
        Assert.Equal(2, d.Width);
        Assert.Equal([1, 0], d.Labels!);
        Assert.Equal([2f, 3f, 4f, 5f], d.Features);
        Assert.Equal(path, d.Source);
    }

    [Fact]
    public void Crlf_errors_still_name_the_line_and_column()
    {
        string path = _dir.WriteText("crlf-bad.csv", "label,a,b\r\n1,2,3\r\n0,4,?\r\n");
        var e = Assert.Throws<EngineException>(() => CsvReader.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("line 3", e.Message);
        Assert.Contains("column 3", e.Message);
    }

    [Fact]
    public void A_utf8_byte_order_mark_does_not_hide_the_label_column()
    {
        string path = _dir.File("bom.csv");
        File.WriteAllText(path, "label,a\n3,1\n", new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        var d = CsvReader.Read(path);
        Assert.Equal([3], d.Labels!);
        Assert.Equal(1, d.Width);
    }

    [Fact]
    public void A_missing_csv_file_is_reported_by_name()
    {
        string path = _dir.File("missing.csv");
        var e = Assert.Throws<EngineException>(() => CsvReader.Read(path));
        Assert.Contains(path, e.Message);
    }

    // ---- DataSource -----------------------------------------------------------------------------

    [Fact]
    public void An_images_file_finds_its_sibling_labels_file()
    {
        _dir.Write("foo-images-idx3-ubyte", IdxFiles.Images(3, 2, 2));
        _dir.Write("foo-labels-idx1-ubyte", IdxFiles.Labels(4, 0, 7));

        var loaded = DataSource.Load(_dir.File("foo-images-idx3-ubyte"));

        Assert.Null(loaded.Test);
        Assert.Equal(3, loaded.Train.Count);
        Assert.Equal(4, loaded.Train.Width);
        Assert.Equal([4, 0, 7], loaded.Train.Labels!);
    }

    [Fact]
    public void A_gzip_images_file_finds_its_gzip_labels_file()
    {
        _dir.Write("t10k-images-idx3-ubyte.gz", IdxFiles.Gzip(IdxFiles.Images(2, 3, 3)));
        _dir.Write("t10k-labels-idx1-ubyte.gz", IdxFiles.Gzip(IdxFiles.Labels(1, 2)));

        var data = DataSource.LoadForInference(_dir.File("t10k-images-idx3-ubyte.gz"));

        Assert.Equal(2, data.Count);
        Assert.Equal(9, data.Width);
        Assert.Equal([1, 2], data.Labels!);
    }

    [Fact]
    public void An_images_file_without_labels_loads_unlabelled()
    {
        string path = _dir.Write("x-images-idx3-ubyte", IdxFiles.Images(2, 2, 3));
        var loaded = DataSource.Load(path);
        Assert.False(loaded.Train.HasLabels);
        Assert.Equal(2, loaded.Train.Count);
        Assert.Equal(6, loaded.Train.Width);
    }

    [Fact]
    public void A_directory_with_train_and_test_pairs_loads_both()
    {
        _dir.Write("train-images-idx3-ubyte", IdxFiles.Images(4, 2, 2));
        _dir.Write("train-labels-idx1-ubyte.gz", IdxFiles.Gzip(IdxFiles.Labels(0, 1, 2, 1)));
        _dir.Write("t10k-images-idx3-ubyte.gz", IdxFiles.Gzip(IdxFiles.Images(2, 2, 2)));
        _dir.Write("t10k-labels-idx1-ubyte", IdxFiles.Labels(2, 0));

        var loaded = DataSource.Load(_dir.Path);

        Assert.Equal(4, loaded.Train.Count);
        Assert.Equal([0, 1, 2, 1], loaded.Train.Labels!);
        Assert.NotNull(loaded.Test);
        Assert.Equal(2, loaded.Test!.Count);
        Assert.Equal([2, 0], loaded.Test.Labels!);
        Assert.Equal(2, DataSource.LoadForInference(_dir.Path).Count);
    }

    [Fact]
    public void A_directory_with_only_a_train_pair_has_no_test_part()
    {
        _dir.Write("train-images-idx3-ubyte", IdxFiles.Images(4, 2, 2));
        _dir.Write("train-labels-idx1-ubyte", IdxFiles.Labels(0, 1, 2, 1));
        var loaded = DataSource.Load(_dir.Path);
        Assert.Null(loaded.Test);
        Assert.Equal(4, DataSource.LoadForInference(_dir.Path).Count);
    }

    [Theory]
    [InlineData("t10k-images-idx3-ubyte")]
    [InlineData("t10k-labels-idx1-ubyte.gz")]
    public void A_directory_with_only_one_of_the_t10k_pair_is_an_error(string present)
    {
        _dir.Write("train-images-idx3-ubyte", IdxFiles.Images(4, 2, 2));
        _dir.Write("train-labels-idx1-ubyte", IdxFiles.Labels(0, 1, 2, 1));
        _dir.Write(present, present.EndsWith(".gz") ? IdxFiles.Gzip(IdxFiles.Labels(1, 1)) : IdxFiles.Images(2, 2, 2));

        var e = Assert.Throws<EngineException>(() => DataSource.Load(_dir.Path));
        Assert.Contains(_dir.Path, e.Message);
        Assert.Contains("only one of", e.Message);
    }

    [Theory]
    [InlineData("train-labels-idx1-ubyte", "train-images-idx3-ubyte")]
    [InlineData("train-images-idx3-ubyte", "train-labels-idx1-ubyte")]
    public void A_directory_missing_a_train_file_is_an_error(string present, string missing)
    {
        _dir.Write(present, present.Contains("images") ? IdxFiles.Images(2, 2, 2) : IdxFiles.Labels(1, 1));
        var e = Assert.Throws<EngineException>(() => DataSource.Load(_dir.Path));
        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public void Image_and_label_counts_must_agree()
    {
        _dir.Write("train-images-idx3-ubyte", IdxFiles.Images(5, 2, 2));
        _dir.Write("train-labels-idx1-ubyte", IdxFiles.Labels(0, 1, 2, 1));
        var e = Assert.Throws<EngineException>(() => DataSource.Load(_dir.Path));
        Assert.Contains("4 labels for 5 images", e.Message);
        Assert.Contains("train-labels-idx1-ubyte", e.Message);
    }

    [Fact]
    public void Labels_must_have_rank_1()
    {
        _dir.Write("train-images-idx3-ubyte", IdxFiles.Images(2, 2, 2));
        _dir.Write("train-labels-idx1-ubyte", IdxFiles.Build([2, 1], [0, 1]));
        var e = Assert.Throws<EngineException>(() => DataSource.Load(_dir.Path));
        Assert.Contains("rank", e.Message);
    }

    [Fact]
    public void Images_must_have_rank_2_or_more_and_at_least_one_example()
    {
        string rank1 = _dir.Write("a-images-idx3-ubyte", IdxFiles.Build([4], [1, 2, 3, 4]));
        Assert.Contains("rank", Assert.Throws<EngineException>(() => DataSource.Load(rank1)).Message);

        string empty = _dir.Write("b-images-idx3-ubyte", IdxFiles.Build([0, 28, 28], []));
        Assert.Contains("no examples", Assert.Throws<EngineException>(() => DataSource.Load(empty)).Message);
    }

    [Fact]
    public void A_csv_path_loads_through_the_data_source()
    {
        string path = _dir.WriteText("digits.CSV", "label,a,b\n1,2,3\n");
        var loaded = DataSource.Load(path);
        Assert.Null(loaded.Test);
        Assert.Equal([1], loaded.Train.Labels!);
    }

    [Fact]
    public void A_gzip_csv_loads_through_the_data_source()
    {
        // DataSource accepts *.csv.gz as CSV, so its content must be decompressed.
        string path = _dir.Write("digits.csv.gz", IdxFiles.Gzip(Encoding.UTF8.GetBytes("label,a,b\n1,2,3\n0,4,5\n")));
        var loaded = DataSource.Load(path);
        Assert.Equal(2, loaded.Train.Count);
        Assert.Equal(2, loaded.Train.Width);
        Assert.Equal([1, 0], loaded.Train.Labels!);
        Assert.Equal([2f, 3f, 4f, 5f], loaded.Train.Features);
    }

    [Fact]
    public void Unknown_and_missing_paths_are_errors()
    {
        string missing = _dir.File("nothing-here");
        Assert.Contains(missing, Assert.Throws<EngineException>(() => DataSource.Load(missing)).Message);

        string other = _dir.WriteText("notes.txt", "hello");
        Assert.Contains(other, Assert.Throws<EngineException>(() => DataSource.Load(other)).Message);

        Assert.Contains("no train-images", Assert.Throws<EngineException>(() => DataSource.Load(_dir.Path)).Message);
    }

    // ---- ValidationSplit ------------------------------------------------------------------------

    static Dataset Numbered(int count, int width = 2)
    {
        var features = new float[count * width];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            for (int j = 0; j < width; j++) features[i * width + j] = i + j / 10f;
            labels[i] = i % 3;
        }
        return new Dataset(features, labels, count, width, "numbered");
    }

    static int[] Ids(Dataset d) => Enumerable.Range(0, d.Count).Select(i => (int)d.Row(i)[0]).ToArray();

    [Theory]
    [InlineData(100, 0.2, 20)]
    [InlineData(100, 0.5, 50)]
    [InlineData(10, 0.25, 2)] // Math.Round(2.5) rounds to even
    [InlineData(7, 0.1, 1)]
    [InlineData(1000, 0.999, 999)]
    public void Validation_split_sizes(int count, double fraction, int held)
    {
        var (train, validation) = ValidationSplit.Split(Numbered(count), fraction, seed: 3);
        Assert.Equal(held, validation.Count);
        Assert.Equal(count - held, train.Count);
    }

    [Fact]
    public void Validation_split_parts_are_disjoint_complete_and_in_file_order()
    {
        var data = Numbered(200, width: 3);
        var (train, validation) = ValidationSplit.Split(data, 0.3, seed: 11);

        int[] a = Ids(train), b = Ids(validation);
        Assert.Empty(a.Intersect(b));
        Assert.Equal(Enumerable.Range(0, 200), a.Concat(b).Order());
        Assert.Equal(a.Order(), a);
        Assert.Equal(b.Order(), b);
        // Rows move whole, with their labels.
        foreach (var part in new[] { train, validation })
            for (int i = 0; i < part.Count; i++)
            {
                int id = (int)part.Row(i)[0];
                Assert.Equal(id % 3, part.Labels![i]);
                Assert.Equal(id + 0.2f, part.Row(i)[2]);
            }
        // Not simply the first or last rows.
        Assert.NotEqual(Enumerable.Range(0, 60), b);
        Assert.NotEqual(Enumerable.Range(140, 60), b);
        Assert.Contains("validation", validation.Source);
    }

    [Fact]
    public void Validation_split_is_deterministic_in_the_seed()
    {
        var data = Numbered(100);
        var first = ValidationSplit.Split(data, 0.2, seed: 42);
        var second = ValidationSplit.Split(data, 0.2, seed: 42);
        var other = ValidationSplit.Split(data, 0.2, seed: 43);

        Assert.Equal(Ids(first.Validation), Ids(second.Validation));
        Assert.Equal(Ids(first.Train), Ids(second.Train));
        Assert.NotEqual(Ids(first.Validation), Ids(other.Validation));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(1.5)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Validation_fractions_outside_0_1_are_rejected(double fraction)
    {
        Assert.Throws<EngineException>(() => ValidationSplit.Split(Numbered(10), fraction, 0));
    }

    [Theory]
    [InlineData(3, 0.1)]  // nothing held out
    [InlineData(3, 0.9)]  // nothing left to train on
    [InlineData(1, 0.5)]
    public void Validation_splits_leaving_an_empty_part_are_rejected(int count, double fraction)
    {
        var e = Assert.Throws<EngineException>(() => ValidationSplit.Split(Numbered(count), fraction, 0));
        Assert.Contains("empty", e.Message);
    }

    // ---- InputScaling ---------------------------------------------------------------------------

    [Fact]
    public void FitMax_divides_by_the_largest_value()
    {
        // Features 0..16, like the UCI 8x8 digits.
        var features = Enumerable.Range(0, 40).Select(i => (float)(i * 7 % 17)).ToArray();
        var data = new Dataset(features, null, 10, 4, "digits");

        var scaling = InputScaling.FitMax(data);

        Assert.Equal(InputScaling.Kind.Divide, scaling.Mode);
        Assert.Equal(16f, scaling.Divisor);
        var scaled = scaling.Apply(data);
        Assert.Equal(1f, scaled.Features.Max());
        Assert.Equal(0f, scaled.Features.Min());
        for (int i = 0; i < features.Length; i++) Assert.Equal(features[i] / 16f, scaled.Features[i]);
        Assert.Equal(data.Count, scaled.Count);
        Assert.Same(data.Labels, scaled.Labels);
        Assert.Equal(7f, features[1]); // the input is not modified
    }

    [Fact]
    public void FitMax_of_non_positive_data_divides_by_one()
    {
        var data = new Dataset([0f, -3f, 0f, -1f], null, 2, 2, "neg");
        Assert.Equal(1f, InputScaling.FitMax(data).Divisor);
    }

    [Fact]
    public void FitStandardize_gives_zero_mean_unit_deviation_and_keeps_constant_features_finite()
    {
        const int n = 500, d = 4;
        var rng = new Random(1234);
        var features = new float[n * d];
        for (int i = 0; i < n; i++)
        {
            features[i * d + 0] = (float)(rng.NextDouble() * 16);         // 0..16
            features[i * d + 1] = 7f;                                      // constant
            features[i * d + 2] = 1000f + (float)rng.NextDouble();         // large offset, small spread
            features[i * d + 3] = i % 2 == 0 ? 0f : 255f;                  // two values
        }
        var data = new Dataset(features, null, n, d, "mixed");

        var scaling = InputScaling.FitStandardize(data);
        var scaled = scaling.Apply(data);

        Assert.Equal(InputScaling.Kind.Standardize, scaling.Mode);
        Assert.Equal(d, scaling.Width);
        Assert.Equal(1f, scaling.Std[1]);
        Assert.All(scaled.Features, v => Assert.True(float.IsFinite(v)));
        for (int j = 0; j < d; j++)
        {
            double mean = 0, sq = 0;
            for (int i = 0; i < n; i++) mean += scaled.Features[i * d + j];
            mean /= n;
            for (int i = 0; i < n; i++) sq += Math.Pow(scaled.Features[i * d + j] - mean, 2);
            double std = Math.Sqrt(sq / n);
            Assert.True(Math.Abs(mean) < 1e-3, $"feature {j}: mean {mean}");
            if (j == 1) Assert.Equal(0, std);
            else Assert.True(Math.Abs(std - 1) < 1e-3, $"feature {j}: std {std}");
        }
    }

    [Fact]
    public void Standardize_rejects_data_of_another_width()
    {
        var scaling = InputScaling.FitStandardize(new Dataset([1f, 2f, 3f, 5f], null, 2, 2, "fit"));
        var e = Assert.Throws<EngineException>(() => scaling.Apply(new Dataset([1f, 2f, 3f], null, 1, 3, "other")));
        Assert.Contains("other", e.Message);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Divide_rejects_divisors_that_are_not_positive_and_finite(float divisor)
    {
        Assert.Throws<EngineException>(() => InputScaling.Divide(divisor));
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Standardize_rejects_deviations_that_are_not_positive_and_finite(float std)
    {
        Assert.Throws<EngineException>(() => InputScaling.Standardize([0f, 0f], [1f, std]));
    }
}
