using Engine.Cli.Imaging;
using Xunit.Abstractions;
using static Engine.Tests.Imaging.DigitPictures;

namespace Engine.Tests.Imaging;

/// <summary>MNIST-style preprocessing of pictures (<see cref="DigitImage"/>), without files.</summary>
public sealed class DigitImageTests(ITestOutputHelper output)
{
    const int Images = 100;

    /// <summary>
    /// Test digits enlarged 3×, turned into black on white and pasted off-centre come back as the original 28×28:
    /// the crop, the 3:1 area average and the centring undo the enlargement exactly when the original's own centring
    /// agrees with ours, and a one-pixel shift at most otherwise.
    /// </summary>
    [Fact]
    public void An_enlarged_inverted_off_centre_digit_comes_back_as_the_original()
    {
        var (errors, agree) = RoundTrip(i =>
        {
            var result = DigitImage.Preprocess(Photo(i));
            Assert.True(result.Inverted, $"image {i}: black on white must be inverted");
            return result.Digit;
        });
        int exact = errors.Count(e => e == 0);
        output.WriteLine($"mean abs difference: mean {errors.Average():F3}, max {errors.Max():F3} grey levels; {exact} of {Images} exact; classes agree on {agree} of {Images}");
        Assert.True(errors.Average() <= 2.0, $"mean abs difference {errors.Average():F3} > 2 grey levels");
        Assert.True(exact >= Images / 2, $"only {exact} of {Images} come back exactly");
        Assert.True(agree >= 90, $"the predicted class agrees on {agree} of {Images} only");
    }

    /// <summary>The same with a bilinear 2.6× enlargement, which blurs: looser bounds, the class still agrees.</summary>
    [Fact]
    public void A_bilinear_enlarged_digit_comes_back_close_to_the_original_and_gets_the_same_class()
    {
        var (errors, agree) = RoundTrip(i =>
            DigitImage.Preprocess(Paste(Invert(Resample(Digit(i), 2.6)), 120, 100, 255f, 3 + i % 40, 1 + i % 26)).Digit);
        output.WriteLine($"mean abs difference: mean {errors.Average():F3}, max {errors.Max():F3} grey levels; classes agree on {agree} of {Images}");
        Assert.True(errors.Average() <= 15.0, $"mean abs difference {errors.Average():F3} > 15 grey levels");
        Assert.True(agree >= 90, $"the predicted class agrees on {agree} of {Images} only");
    }

    /// <summary>
    /// Test digit i → a picture → <paramref name="recover"/>, for the first <see cref="Images"/> digits: each one's mean
    /// absolute difference from the original, and on how many a model gives the original's class.
    /// </summary>
    static (double[] Errors, int Agree) RoundTrip(Func<int, GreyImage> recover)
    {
        var errors = new double[Images];
        var original = new float[Images * 784];
        var recovered = new float[Images * 784];
        for (int i = 0; i < Images; i++)
        {
            GreyImage digit = recover(i);
            errors[i] = MeanAbsDifference(digit, Digit(i));
            Digit(i).Pixels.CopyTo(original, i * 784);
            digit.Pixels.CopyTo(recovered, i * 784);
        }
        int agree = Classes(original, Images).Zip(Classes(recovered, Images)).Count(p => p.First == p.Second);
        return (errors, agree);
    }

    [Fact]
    public void Light_ink_on_black_is_kept_and_dark_ink_on_light_or_grey_paper_is_inverted()
    {
        GreyImage digit = Paste(Enlarge(Digit(0), 2), 80, 70, 0f, 10, 5);
        var white = DigitImage.Preprocess(digit);
        Assert.False(white.Inverted);

        var black = DigitImage.Preprocess(Invert(digit));
        Assert.True(black.Inverted);
        Assert.Equal(white.Digit.Pixels, black.Digit.Pixels);

        // Dark ink (20) on mid-grey paper (100): the ink reaches further below the background than anything above it.
        var grey = new GreyImage(digit.Width, digit.Height, digit.Pixels.Select(v => 100f - v * 80f / 255f).ToArray());
        var onGrey = DigitImage.Preprocess(grey);
        Assert.True(onGrey.Inverted);
        Assert.Equal(100f, onGrey.Background, 3);
        Assert.True(MeanAbsDifference(onGrey.Digit, white.Digit) < 1.0, "grey paper should be stretched back to 0…255");
    }

    [Fact]
    public void The_inversion_follows_the_border_not_the_amount_of_ink()
    {
        // A bold light digit that covers most of the picture: the mean is light, the border is black.
        var picture = new GreyImage(40, 40);
        for (int y = 2; y < 38; y++)
            for (int x = 2; x < 38; x++)
                picture[x, y] = x is >= 17 and < 23 && y is >= 10 and < 30 ? 0f : 255f;
        Assert.True(picture.Pixels.Average() > 127.5);
        var result = DigitImage.Preprocess(picture);
        Assert.False(result.Inverted);
        Assert.Equal(0f, result.Background);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(170, 0)]
    [InlineData(0, 90)]
    [InlineData(150, 85)]
    public void A_single_blob_ends_with_its_centre_of_mass_at_the_centre(int x, int y)
    {
        // An L-shaped blob (its centre of mass is not its box's centre) in a corner of a large white picture.
        var picture = new GreyImage(200, 120, Enumerable.Repeat(255f, 200 * 120).ToArray());
        for (int v = 0; v < 30; v++)
            for (int u = 0; u < 30; u++)
                if (u < 8 || v >= 22) picture[x + u, y + v] = 0f;
        var digit = DigitImage.Preprocess(picture).Digit;
        var (cx, cy) = DigitImage.CentreOfMass(digit);
        Assert.InRange(cx, 13.5, 14.5);
        Assert.InRange(cy, 13.5, 14.5);
        // Same blob, same result wherever it was.
        var reference = new GreyImage(200, 120, Enumerable.Repeat(255f, 200 * 120).ToArray());
        for (int v = 0; v < 30; v++)
            for (int u = 0; u < 30; u++)
                if (u < 8 || v >= 22) reference[60 + u, 40 + v] = 0f;
        Assert.Equal(DigitImage.Preprocess(reference).Digit.Pixels, digit.Pixels);
    }

    [Fact]
    public void A_tall_one_stays_tall_and_a_wide_stroke_stays_wide()
    {
        var tall = Paste(FilledBox(8, 80), 100, 100, 0f, 60, 7);
        var box = DigitImage.InkBounds(DigitImage.Preprocess(tall).Digit, 0f);
        Assert.Equal(20, box.Height);
        Assert.Equal(2, box.Width); // 8 × 20/80

        var wide = Paste(FilledBox(90, 30), 120, 100, 0f, 3, 60);
        box = DigitImage.InkBounds(DigitImage.Preprocess(wide).Digit, 0f);
        Assert.Equal(20, box.Width);
        Assert.Equal(7, box.Height); // ⌈30 × 20/90⌉: 6⅔ rows, the last one two-thirds covered
    }

    [Fact]
    public void Area_averaging_takes_the_mean_of_each_footprint()
    {
        // 40×40 checkerboard of single pixels → every output pixel averages a 2×2 block: 127.5.
        var board = new GreyImage(40, 40);
        for (int y = 0; y < 40; y++)
            for (int x = 0; x < 40; x++) board[x, y] = (x + y) % 2 == 0 ? 255f : 0f;
        var fitted = DigitImage.FitBox(board, new DigitImage.PixelBox(0, 0, 40, 40));
        Assert.Equal((20, 20), (fitted.Width, fitted.Height));
        Assert.All(fitted.Pixels, v => Assert.Equal(127.5f, v, 3));
    }

    [Fact]
    public void Jpeg_noise_does_not_widen_the_crop()
    {
        using var dir = new Data.ScratchDirectory();
        GreyImage picture = Photo(3);
        string path = dir.Write("digit.jpg", ImageFiles.Jpeg(picture, quality: 40));
        GreyImage decoded = ImageFile.Load(path);

        var (ink, _, _) = DigitImage.ToInk(decoded);
        var clean = DigitImage.ToInk(picture).Ink;
        // The noise is there: any non-zero pixel would give a wider box than the clean picture's.
        var noisyBox = DigitImage.InkBounds(ink, 0f);
        var cleanBox = DigitImage.InkBounds(clean, 0f);
        Assert.True(noisyBox.Width > cleanBox.Width + 2 || noisyBox.Height > cleanBox.Height + 2, $"no JPEG noise outside the digit? {noisyBox} vs {cleanBox}");

        var box = DigitImage.InkBounds(ink, DigitImage.InkThreshold * 255f);
        var expected = DigitImage.InkBounds(clean, DigitImage.InkThreshold * 255f);
        output.WriteLine($"clean crop {expected}, JPEG crop {box}, JPEG box of every non-zero pixel {noisyBox}");
        Assert.InRange(box.X, expected.X - 1, expected.X + 1);
        Assert.InRange(box.Y, expected.Y - 1, expected.Y + 1);
        Assert.InRange(box.Width, expected.Width - 2, expected.Width + 2);
        Assert.InRange(box.Height, expected.Height - 2, expected.Height + 2);
    }

    [Theory]
    [InlineData(255f, 0f)]
    [InlineData(0f, 0f)]
    [InlineData(128f, 6f)]
    [InlineData(230f, 12f)]
    public void A_blank_or_nearly_blank_picture_is_no_ink_found(float paper, float noise)
    {
        var rng = new Random(1);
        var picture = new GreyImage(60, 50, Enumerable.Range(0, 3000).Select(_ => paper + (float)(rng.NextDouble() * 2 - 1) * noise).ToArray());
        var e = Assert.Throws<EngineException>(() => DigitImage.Preprocess(picture, "blank.png"));
        Assert.StartsWith("blank.png: no ink found", e.Message);
    }

    [Fact]
    public void Faint_pencil_on_grey_paper_is_found_and_stretched()
    {
        var picture = Paste(FilledBox(10, 40), 50, 50, 0f, 20, 5);
        var faint = new GreyImage(50, 50, picture.Pixels.Select(v => 200f - v * 30f / 255f).ToArray()); // ink 170 on 200
        var digit = DigitImage.Preprocess(faint).Digit;
        Assert.Equal(255f, digit.Pixels.Max());
    }

    [Fact]
    public void Transparent_pixels_are_background_whatever_the_ink_colour()
    {
        // Strokes on a transparent canvas: black ink, then white ink; the transparent pixels' own colour is noise.
        GreyImage digit = Paste(Enlarge(Digit(7), 2), 70, 60, 0f, 4, 2);
        GreyImage expected = DigitImage.Preprocess(digit).Digit;
        foreach (byte inkColour in new byte[] { 0, 255 })
        {
            var rgba = new byte[digit.Pixels.Length * 4];
            for (int i = 0; i < digit.Pixels.Length; i++)
            {
                byte alpha = (byte)MathF.Round(digit.Pixels[i]);
                rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = alpha == 0 ? (byte)(i * 37 % 256) : inkColour;
                rgba[4 * i + 3] = alpha;
            }
            GreyImage flattened = ImageFile.FromRgba(rgba, digit.Width, digit.Height);
            var result = DigitImage.Preprocess(flattened);
            Assert.Equal(inkColour == 0, result.Inverted);
            Assert.True(MeanAbsDifference(result.Digit, expected) < 0.5, $"ink {inkColour}: {MeanAbsDifference(result.Digit, expected)}");
        }
    }

    [Fact]
    public void Colour_becomes_grey_with_the_Rec_601_luma_weights()
    {
        byte[] rgba = [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 10, 20, 30, 255];
        GreyImage grey = ImageFile.FromRgba(rgba, 4, 1);
        Assert.Equal(0.299f * 255, grey.Pixels[0], 3);
        Assert.Equal(0.587f * 255, grey.Pixels[1], 3);
        Assert.Equal(0.114f * 255, grey.Pixels[2], 3);
        Assert.Equal(0.299f * 10 + 0.587f * 20 + 0.114f * 30, grey.Pixels[3], 3);
    }

    [Fact]
    public void Exif_orientations_turn_the_stored_pixels_upright()
    {
        // Stored 3 wide, 2 high: row 0 = 0 1 2, row 1 = 3 4 5.
        var stored = new GreyImage(3, 2, [0, 1, 2, 3, 4, 5]);
        Assert.Equal([0f, 1, 2, 3, 4, 5], ImageFile.Orient(stored, SkiaSharp.SKEncodedOrigin.TopLeft).Pixels);
        Assert.Equal([2f, 1, 0, 5, 4, 3], ImageFile.Orient(stored, SkiaSharp.SKEncodedOrigin.TopRight).Pixels);
        Assert.Equal([5f, 4, 3, 2, 1, 0], ImageFile.Orient(stored, SkiaSharp.SKEncodedOrigin.BottomRight).Pixels);
        // RightTop (6, a phone held upright): stored row 0 is seen as the right column, top to bottom.
        GreyImage turned = ImageFile.Orient(stored, SkiaSharp.SKEncodedOrigin.RightTop);
        Assert.Equal((2, 3), (turned.Width, turned.Height));
        Assert.Equal([3f, 0, 4, 1, 5, 2], turned.Pixels);
        // LeftBottom (8): row 0 is the left column, read bottom to top.
        Assert.Equal([2f, 5, 1, 4, 0, 3], ImageFile.Orient(stored, SkiaSharp.SKEncodedOrigin.LeftBottom).Pixels);
    }

    static GreyImage FilledBox(int width, int height) => new(width, height, Enumerable.Repeat(255f, width * height).ToArray());
}
