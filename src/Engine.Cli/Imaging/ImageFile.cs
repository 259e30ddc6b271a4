using SkiaSharp;

namespace Engine.Cli.Imaging;

/// <summary>
/// Reads a picture file into a <see cref="GreyImage"/>: PGM (P2, P5) with <see cref="Pgm"/>, everything else
/// (PNG, JPEG, GIF, BMP, WebP, ICO, WBMP) with SkiaSharp. Colour becomes grey with the Rec. 601 luma weights
/// Y = 0.299 R + 0.587 G + 0.114 B on the stored (gamma-encoded) values, embedded colour profiles ignored; the
/// EXIF orientation of a JPEG is applied, so a phone photo comes out upright; transparency is flattened by
/// <see cref="FromRgba"/> so that transparent pixels are background. Failures are one-line
/// <see cref="EngineException"/>s naming the file.
/// </summary>
static class ImageFile
{
    /// <summary>Larger files are refused before they are read (a 50-megapixel PNG is far smaller).</summary>
    public const long MaxFileBytes = 256L << 20;

    public static GreyImage Load(string path)
    {
        if (Directory.Exists(path)) throw new EngineException($"{path}: is a directory, not an image file");
        if (!File.Exists(path)) throw new EngineException($"{path}: image file not found");
        long length = new FileInfo(path).Length;
        if (length == 0) throw new EngineException($"{path}: empty file, not an image");
        if (length > MaxFileBytes) throw new EngineException($"{path}: {length:N0} bytes is too large for an image (at most {MaxFileBytes:N0})");
        byte[] bytes = File.ReadAllBytes(path);
        return Pgm.LooksLikeNetpbm(bytes) ? Pgm.Read(bytes, path) : Decode(bytes, path);
    }

    /// <summary>Decodes with SkiaSharp into unpremultiplied RGBA, then to grey.</summary>
    static GreyImage Decode(byte[] bytes, string path)
    {
        try
        {
            using var codec = SKCodec.Create(new MemoryStream(bytes, writable: false), out SKCodecResult created);
            if (codec is null)
                throw new EngineException(created == SKCodecResult.IncompleteInput
                    ? $"{path}: truncated image (the file ends inside its header)"
                    : $"{path}: not an image in a format this program reads (PNG, JPEG, GIF, BMP, WebP, ICO, WBMP, PGM)");
            int width = codec.Info.Width, height = codec.Info.Height;
            if (width < 1 || height < 1 || (long)width * height > GreyImage.MaxPixels)
                throw new EngineException($"{path}: image size {width}×{height} is out of range (at most {GreyImage.MaxPixels:N0} pixels)");
            var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
            using var bitmap = new SKBitmap(info); // rows of exactly 4·width bytes
            SKCodecResult decoded = codec.GetPixels(info, bitmap.GetPixels());
            if (decoded != SKCodecResult.Success)
                throw new EngineException($"{path}: the image data cannot be decoded ({Describe(decoded)})");
            return Orient(FromRgba(bitmap.GetPixelSpan(), width, height), codec.EncodedOrigin);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or BadImageFormatException)
        {
            throw new EngineException($"{path}: SkiaSharp's native library could not be loaded ({e.GetBaseException().Message})", e);
        }
    }

    static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput => "the file is truncated",
        SKCodecResult.ErrorInInput => "the data is corrupt",
        SKCodecResult.Unimplemented => "an unsupported variant of the format",
        _ => result.ToString(),
    };

    /// <summary>
    /// Grey values from unpremultiplied RGBA bytes. When some pixels are not opaque, transparency is composited over
    /// a background tone chosen so that transparent pixels are background: if the visible pixels (alpha ≥ 128) cover
    /// less than half the picture they are the drawing (strokes on a transparent canvas), so the fill is the tone
    /// opposite to their mean (white behind dark ink, black behind light ink); if they cover more, they are mostly
    /// the sheet itself, and the fill is their median tone.
    /// </summary>
    public static GreyImage FromRgba(ReadOnlySpan<byte> rgba, int width, int height)
    {
        long count = (long)width * height;
        if (rgba.Length != count * 4) throw new ArgumentException($"{rgba.Length} bytes are not {width}×{height} RGBA pixels", nameof(rgba));
        var grey = new float[count];
        bool opaque = true;
        for (int i = 0; i < grey.Length; i++)
        {
            grey[i] = 0.299f * rgba[4 * i] + 0.587f * rgba[4 * i + 1] + 0.114f * rgba[4 * i + 2];
            opaque &= rgba[4 * i + 3] == 255;
        }
        if (opaque) return new GreyImage(width, height, grey);

        var visible = new List<float>();
        for (int i = 0; i < grey.Length; i++)
            if (rgba[4 * i + 3] >= 128) visible.Add(grey[i]);
        float fill;
        if (visible.Count == 0) fill = 0f; // nothing visible: a uniform picture, which preprocessing reports as blank
        else if (visible.Count * 2 < count) fill = visible.Average() < 127.5f ? 255f : 0f;
        else
        {
            visible.Sort();
            fill = visible[visible.Count / 2];
        }
        for (int i = 0; i < grey.Length; i++)
        {
            float alpha = rgba[4 * i + 3] / 255f;
            grey[i] = alpha * grey[i] + (1f - alpha) * fill;
        }
        return new GreyImage(width, height, grey);
    }

    /// <summary>The picture as it is meant to be seen, given the EXIF orientation its pixels are stored in.</summary>
    public static GreyImage Orient(GreyImage stored, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or 0) return stored;
        int w = stored.Width, h = stored.Height;
        bool swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        var shown = swap ? new GreyImage(h, w) : new GreyImage(w, h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                // (x, y) is a stored pixel; (u, v) where it is displayed. The EXIF names say where stored row 0 and
                // column 0 are seen: e.g. RightTop (6) shows row 0 on the right and column 0 at the top (turn 90° clockwise).
                (int u, int v) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (h - 1 - y, x),
                    SKEncodedOrigin.RightBottom => (h - 1 - y, w - 1 - x),
                    SKEncodedOrigin.LeftBottom => (y, w - 1 - x),
                    _ => (x, y),
                };
                shown[u, v] = stored[x, y];
            }
        return shown;
    }

    /// <summary>Writes a picture as binary PGM (<c>.pgm</c>) or 8-bit grey PNG (<c>.png</c>), atomically.</summary>
    public static void Save(string path, GreyImage image)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        byte[] file = extension switch
        {
            ".pgm" => Pgm.Encode(image),
            ".png" => EncodePng(image),
            _ => throw new UsageException($"{path}: the picture is written as .pgm or .png, not '{extension}'"),
        };
        Engine.Serialization.AtomicFile.Write(path, s => s.Write(file));
    }

    static byte[] EncodePng(GreyImage image)
    {
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Gray8, SKAlphaType.Opaque);
        using var bitmap = new SKBitmap(info);
        byte[] pixels = image.ToBytes();
        for (int y = 0; y < image.Height; y++)
            System.Runtime.InteropServices.Marshal.Copy(pixels, y * image.Width, bitmap.GetPixels() + y * bitmap.RowBytes, image.Width);
        using var encoded = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return encoded.ToArray();
    }
}
