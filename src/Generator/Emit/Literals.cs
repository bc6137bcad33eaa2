using System.Globalization;

namespace TrainTune.Generator.Emit;

/// <summary>C# literals, written under the invariant culture.</summary>
internal static class Literals
{
    public static string Double(double value) =>
        double.IsPositiveInfinity(value) ? "double.PositiveInfinity"
        : double.IsNegativeInfinity(value) ? "double.NegativeInfinity"
        : double.IsNaN(value) ? "double.NaN"
        : value.ToString("R", CultureInfo.InvariantCulture) + (value == System.Math.Floor(value) && !value.ToString("R", CultureInfo.InvariantCulture).Contains("E") ? ".0" : "");

    public static string NullableDouble(double value) => double.IsInfinity(value) ? "null" : Double(value);

    public static string String(string value) =>
        "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\r", "\\r").Replace("\n", "\\n").Replace("\t", "\\t") + "\"";

    public static string Bool(bool value) => value ? "true" : "false";
}
