namespace Engine.Cli.Imaging;

/// <summary>
/// A greyscale picture: <see cref="Pixels"/> is (Height × Width) row-major, values 0 (black) … 255 (white) as
/// floats, the range of MNIST's bytes whatever the file's own depth.
/// </summary>
sealed class GreyImage
{
    /// <summary>The most pixels a picture may have (8k × 6k); larger files are refused before decoding.</summary>
    public const long MaxPixels = 50_000_000;

    public int Width { get; }
    public int Height { get; }
    public float[] Pixels { get; }

    public GreyImage(int width, int height, float[] pixels)
    {
        if (width < 1 || height < 1) throw new ArgumentOutOfRangeException(nameof(width), $"an image needs at least 1×1 pixels, got {width}×{height}");
        if (pixels.Length != (long)width * height)
            throw new ArgumentException($"{pixels.Length} pixels do not make a {width}×{height} image", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>A black (0) image.</summary>
    public GreyImage(int width, int height) : this(width, height, new float[(long)width * height]) { }

    public float this[int x, int y]
    {
        get => Pixels[y * Width + x];
        set => Pixels[y * Width + x] = value;
    }

    /// <summary>Pixel values rounded and clamped to bytes (for writing a PGM or PNG).</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Pixels.Length];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)Math.Clamp(MathF.Round(Pixels[i]), 0f, 255f);
        return bytes;
    }
}
