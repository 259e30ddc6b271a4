using System.Reflection;
using SkiaSharp;

namespace Engine.Cli.Reporting;

/// <summary>
/// The report's one font family, DejaVu Sans, loaded from resources inside engine.dll and made ScottPlot's default,
/// so plots render the same text on a machine with no fonts at all (SkiaSharp's NoDependencies build has no
/// fontconfig; without this a CI machine would draw plots with no text). Licence: Reporting/Fonts/LICENSE-DejaVu.txt.
/// </summary>
static class ReportFonts
{
    public const string Family = "DejaVu Sans";

    static readonly Lazy<(SKTypeface Regular, SKTypeface Bold)> Faces = new(() =>
        (Load("Engine.Cli.Fonts.DejaVuSans.ttf"), Load("Engine.Cli.Fonts.DejaVuSans-Bold.ttf")));

    static readonly Lazy<bool> Registered = new(() =>
    {
        ScottPlot.Fonts.FontResolvers.Insert(0, new EmbeddedResolver());
        ScottPlot.Fonts.Default = Family;
        return true;
    });

    public static SKTypeface Regular => Faces.Value.Regular;
    public static SKTypeface Bold => Faces.Value.Bold;

    /// <summary>Registers the embedded family with ScottPlot and makes it the default; call before creating a plot.</summary>
    public static void Register() => _ = Registered.Value;

    static SKTypeface Load(string resource)
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"resource {resource} is missing from engine.dll");
        using var data = SKData.Create(stream);
        return SKTypeface.FromData(data) ?? throw new InvalidOperationException($"resource {resource} is not a usable font");
    }

    /// <summary>Answers every font name with DejaVu Sans (regular or bold), so no plot text falls back to system fonts.</summary>
    sealed class EmbeddedResolver : ScottPlot.IFontResolver
    {
        public SKTypeface? CreateTypeface(string fontName, ScottPlot.FontWeight weight, ScottPlot.FontSlant slant, ScottPlot.FontSpacing spacing) =>
            weight >= ScottPlot.FontWeight.SemiBold ? Bold : Regular;

        public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic) => bold ? Bold : Regular;
    }
}
