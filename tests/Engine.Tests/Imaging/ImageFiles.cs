using System.Text;
using Engine.Cli.Imaging;
using SkiaSharp;

namespace Engine.Tests.Imaging;

/// <summary>Picture files written independently of the code under test: SkiaSharp encoders and hand-written PGM.</summary>
internal static class ImageFiles
{
    /// <summary>A colour PNG: the grey value g drawn as (g, g, g) when <paramref name="tint"/> is false, else as a blue ink of the same luma.</summary>
    public static byte[] Png(GreyImage image, bool tint = false) => Encode(image, SKEncodedImageFormat.Png, 100, tint);

    public static byte[] Jpeg(GreyImage image, int quality) => Encode(image, SKEncodedImageFormat.Jpeg, quality, tint: false);

    public static byte[] Webp(GreyImage image, int quality) => Encode(image, SKEncodedImageFormat.Webp, quality, tint: false);

    static byte[] Encode(GreyImage image, SKEncodedImageFormat format, int quality, bool tint)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                byte g = (byte)Math.Clamp(MathF.Round(image[x, y]), 0, 255);
                // Tinted: blue channel full, red and green at the level giving luma g where possible.
                bitmap.SetPixel(x, y, tint ? Tinted(g) : new SKColor(g, g, g));
            }
        using var data = bitmap.Encode(format, quality);
        return data.ToArray();
    }

    static SKColor Tinted(byte luma)
    {
        // 0.299 r + 0.587 g + 0.114 b = luma with b = 255 when luma ≥ 29, else b = luma / 0.114 and r = g = 0.
        if (luma < 29) return new SKColor(0, 0, (byte)Math.Round(luma / 0.114));
        byte rg = (byte)Math.Round((luma - 0.114 * 255) / (0.299 + 0.587));
        return new SKColor(rg, rg, 255);
    }

    /// <summary>ASCII PGM with a comment in the header, samples scaled to <paramref name="maxval"/>, 17 per line.</summary>
    public static byte[] PgmAscii(GreyImage image, int maxval = 255)
    {
        var text = new StringBuilder($"P2\n# written by the tests\n{image.Width} {image.Height}\n{maxval}\n");
        for (int i = 0; i < image.Pixels.Length; i++)
            text.Append((int)Math.Round(image.Pixels[i] * maxval / 255.0)).Append(i % 17 == 16 ? '\n' : ' ');
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>Binary PGM: one byte per sample for maxval &lt; 256, else two, most significant first.</summary>
    public static byte[] PgmBinary(GreyImage image, int maxval = 255)
    {
        var bytes = new List<byte>(Encoding.ASCII.GetBytes($"P5 {image.Width} {image.Height} {maxval}\n"));
        foreach (float v in image.Pixels)
        {
            int sample = (int)Math.Round(v * maxval / 255.0);
            if (maxval >= 256) bytes.Add((byte)(sample >> 8));
            bytes.Add((byte)sample);
        }
        return bytes.ToArray();
    }
}
