namespace TrainTune;

/// <summary>The hyperparameters the learning-rate-free rules share, each with its transform and bounds in one place.</summary>
internal static class Specs
{
    /// <summary>A factor on the adapted step size (λ, c) or a step size (γ): log10 space, at least 1e-10.</summary>
    public static HyperparameterSpec StepSize(string name, double value, string summary) => new(name, value, Transform.Log10, Min: 1e-10, Summary: summary);

    /// <summary>A rate in (0, 1): logit space.</summary>
    public static HyperparameterSpec Rate(string name, double value, string summary) => new(name, value, Transform.Logit, Summary: summary);

    public static HyperparameterSpec Beta1(double value) => Rate("beta1", value, "Decay rate β1 of the first moment.");

    public static HyperparameterSpec Beta2(double value) => Rate("beta2", value, "Decay rate β2 of the second moment.");

    /// <summary>Weight decay, 0 by default in these rules: plain space, at least 0.</summary>
    public static HyperparameterSpec WeightDecay(double value, string summary) => new("weightDecay", value, Transform.Identity, Min: 0, Summary: summary);
}
