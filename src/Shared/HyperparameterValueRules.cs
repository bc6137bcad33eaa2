// Shared by the generator (TT0004, at compile time) and the runtime (when a run starts or a value
// is set), so that both accept exactly the same values.
#nullable enable
using System.Globalization;

namespace TrainTune.Hosting
{
    /// <summary>Which initial values and bounds a hyperparameter's transform can represent.</summary>
    internal static class HyperparameterValueRules
    {
        /// <summary>Why <paramref name="value"/> cannot be represented by the transform named <paramref name="transform"/> (Identity, Log10, Logit), or null.</summary>
        public static string? TransformProblem(string transform, double value) =>
            double.IsNaN(value) || double.IsInfinity(value) ? "it is not a finite number"
            : transform == "Log10" && value <= 0 ? "the log of a value <= 0: a Log10 hyperparameter must be greater than 0"
            : transform == "Logit" && (value <= 0 || value >= 1) ? "a Logit hyperparameter must lie strictly between 0 and 1"
            : null;

        /// <summary>
        /// Whether <paramref name="value"/> is 0 where the transform reaches it only at an infinite raw
        /// value (Log10, Logit): torch.optim's zero momentum and weight decay. (Logit's other limit, 1,
        /// stays refused: a momentum or β of 1 never forgets, and Adam's bias correction divides by 0.)
        /// </summary>
        public static bool IsLimit(string transform, double value) =>
            (transform == "Log10" || transform == "Logit") && value == 0;

        /// <summary>
        /// What is wrong with an initial value and its bounds (null: unbounded), in words, or null.
        /// <paramref name="limitAllowed"/>: an initial value at the transform's limit is accepted (an
        /// instance's value, held unless its transform is changed; a declared default must be tunable).
        /// </summary>
        public static string? Problem(string transform, double initial, double? min, double? max, bool limitAllowed = false)
        {
            if (!(limitAllowed && IsLimit(transform, initial)) && TransformProblem(transform, initial) is { } bad)
                return $"initial value {F(initial)} is invalid for Transform.{transform} ({bad})";
            if (min is { } lo && max is { } hi && lo > hi)
                return $"Min = {F(lo)} is above Max = {F(hi)}";
            foreach (var (name, bound) in new[] { ("Min", min), ("Max", max) })
                if (bound is { } b && TransformProblem(transform, b) is { } badBound)
                    return $"{name} = {F(b)} is invalid for Transform.{transform} ({badBound})";
            if ((min is { } low && initial < low) || (max is { } high && initial > high))
                return $"initial value {F(initial)} lies outside its bounds [{F(min)}, {F(max)}]; choose an initial value within them or widen the bounds";
            return null;
        }

        static string F(double? value) => value is { } v ? v.ToString("G6", CultureInfo.InvariantCulture) : "unbounded";
    }
}
