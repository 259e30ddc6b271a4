using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Engine.Conformance;

/// <summary>
/// How an implementation's result is compared with an expected array. An implementation that follows the
/// numerics contract (same operations, same order, same exp/tanh/sigmoid) must match bit for bit when
/// <see cref="ExactForContract"/>; any other implementation passes element by element when
/// |got − expected| ≤ <see cref="Abs"/> + <see cref="Rel"/>·|expected|, or, when <see cref="Ulps"/> is set,
/// when got is at most that many float32 steps from expected. NaN matches only NaN, infinities only themselves.
/// </summary>
internal sealed record Tolerance(bool ExactForContract, double Abs, double Rel, int? Ulps, string Basis)
{
    /// <summary>For information: how far the engine's own values are from a float64 evaluation (GEMM cases).</summary>
    public double? Observed { get; init; }

    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["exact_for_contract"] = ExactForContract,
            ["contract_comparison"] = ExactForContract ? "bitwise" : "tolerance",
            ["tolerance_abs"] = Abs,
            ["tolerance_rel"] = Rel,
        };
        if (Ulps is int u) o["ulps"] = u;
        o["basis"] = Basis;
        if (Observed is double observed) o["observed_max_abs_error_vs_float64"] = observed;
        return o;
    }

    /// <summary>
    /// <paramref name="x"/> rounded up to two significant decimal digits (1.234e-3 → 1.3e-3), so that the manifest
    /// shows short numbers that are still at least the bound. Uses .NET's own formatting, not the C library.
    /// </summary>
    public static double RoundUp(double x)
    {
        if (!(x > 0) || !double.IsFinite(x)) return x;
        string s = x.ToString("E1", CultureInfo.InvariantCulture); // d.dE±xxx, correctly rounded
        double r = double.Parse(s, CultureInfo.InvariantCulture);
        if (r >= x) return r;
        int e = int.Parse(s[(s.IndexOf('E') + 1)..], CultureInfo.InvariantCulture);
        int digits = (s[0] - '0') * 10 + (s[2] - '0') + 1;
        return double.Parse($"{digits / 10}.{digits % 10}E{e}", CultureInfo.InvariantCulture);
    }
}

/// <summary>Serialisation of the manifest: indented, "\n" line ends, ASCII text kept readable.</summary>
static class ManifestJson
{
    static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        NewLine = "\n",
        IndentSize = 2,
        // Relaxed: '+', '<', '>' and '\'' are written as themselves (the manifest is not embedded in HTML).
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Write(JsonNode node) => node.ToJsonString(Options) + "\n";

    public static JsonArray Array(IEnumerable<JsonNode?> items)
    {
        var a = new JsonArray();
        foreach (var item in items) a.Add(item);
        return a;
    }

    public static JsonArray Ints(IEnumerable<int> values) => Array(values.Select(v => (JsonNode?)JsonValue.Create(v)));

    /// <summary>A float32 value exactly: its value printed as the double it converts to, and its bit pattern.</summary>
    public static JsonObject Float32(float value) => new()
    {
        ["dtype"] = "float32",
        ["value"] = (double)value,
        ["bits"] = $"0x{BitConverter.SingleToUInt32Bits(value):X8}",
    };

    /// <summary>A float64 value exactly: shortest round-trip decimal and bit pattern.</summary>
    public static JsonObject Float64(double value) => new()
    {
        ["dtype"] = "float64",
        ["value"] = value,
        ["bits"] = $"0x{BitConverter.DoubleToUInt64Bits(value):X16}",
    };
}
