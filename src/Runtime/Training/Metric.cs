using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// A number reported beside the loss at the end of a run, computed from the model's output and
/// the targets of a chunk of rows as a mean over those rows (the final evaluation weights each
/// chunk by its rows), e.g. <see cref="Accuracy"/>.
/// </summary>
/// <param name="name">Its name in the record, result.json, the report and the experiments' tables.</param>
/// <param name="compute">The metric of a chunk: a scalar tensor, the mean over its rows.</param>
/// <param name="higherIsBetter">Whether the best run is the one with the largest value (accuracy) rather than the smallest.</param>
public sealed class Metric(string name, Func<Tensor, Tensor, Tensor> compute, bool higherIsBetter = false)
{
    public string Name => name;

    public bool HigherIsBetter => higherIsBetter;

    public Tensor Compute(Tensor output, Tensor target) => compute(output, target);

    /// <summary>The fraction of rows whose largest output (logit) is at the target class index.</summary>
    public static Metric Accuracy { get; } = new("accuracy", (output, target) => output.argmax(-1).eq(target).to(ScalarType.Float64).mean(), higherIsBetter: true);
}
