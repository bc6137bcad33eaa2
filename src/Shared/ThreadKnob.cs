// Shared by the host (TrainTune.Runtime) and the MSBuild tasks, so that both say the same.
using System;
using System.Globalization;

namespace TrainTune.Hosting
{
    /// <summary>The thread knob: "auto" (or empty) for the automatic choice, or a positive whole number.</summary>
    internal static class ThreadKnob
    {
        /// <summary>Null with <paramref name="threads"/> set (null for auto), or the error that names <paramref name="property"/>.</summary>
        public static string? Parse(string? value, string property, out int? threads)
        {
            threads = null;
            if (value is null || value.Trim().Length == 0 || string.Equals(value.Trim(), "auto", StringComparison.OrdinalIgnoreCase)) return null;
            if (int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1)
            {
                threads = n;
                return null;
            }
            return $"{property}='{value}' is not valid: use auto (the default: chosen from each run's work per step) or a positive whole number of libtorch threads.";
        }
    }
}
