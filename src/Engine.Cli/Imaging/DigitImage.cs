namespace Engine.Cli.Imaging;

/// <summary>
/// Turns a picture of one handwritten digit into the 28×28 input an MNIST network expects, the way MNIST itself
/// was made (LeCun et al.: "size normalized to fit in a 20x20 pixel box while preserving their aspect ratio …
/// centered in a 28x28 image by computing the center of mass of the pixels"):
/// <list type="number">
/// <item><see cref="ToInk"/>: light ink on a black (0) background. The background level is the median of the
/// border pixels; the ink is on the side of it that reaches further (darker or lighter), and dark ink is inverted
/// (v → 255 − v). Then the levels are stretched so the background is 0 and the strongest ink 255, as in MNIST
/// (which takes out a paper's grey and a pencil's faintness). A picture whose ink differs from its background by
/// less than <see cref="MinContrast"/> grey levels is blank: "no ink found".</item>
/// <item><see cref="InkBounds"/>: the bounding box of the pixels above <see cref="InkThreshold"/> of the ink range
/// (25.5 of 255), so faint compression noise around the strokes does not widen it. Fainter pixels outside the
/// box are dropped (in MNIST's own digits the box's longer side is 20 pixels at this threshold as at 0).</item>
/// <item><see cref="FitBox"/>: scaled by one factor on both axes so the longer side is 20 pixels, by area
/// averaging: each output pixel is the mean of the source area it covers, partial pixels weighted by overlap
/// (exact for downscaling; for pictures smaller than 20 pixels it is nearest-neighbour with blended edges).</item>
/// <item><see cref="CentreByMass"/>: placed in 28×28 with a whole-pixel shift that brings the centre of mass to
/// pixel (14, 14) — where it lies in the MNIST files (mean over the bundled digits: column 14.01, row 14.00);
/// anything shifted past the edge is dropped.</item>
/// </list>
/// Every step is a pure function of a <see cref="GreyImage"/> (values 0…255), so tests need no files.
/// </summary>
static class DigitImage
{
    /// <summary>Side of the network's input picture.</summary>
    public const int Side = 28;
    /// <summary>Side of the box the digit is scaled into.</summary>
    public const int Box = 20;
    /// <summary>Pixel (column and row) where the centre of mass is put.</summary>
    public const double MassCentre = 14.0;
    /// <summary>Fraction of the ink range above which a pixel counts for the crop.</summary>
    public const float InkThreshold = 0.1f;
    /// <summary>Least difference in grey levels between the background and the strongest ink.</summary>
    public const float MinContrast = 16f;

    /// <summary>The network's input and what was decided on the way.</summary>
    /// <param name="Digit">28×28, values 0…255, light ink on black.</param>
    /// <param name="Inverted">True when the picture had dark ink on a light background.</param>
    /// <param name="Background">The border median, in the picture's own grey levels.</param>
    /// <param name="Crop">The ink's bounding box in the picture.</param>
    public sealed record Result(GreyImage Digit, bool Inverted, float Background, PixelBox Crop);

    /// <summary>A rectangle of pixels: columns X…X+Width−1, rows Y…Y+Height−1.</summary>
    public readonly record struct PixelBox(int X, int Y, int Width, int Height);

    /// <summary>All four steps; throws <see cref="EngineException"/> "no ink found" for a blank picture.</summary>
    public static Result Preprocess(GreyImage picture, string name = "the picture")
    {
        var (ink, inverted, background) = ToInk(picture, name);
        PixelBox crop = InkBounds(ink, InkThreshold * 255f);
        return new Result(CentreByMass(FitBox(ink, crop)), inverted, background, crop);
    }

    /// <summary>Median of the outermost ring of pixels (all of them when the picture is 2 pixels or less across).</summary>
    public static float BorderMedian(GreyImage picture)
    {
        int w = picture.Width, h = picture.Height;
        var border = new List<float>(2 * (w + h));
        for (int x = 0; x < w; x++)
        {
            border.Add(picture[x, 0]);
            if (h > 1) border.Add(picture[x, h - 1]);
        }
        for (int y = 1; y < h - 1; y++)
        {
            border.Add(picture[0, y]);
            if (w > 1) border.Add(picture[w - 1, y]);
        }
        border.Sort();
        int n = border.Count;
        return n % 2 == 1 ? border[n / 2] : 0.5f * (border[n / 2 - 1] + border[n / 2]);
    }

    /// <summary>Light ink on 0, stretched so the background is 0 and the strongest ink 255 (see the class summary).</summary>
    public static (GreyImage Ink, bool Inverted, float Background) ToInk(GreyImage picture, string name = "the picture")
    {
        float background = BorderMedian(picture);
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in picture.Pixels)
        {
            min = MathF.Min(min, v);
            max = MathF.Max(max, v);
        }
        float darker = background - min, lighter = max - background;
        // The ink lies on the side of the background that reaches further; on a tie a light background means dark ink.
        bool inverted = darker > lighter || (darker == lighter && background > 127.5f);
        float contrast = inverted ? darker : lighter;
        if (!(contrast >= MinContrast))
            throw new EngineException($"{name}: no ink found (the strongest mark differs from the background by {contrast:0.#} of 255 grey levels; a digit needs at least {MinContrast})");
        var ink = new GreyImage(picture.Width, picture.Height);
        float scale = 255f / contrast;
        for (int i = 0; i < ink.Pixels.Length; i++)
        {
            float strength = inverted ? background - picture.Pixels[i] : picture.Pixels[i] - background;
            ink.Pixels[i] = Math.Clamp(strength * scale, 0f, 255f);
        }
        return (ink, inverted, background);
    }

    /// <summary>Smallest box holding every pixel above <paramref name="threshold"/>; throws when there is none.</summary>
    public static PixelBox InkBounds(GreyImage ink, float threshold)
    {
        int left = int.MaxValue, right = -1, top = int.MaxValue, bottom = -1;
        for (int y = 0; y < ink.Height; y++)
            for (int x = 0; x < ink.Width; x++)
                if (ink[x, y] > threshold)
                {
                    left = Math.Min(left, x);
                    right = Math.Max(right, x);
                    top = Math.Min(top, y);
                    bottom = Math.Max(bottom, y);
                }
        if (right < 0) throw new EngineException($"no ink found (no pixel above {threshold:0.#} of 255)");
        return new PixelBox(left, top, right - left + 1, bottom - top + 1);
    }

    /// <summary>
    /// The <paramref name="crop"/> of <paramref name="ink"/> scaled by one factor so its longer side is
    /// <paramref name="box"/> pixels, by area averaging. The shorter side becomes ⌈side·factor⌉ pixels, its last
    /// one partly covered (the uncovered part counts as background), so the aspect ratio is kept exactly.
    /// </summary>
    public static GreyImage FitBox(GreyImage ink, PixelBox crop, int box = Box)
    {
        // s source pixels per output pixel, the same on both axes.
        double s = (double)Math.Max(crop.Width, crop.Height) / box;
        int outWidth = OutputLength(crop.Width, s, box), outHeight = OutputLength(crop.Height, s, box);
        var (columns, columnWeights) = Footprints(crop.Width, outWidth, s);
        var (rows, rowWeights) = Footprints(crop.Height, outHeight, s);

        // Horizontal pass: (crop.Height × outWidth) sums over each output column's footprint.
        var horizontal = new double[crop.Height * outWidth];
        for (int y = 0; y < crop.Height; y++)
            for (int ox = 0; ox < outWidth; ox++)
            {
                double sum = 0;
                for (int t = 0; t < columns[ox].Length; t++)
                    sum += columnWeights[ox][t] * ink[crop.X + columns[ox][t], crop.Y + y];
                horizontal[y * outWidth + ox] = sum;
            }
        // Vertical pass, then divide by the footprint's full area s².
        var fitted = new GreyImage(outWidth, outHeight);
        for (int oy = 0; oy < outHeight; oy++)
            for (int ox = 0; ox < outWidth; ox++)
            {
                double sum = 0;
                for (int t = 0; t < rows[oy].Length; t++)
                    sum += rowWeights[oy][t] * horizontal[rows[oy][t] * outWidth + ox];
                fitted[ox, oy] = (float)Math.Clamp(sum / (s * s), 0, 255);
            }
        return fitted;
    }

    static int OutputLength(int sourceLength, double s, int box) =>
        Math.Clamp((int)Math.Ceiling(sourceLength / s - 1e-9), 1, box);

    /// <summary>For each output pixel o, the source pixels overlapping [o·s, (o+1)·s) and the overlap lengths.</summary>
    static (int[][] Indices, double[][] Weights) Footprints(int sourceLength, int outputLength, double s)
    {
        var indices = new int[outputLength][];
        var weights = new double[outputLength][];
        for (int o = 0; o < outputLength; o++)
        {
            double start = o * s, end = Math.Min((o + 1) * s, sourceLength);
            int first = (int)Math.Floor(start), last = Math.Min((int)Math.Ceiling(end) - 1, sourceLength - 1);
            var idx = new List<int>();
            var wts = new List<double>();
            for (int i = first; i <= last; i++)
            {
                double overlap = Math.Min(end, i + 1) - Math.Max(start, i);
                if (overlap > 0) { idx.Add(i); wts.Add(overlap); }
            }
            indices[o] = idx.ToArray();
            weights[o] = wts.ToArray();
        }
        return (indices, weights);
    }

    /// <summary>Centre of mass (column, row) of the pixel values, in pixel indices.</summary>
    public static (double X, double Y) CentreOfMass(GreyImage image)
    {
        double mass = 0, sx = 0, sy = 0;
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                double v = image[x, y];
                mass += v;
                sx += v * x;
                sy += v * y;
            }
        if (!(mass > 0)) throw new EngineException("no ink found (the picture has no mass to centre)");
        return (sx / mass, sy / mass);
    }

    /// <summary>
    /// <paramref name="fitted"/> placed in a <paramref name="side"/>² black picture, shifted by whole pixels so its
    /// centre of mass is as near (<see cref="MassCentre"/>, <see cref="MassCentre"/>) as it can be; pixels shifted
    /// past an edge are dropped.
    /// </summary>
    public static GreyImage CentreByMass(GreyImage fitted, int side = Side)
    {
        var (cx, cy) = CentreOfMass(fitted);
        double centre = MassCentre * side / Side;
        int dx = (int)Math.Round(centre - cx, MidpointRounding.AwayFromZero);
        int dy = (int)Math.Round(centre - cy, MidpointRounding.AwayFromZero);
        var placed = new GreyImage(side, side);
        for (int y = 0; y < fitted.Height; y++)
            for (int x = 0; x < fitted.Width; x++)
            {
                int u = x + dx, v = y + dy;
                if (u >= 0 && u < side && v >= 0 && v < side) placed[u, v] = fitted[x, y];
            }
        return placed;
    }
}
