using System.Text;

namespace Engine.Cli.Imaging;

/// <summary>
/// Netpbm greymaps (PGM), which Skia does not read: <c>P2</c> (ASCII samples) and <c>P5</c> (binary: one byte per
/// sample when maxval &lt; 256, else two, most significant first), maxval 1…65535, '#' comments in the header.
/// Samples are rescaled to 0…255 (v·255/maxval). Every size is checked against the bytes present before anything
/// is allocated; a bad file ends in one <see cref="EngineException"/> line. Only the first image of a file is read.
/// </summary>
static class Pgm
{
    /// <summary>True when the bytes start like a PGM (<c>P2</c> or <c>P5</c>) or another Netpbm format (P1, P3, P4, P6, P7).</summary>
    public static bool LooksLikeNetpbm(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 2 && bytes[0] == (byte)'P' && bytes[1] >= (byte)'1' && bytes[1] <= (byte)'7'
        && (bytes.Length == 2 || IsWhitespace(bytes[2]) || bytes[2] == (byte)'#');

    public static GreyImage Read(ReadOnlySpan<byte> bytes, string name)
    {
        if (!LooksLikeNetpbm(bytes)) throw new EngineException($"{name}: not a PGM file (it should start with P2 or P5)");
        char kind = (char)bytes[1];
        if (kind is not ('2' or '5'))
            throw new EngineException($"{name}: Netpbm format P{kind} is not supported (only greymaps: P2 and P5 PGM)");
        int position = 2;
        long width = HeaderNumber(bytes, ref position, name, "width");
        long height = HeaderNumber(bytes, ref position, name, "height");
        long maxval = HeaderNumber(bytes, ref position, name, "maxval");
        if (width < 1 || height < 1) throw new EngineException($"{name}: bad PGM size {width}×{height}");
        if (width * height > GreyImage.MaxPixels)
            throw new EngineException($"{name}: PGM size {width}×{height} is too large (at most {GreyImage.MaxPixels:N0} pixels)");
        if (maxval is < 1 or > 65535) throw new EngineException($"{name}: bad PGM maxval {maxval} (it must be 1…65535)");
        // Exactly one whitespace byte separates the header from binary samples (and at least one from ASCII ones).
        if (position >= bytes.Length || !IsWhitespace(bytes[position]))
            throw new EngineException($"{name}: truncated PGM (no image data after the header)");
        position++;

        int w = (int)width, h = (int)height;
        long count = width * height;
        float scale = 255f / maxval;
        if (kind == '5')
        {
            int bytesPerSample = maxval < 256 ? 1 : 2;
            long needed = count * bytesPerSample;
            if (bytes.Length - position < needed)
                throw new EngineException($"{name}: truncated PGM: {w}×{h} samples need {needed:N0} bytes of data, the file has {bytes.Length - position:N0}");
            var pixels = new float[count];
            var data = bytes.Slice(position);
            for (int i = 0; i < pixels.Length; i++)
            {
                int v = bytesPerSample == 1 ? data[i] : data[2 * i] << 8 | data[2 * i + 1];
                if (v > maxval) throw new EngineException($"{name}: PGM sample {i} is {v}, above maxval {maxval}");
                pixels[i] = v * scale;
            }
            return new GreyImage(w, h, pixels);
        }
        else
        {
            // Each ASCII sample takes at least one digit and one separator (the last one may end the file).
            if (bytes.Length - position < 2 * count - 1)
                throw new EngineException($"{name}: truncated PGM: {w}×{h} ASCII samples cannot fit in the {bytes.Length - position:N0} bytes after the header");
            var pixels = new float[count];
            for (int i = 0; i < pixels.Length; i++)
            {
                long v = AsciiSample(bytes, ref position, name, i, count);
                if (v > maxval) throw new EngineException($"{name}: PGM sample {i} is {v}, above maxval {maxval}");
                pixels[i] = v * scale;
            }
            return new GreyImage(w, h, pixels);
        }
    }

    /// <summary>Writes a binary (P5) PGM with maxval 255.</summary>
    public static byte[] Encode(GreyImage image)
    {
        byte[] header = Encoding.ASCII.GetBytes($"P5\n{image.Width} {image.Height}\n255\n");
        byte[] pixels = image.ToBytes();
        var file = new byte[header.Length + pixels.Length];
        header.CopyTo(file, 0);
        pixels.CopyTo(file, header.Length);
        return file;
    }

    static long HeaderNumber(ReadOnlySpan<byte> bytes, ref int position, string name, string field)
    {
        // Whitespace and comments ('#' to the end of the line) may come before each header field.
        while (position < bytes.Length)
        {
            if (IsWhitespace(bytes[position])) position++;
            else if (bytes[position] == (byte)'#')
            {
                while (position < bytes.Length && bytes[position] != (byte)'\n' && bytes[position] != (byte)'\r') position++;
            }
            else break;
        }
        if (position >= bytes.Length) throw new EngineException($"{name}: truncated PGM header (no {field})");
        return Digits(bytes, ref position, name, $"PGM header {field}");
    }

    static long AsciiSample(ReadOnlySpan<byte> bytes, ref int position, string name, int index, long count)
    {
        while (position < bytes.Length && IsWhitespace(bytes[position])) position++;
        if (position >= bytes.Length) throw new EngineException($"{name}: truncated PGM: {index:N0} of {count:N0} samples present");
        return Digits(bytes, ref position, name, $"PGM sample {index}");
    }

    static long Digits(ReadOnlySpan<byte> bytes, ref int position, string name, string what)
    {
        int start = position;
        long value = 0;
        while (position < bytes.Length && bytes[position] is >= (byte)'0' and <= (byte)'9')
        {
            value = value * 10 + (bytes[position] - '0');
            if (value > int.MaxValue) throw new EngineException($"{name}: {what} is too large");
            position++;
        }
        if (position == start)
            throw new EngineException($"{name}: {what} is not a number (found '{Printable(bytes[position])}')");
        if (position < bytes.Length && !IsWhitespace(bytes[position]) && bytes[position] != (byte)'#')
            throw new EngineException($"{name}: {what} is not a number (found '{Printable(bytes[position])}' after its digits)");
        return value;
    }

    static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0B or 0x0C;

    static string Printable(byte b) => b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"0x{b:X2}";
}
