using static TorchSharp.torch;

namespace TrainTune;

/// <summary>How a hyperparameter's value is made from its unconstrained raw value x.</summary>
public enum Transform
{
    /// <summary>value = x.</summary>
    Identity,
    /// <summary>value = 10^x, for positive quantities spanning decades (learning rate, weight decay).</summary>
    Log10,
    /// <summary>value = sigmoid(x), for quantities in (0, 1) (momentum, Adam's betas).</summary>
    Logit,
}

/// <summary>The transforms as functions of tensors (differentiable) and of numbers.</summary>
internal static class Transforms
{
    static readonly double Ln10 = Math.Log(10);

    /// <summary>The value for a raw tensor, inside the autograd graph.</summary>
    public static Tensor ToValue(this Transform transform, Tensor raw) => transform switch
    {
        Transform.Identity => raw.alias(),
        Transform.Log10 => (raw * Ln10).exp(),
        Transform.Logit => raw.sigmoid(),
        _ => throw new ArgumentOutOfRangeException(nameof(transform)),
    };

    public static double ToValue(this Transform transform, double raw) => transform switch
    {
        Transform.Identity => raw,
        Transform.Log10 => Math.Pow(10, raw),
        Transform.Logit => 1 / (1 + Math.Exp(-raw)),
        _ => throw new ArgumentOutOfRangeException(nameof(transform)),
    };

    /// <summary>The raw value for a value; <see cref="ValueProblem"/> must be null first.</summary>
    public static double ToRaw(this Transform transform, double value) => transform switch
    {
        Transform.Identity => value,
        Transform.Log10 => Math.Log10(value),
        Transform.Logit => Math.Log(value / (1 - value)),
        _ => throw new ArgumentOutOfRangeException(nameof(transform)),
    };

    /// <summary>
    /// Whether <paramref name="value"/> is 0 where the transform reaches it only at an infinite raw
    /// value (log10 and logit space): a value a hyperparameter can be held at, not tuned from.
    /// </summary>
    public static bool IsLimit(this Transform transform, double value) =>
        Hosting.HyperparameterValueRules.IsLimit(transform.ToString(), value);

    /// <summary>Why a value cannot be represented by the transform, or null when it can.</summary>
    public static string? ValueProblem(this Transform transform, double value) =>
        Hosting.HyperparameterValueRules.TransformProblem(transform.ToString(), value);
}
