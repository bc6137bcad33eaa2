using System.Globalization;

namespace TrainTune.Hosting;

/// <summary>
/// The machine a figure was measured on, in one line: the same benchmark ran 2–3× slower on
/// another CPU type of the same size, and populations went from 2× faster to 0.6×, so a figure
/// (a benchmark's table, a cached population calibration) without its CPU says little.
/// </summary>
internal static class Machine
{
    /// <summary>
    /// "CPU: AMD EPYC (family 26, model 2, AVX-512), 2 cores": the model, family and vector width
    /// from /proc/cpuinfo (unknown elsewhere), and the cores this process may use. Two CPUs sold
    /// under one name differ by family.
    /// </summary>
    public static string Description() => string.Create(CultureInfo.InvariantCulture, $"CPU: {Model()}, {Environment.ProcessorCount} cores");

    static string Model()
    {
        try
        {
            var lines = File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Length > 0).ToList();
            string? Field(string name) => lines.FirstOrDefault(l => l.Split(':', 2)[0].Trim() == name)?.Split(':', 2)[1].Trim();
            var flags = (Field("flags") ?? "").Split(' ');
            var vectors = flags.Contains("avx512f") ? "AVX-512" : flags.Contains("avx2") ? "AVX2" : "no AVX2";
            return $"{Field("model name") ?? "unknown"} (family {Field("cpu family") ?? "?"}, model {Field("model") ?? "?"}, {vectors})";
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }
}
