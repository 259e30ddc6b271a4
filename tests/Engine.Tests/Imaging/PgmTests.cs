using System.Text;
using Engine.Cli.Imaging;

namespace Engine.Tests.Imaging;

/// <summary>The PGM reader (<see cref="Pgm"/>): P2 and P5, 8 and 16 bits, and its refusals.</summary>
public sealed class PgmTests
{
    static GreyImage Sample()
    {
        var image = new GreyImage(5, 3);
        for (int i = 0; i < image.Pixels.Length; i++) image.Pixels[i] = i * 17;
        return image;
    }

    [Theory]
    [InlineData(255)]
    [InlineData(15)]
    [InlineData(1000)]
    [InlineData(65535)]
    public void Ascii_and_binary_files_read_back_scaled_to_0_255(int maxval)
    {
        GreyImage image = Sample();
        foreach (byte[] file in new[] { ImageFiles.PgmAscii(image, maxval), ImageFiles.PgmBinary(image, maxval) })
        {
            GreyImage read = Pgm.Read(file, "x.pgm");
            Assert.Equal((5, 3), (read.Width, read.Height));
            for (int i = 0; i < image.Pixels.Length; i++)
            {
                float expected = (float)Math.Round(image.Pixels[i] * maxval / 255.0) * 255f / maxval;
                Assert.Equal(expected, read.Pixels[i], 3);
            }
        }
    }

    [Fact]
    public void Comments_and_any_whitespace_are_allowed_in_the_header()
    {
        byte[] file = Encoding.ASCII.GetBytes("P2 # a comment\n#another\n2\t# width\n 1\r\n# maxval next\n4\n0 4\n");
        GreyImage read = Pgm.Read(file, "x.pgm");
        Assert.Equal([0f, 255f], read.Pixels);
    }

    [Fact]
    public void What_it_writes_reads_back()
    {
        GreyImage image = Sample();
        Assert.Equal(image.Pixels, Pgm.Read(Pgm.Encode(image), "x.pgm").Pixels);
    }

    [Theory]
    [InlineData("P6\n2 2\n255\n", "P6 is not supported")]
    [InlineData("P5\n", "truncated PGM header (no width)")]
    [InlineData("P5\n2 2\n", "truncated PGM header (no maxval)")]
    [InlineData("P5\nx 2\n255\n", "width is not a number")]
    [InlineData("P5\n2x 2\n255\n", "width is not a number")]
    [InlineData("P5\n0 2\n255\n", "bad PGM size 0×2")]
    [InlineData("P5\n100000 100000\n255\n", "too large")]
    [InlineData("P5\n99999999999 1\n255\n", "too large")]
    [InlineData("P5\n2 2\n0\n", "bad PGM maxval 0")]
    [InlineData("P5\n2 2\n65536\n", "bad PGM maxval 65536")]
    [InlineData("P5\n2 2\n255", "no image data")]
    [InlineData("P5\n2 2\n255\nabc", "truncated PGM: 2×2 samples need 4 bytes of data, the file has 3")]
    [InlineData("P5\n2 1\n1000\nabc", "need 4 bytes")]
    [InlineData("P2\n2 2\n255\n1 2 3    ", "truncated PGM: 3 of 4 samples present")]
    [InlineData("P2\n3 3\n255\n1 2", "cannot fit")]
    [InlineData("P2\n2 1\n10\n3 11\n", "sample 1 is 11, above maxval 10")]
    [InlineData("P2\n2 1\n255\n3 z\n", "PGM sample 1 is not a number")]
    [InlineData("P5\n2 1\n200\n\x05\xC9", "sample 1 is 201, above maxval 200")]
    public void Bad_files_are_one_line_errors_naming_the_file(string content, string message)
    {
        byte[] file = Encoding.Latin1.GetBytes(content);
        var e = Assert.Throws<EngineException>(() => Pgm.Read(file, "bad.pgm"));
        Assert.StartsWith("bad.pgm: ", e.Message);
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
