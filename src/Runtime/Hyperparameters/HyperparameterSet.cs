using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// The raw values x of every hyperparameter of a run: one 0-dimensional tensor for a scalar
/// hyperparameter, one weight-shaped tensor per weight tensor for a per-weight one. The raw
/// tensors are leaves that require grad; they change only in place under no_grad, after the
/// graph that used them is released.
/// </summary>
internal sealed class HyperparameterSet : IDisposable
{
    readonly Tensor[][] _raw;

    /// <param name="specs">Every hyperparameter, update rule's first, then the model's.</param>
    /// <param name="weightShapes">Shapes of the weight tensors, for per-weight hyperparameters.</param>
    public HyperparameterSet(IReadOnlyList<HyperparameterSpec> specs, IReadOnlyList<long[]> weightShapes, ScalarType dtype, Device device)
    {
        var duplicate = specs.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new TrainTuneException($"Two hyperparameters are named '{duplicate.Key}': rename one so that every hyperparameter of a run has its own name.");
        foreach (var spec in specs) spec.Validate();
        Specs = specs;
        WeightCount = weightShapes.Count;
        _raw = specs.Select(spec => spec.PerWeight
                ? weightShapes.Select(shape => Leaf(torch.full(shape, spec.InitialRaw, dtype: dtype, device: device))).ToArray()
                : [Leaf(torch.tensor(spec.InitialRaw, dtype: dtype, device: device))])
            .ToArray();
    }

    static Tensor Leaf(Tensor t) => t.requires_grad_(true).DetachFromDisposeScope();

    public IReadOnlyList<HyperparameterSpec> Specs { get; }

    public int WeightCount { get; }

    public int IndexOf(string name)
    {
        for (var h = 0; h < Specs.Count; h++) if (Specs[h].Name == name) return h;
        return -1;
    }

    /// <summary>The raw tensors of hyperparameter <paramref name="h"/>: one, or one per weight.</summary>
    public IReadOnlyList<Tensor> Raw(int h) => _raw[h];

    /// <summary>
    /// The values of every hyperparameter, indexed [hyperparameter][weight]; a scalar
    /// hyperparameter's one tensor is shared by all weights. Inside the autograd graph unless
    /// called under no_grad.
    /// </summary>
    public Tensor[][] Values()
    {
        var values = new Tensor[Specs.Count][];
        for (var h = 0; h < Specs.Count; h++)
        {
            var transform = Specs[h].Transform;
            values[h] = Specs[h].PerWeight
                ? _raw[h].Select(raw => transform.ToValue(raw)).ToArray()
                : Enumerable.Repeat(transform.ToValue(_raw[h][0]), WeightCount).ToArray();
        }
        return values;
    }

    /// <summary>Sets hyperparameter <paramref name="h"/> to <paramref name="value"/> (every element where per weight).</summary>
    public void Set(int h, double value)
    {
        var spec = Specs[h];
        if (spec.Transform.ValueProblem(value) is { } why)
            throw new TrainTuneException($"Hyperparameter '{spec.Name}' cannot be set to {value}: {why}.");
        using var _ = torch.no_grad();
        foreach (var raw in _raw[h]) raw.fill_(spec.Transform.ToRaw(value));
        Clamp(h);
    }

    /// <summary>Multiplies the values of hyperparameter <paramref name="h"/> by <paramref name="factor"/>, then clamps them.</summary>
    public void Scale(int h, double factor)
    {
        var spec = Specs[h];
        using (torch.no_grad())
            foreach (var raw in _raw[h])
                switch (spec.Transform)
                {
                    case Transform.Log10: raw.add_(Math.Log10(factor)); break;
                    case Transform.Identity: raw.mul_(factor); break;
                    default: throw new TrainTuneException($"Hyperparameter '{spec.Name}' has a {spec.Transform} transform and cannot be multiplied by a factor.");
                }
        Clamp(h);
    }

    /// <summary>Clamps hyperparameter <paramref name="h"/>'s raw values to its bounds, in place.</summary>
    public void Clamp(int h)
    {
        var (min, max) = Specs[h].RawBounds;
        if (min is null && max is null) return;
        using var _ = torch.no_grad();
        foreach (var raw in _raw[h]) raw.clamp_(min, max);
    }

    /// <summary>The current values as numbers: a scalar, or mean/min/max per weight tensor (one host copy in all).</summary>
    public IReadOnlyDictionary<string, HyperparameterValue> Snapshot(IReadOnlyList<string> weightNames)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var statistics = new List<Tensor>();
        for (var h = 0; h < Specs.Count; h++)
        {
            var transform = Specs[h].Transform;
            if (!Specs[h].PerWeight)
            {
                statistics.Add(transform.ToValue(_raw[h][0]).to(ScalarType.Float64).reshape(1));
                continue;
            }
            var all = _raw[h].Select(raw => transform.ToValue(raw).to(ScalarType.Float64).flatten()).ToArray();
            var joined = torch.cat(all);
            statistics.Add(torch.stack([joined.mean(), joined.min(), joined.max()]));
            foreach (var value in all) statistics.Add(torch.stack([value.mean(), value.min(), value.max()]));
        }
        var numbers = torch.cat(statistics).cpu().data<double>().ToArray();
        var snapshot = new Dictionary<string, HyperparameterValue>();
        var at = 0;
        for (var h = 0; h < Specs.Count; h++)
        {
            if (!Specs[h].PerWeight)
            {
                snapshot[Specs[h].Name] = new HyperparameterValue(numbers[at], numbers[at], numbers[at]);
                at++;
                continue;
            }
            var (mean, min, max) = (numbers[at], numbers[at + 1], numbers[at + 2]);
            at += 3;
            var perTensor = new Dictionary<string, HyperparameterValue>();
            for (var k = 0; k < WeightCount; k++, at += 3)
                perTensor[weightNames[k]] = new HyperparameterValue(numbers[at], numbers[at + 1], numbers[at + 2]);
            snapshot[Specs[h].Name] = new HyperparameterValue(mean, min, max, perTensor);
        }
        return snapshot;
    }

    public void Dispose()
    {
        foreach (var raws in _raw) foreach (var raw in raws) raw.Dispose();
    }
}

/// <summary>
/// A hyperparameter's value. A scalar has <c>Value = Min = Max</c>; a per-weight one has its mean,
/// minimum and maximum over all weights, and the same for each weight tensor in <see cref="PerTensor"/>.
/// </summary>
public sealed record HyperparameterValue(double Value, double Min, double Max, IReadOnlyDictionary<string, HyperparameterValue>? PerTensor = null)
{
    /// <summary>The same numbers as the record and result.json write them.</summary>
    internal Hosting.HyperparameterNumbers ToNumbers() =>
        new(Value, Min, Max, PerTensor?.ToDictionary(t => t.Key, t => t.Value.ToNumbers()));

    internal static Dictionary<string, Hosting.HyperparameterNumbers> ToNumbers(IReadOnlyDictionary<string, HyperparameterValue> values) =>
        values.ToDictionary(v => v.Key, v => v.Value.ToNumbers());
}
