using System.Globalization;
using System.IO.Compression;

namespace Engine.Data;

/// <summary>
/// Reads numeric CSV in the Kaggle digit-recognizer layout: a header line (e.g. <c>label,pixel0,…</c>), then
/// one example per line. A column named <c>label</c> (any position, any case) holds integer class labels;
/// without one the file is unlabelled input for predict. Every other column is a feature, so the input width
/// comes from the file. Errors name the line and column. A file whose features are all integers 0..255 (pixels, as in
/// the Kaggle files) is read as bytes: the dataset holds its byte form, as an IDX file's does.
/// </summary>
internal static class CsvReader
{
    /// <summary>The largest label: <see cref="Limits.MaxClasses"/> classes are labels 0..MaxLabel.</summary>
    public const int MaxLabel = Limits.MaxClasses - 1;

    public static Dataset Read(string path)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            Span<byte> magic = stackalloc byte[2];
            bool gzip = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false) == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
            file.Position = 0;
            using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
            using var reader = new StreamReader(stream, detectEncodingFromByteOrderMarks: true);
            return Read(reader, path);
        }
        catch (InvalidDataException e) { throw new EngineException($"{path}: corrupt gzip data ({e.Message})"); }
        catch (FileNotFoundException) { throw new EngineException($"{path}: file not found"); }
        catch (DirectoryNotFoundException) { throw new EngineException($"{path}: directory not found"); }
        catch (UnauthorizedAccessException) { throw new EngineException($"{path}: permission denied"); }
        catch (IOException e) { throw new EngineException($"{path}: {e.Message}"); }
    }

    public static Dataset Read(TextReader reader, string name)
    {
        var buffer = new System.Text.StringBuilder();
        string? header = ReadLine(reader, buffer, name, 1);
        if (header is null || header.Trim().Length == 0)
            throw new EngineException($"{name}: empty file (expected a header line such as 'label,pixel0,...')");
        string[] columns = header.Split(',').Select(c => c.Trim().Trim('"')).ToArray();
        if (columns.All(c => float.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            throw new EngineException($"{name} line 1: expected a header line (such as 'label,pixel0,...'), found numbers");
        int labelColumn = Array.FindIndex(columns, c => c.Equals("label", StringComparison.OrdinalIgnoreCase));
        int width = columns.Length - (labelColumn >= 0 ? 1 : 0);
        if (width < 1) throw new EngineException($"{name} line 1: no feature columns");

        var features = new List<float>();
        var labels = labelColumn >= 0 ? new List<int>() : null;
        bool allBytes = true;
        int lineNumber = 1;
        int count = 0;
        string? line;
        while ((line = ReadLine(reader, buffer, name, lineNumber + 1)) is not null)
        {
            lineNumber++;
            if (line.Trim().Length == 0) continue;
            ReadOnlySpan<char> rest = line;
            int column = 0;
            while (true)
            {
                int comma = rest.IndexOf(',');
                ReadOnlySpan<char> field = (comma < 0 ? rest : rest[..comma]).Trim();
                if (column >= columns.Length)
                    throw new EngineException($"{name} line {lineNumber}, column {column + 1}: more than the header's {columns.Length} fields");
                if (column == labelColumn)
                {
                    if (int.TryParse(field, NumberStyles.Integer, CultureInfo.InvariantCulture, out int big) && big > MaxLabel)
                        throw new EngineException($"{name} line {lineNumber}, column {column + 1} (label): label {big} would make {(long)big + 1:N0} classes, more than the limit of {Limits.MaxClasses:N0} (labels 0..{MaxLabel})");
                    if (!int.TryParse(field, NumberStyles.Integer, CultureInfo.InvariantCulture, out int label) || label < 0 || label > MaxLabel)
                        throw new EngineException($"{name} line {lineNumber}, column {column + 1} (label): '{Shorten(field)}' is not a class label (an integer 0..{MaxLabel})");
                    labels!.Add(label);
                }
                else
                {
                    if (!float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value))
                        throw new EngineException($"{name} line {lineNumber}, column {column + 1} ({columns[column]}): '{Shorten(field)}' is not a finite number");
                    features.Add(value);
                    allBytes &= IsByte(value);
                }
                column++;
                if (comma < 0) break;
                rest = rest[(comma + 1)..];
            }
            if (column != columns.Length)
                throw new EngineException($"{name} line {lineNumber}, column {column + 1} ({columns[column]}): missing; the line has {column} fields, the header has {columns.Length}");
            count++;
        }
        if (count == 0) throw new EngineException($"{name}: no data rows after the header");
        if (!allBytes) return new Dataset(features.ToArray(), labels?.ToArray(), count, width, name);
        var bytes = new byte[features.Count];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)features[i];
        return new Dataset(bytes, 1f, labels?.ToArray(), count, width, name);
    }

    /// <summary>The longest line read: room for <see cref="Limits.MaxWidth"/> one-digit fields and their commas, and more.</summary>
    const int MaxLineChars = 1 << 26;

    /// <summary>
    /// Like <see cref="TextReader.ReadLine"/> (ends at \n, \r or \r\n), but a line may not hold a NUL (.NET's number parsing
    /// ignores trailing NULs, so "2\0" would read as 2, and /dev/zero would be one endless line) nor exceed
    /// <see cref="MaxLineChars"/>: both are refused as soon as they are read.
    /// </summary>
    static string? ReadLine(TextReader reader, System.Text.StringBuilder line, string name, int lineNumber)
    {
        line.Clear();
        int c;
        while ((c = reader.Read()) >= 0)
        {
            if (c == '\n') return line.ToString();
            if (c == '\r')
            {
                if (reader.Peek() == '\n') reader.Read();
                return line.ToString();
            }
            if (c == 0)
            {
                int column = 1;
                for (int i = 0; i < line.Length; i++) if (line[i] == ',') column++;
                throw new EngineException($"{name} line {lineNumber}, column {column}: a NUL character, not text (is this a CSV file?)");
            }
            if (line.Length == MaxLineChars)
                throw new EngineException($"{name} line {lineNumber}: longer than {MaxLineChars:N0} characters (is this a CSV file?)");
            line.Append((char)c);
        }
        return line.Length > 0 ? line.ToString() : null;
    }

    /// <summary>Whether <paramref name="value"/> is bit for bit a byte's float: an integer 0..255, and not −0.</summary>
    static bool IsByte(float value) => value >= 0 && value <= 255 && value == MathF.Floor(value) && !float.IsNegative(value);

    static string Shorten(ReadOnlySpan<char> s) => s.Length <= 32 ? s.ToString() : s[..32].ToString() + "...";
}
