using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// The raw values x of every hyperparameter of a run: one 0-dimensional tensor for a scalar
/// hyperparameter, one weight-shaped tensor per weight tensor for a per-weight one. The raw
/// tensors are leaves that require grad; they change only in place under no_grad, after the
/// graph that used them is released. A hyperparameter that no method changes is held at its
/// exact values instead (<see cref="Track"/>): β = 0.9 stays 0.9, not sigmoid(logit(0.9)), and a
/// value at its transform's limit (0 in log10 space) is a value like any other.
/// </summary>
internal sealed class HyperparameterSet : IDisposable
{
    readonly Tensor[][] _raw;
    readonly int[] _weightRanks;
    readonly long[][] _weightShapes;
    // Per hyperparameter: the members' exact values while it is held, null once a method changes it.
    readonly double[]?[] _exact;

    /// <summary>The hyperparameters of one run with <paramref name="specs"/>.</summary>
    /// <param name="specs">Every hyperparameter, update rule's first, then the model's.</param>
    /// <param name="weightShapes">Shapes of the weight tensors, for per-weight hyperparameters.</param>
    public HyperparameterSet(IReadOnlyList<HyperparameterSpec> specs, IReadOnlyList<long[]> weightShapes, ScalarType dtype, Device device)
        : this(MemberLayout.Single, [specs], weightShapes, dtype, device) { }

    /// <summary>
    /// The hyperparameters of the members of a run laid out by <paramref name="layout"/>
    /// (docs/ALGORITHM.md, "Populations"): stacked, member i's values are row i of every raw
    /// tensor, [N] for a scalar hyperparameter and the stacked weight's shape [N, …] for a
    /// per-weight one.
    /// </summary>
    /// <param name="memberSpecs">Each member's specs: the same names, transforms, bounds and per-weight choice; their own initial values.</param>
    /// <param name="weightShapes">Shapes of the (laid-out) weight tensors.</param>
    public HyperparameterSet(MemberLayout layout, IReadOnlyList<IReadOnlyList<HyperparameterSpec>> memberSpecs, IReadOnlyList<long[]> weightShapes, ScalarType dtype, Device device)
    {
        if (memberSpecs.Count != layout.Members)
            throw new ArgumentException($"{layout.Members} members need as many sets of specs, not {memberSpecs.Count}.", nameof(memberSpecs));
        foreach (var specs in memberSpecs) Check(specs);
        Layout = layout;
        Specs = memberSpecs[0];
        WeightCount = weightShapes.Count;
        _weightRanks = weightShapes.Select(shape => shape.Length).ToArray();
        _weightShapes = weightShapes.ToArray();
        _exact = Specs.Select((_, h) => (double[]?)memberSpecs.Select(m => m[h].Initial).ToArray()).ToArray();
        _raw = Specs.Select((spec, h) =>
        {
            var initial = layout.Numbers(memberSpecs.Select(m => m[h].InitialRaw).ToArray(), 1, dtype, device);
            return spec.PerWeight
                ? weightShapes.Select(shape => Leaf(initial.reshape(layout.Shape(shape.Length)).expand(shape).clone())).ToArray()
                : [Leaf(initial.clone())];
        }).ToArray();
    }

    static void Check(IReadOnlyList<HyperparameterSpec> specs)
    {
        var duplicate = specs.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new TrainTuneException($"Two hyperparameters are named '{duplicate.Key}': rename one so that every hyperparameter of a run has its own name.");
        foreach (var spec in specs) spec.Validate();
    }

    /// <summary>How the members lie in the raw tensors.</summary>
    public MemberLayout Layout { get; }

    /// <summary>The members: 1 for an ordinary run.</summary>
    public int Members => Layout.Members;

    static Tensor Leaf(Tensor t) => t.requires_grad_(true).DetachFromDisposeScope();

    public IReadOnlyList<HyperparameterSpec> Specs { get; }

    public int WeightCount { get; }

    public int IndexOf(string name)
    {
        for (var h = 0; h < Specs.Count; h++) if (Specs[h].Name == name) return h;
        return -1;
    }

    /// <summary>
    /// The raw tensors of hyperparameter <paramref name="h"/> (one, or one per weight), for a method
    /// that changes them: from then on its values come from them (<see cref="Track"/>).
    /// </summary>
    public IReadOnlyList<Tensor> Raw(int h)
    {
        Track(h, "A method");
        return _raw[h];
    }

    /// <summary>The raw tensors of hyperparameter <paramref name="h"/> as they are, to save or restore; a held one stays held.</summary>
    internal IReadOnlyList<Tensor> Stored(int h) => _raw[h];

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
            if (_exact[h] is { } exact)
            {
                // Held: constants, spread (per weight: expanded) over each weight.
                var value = Layout.Numbers(exact, 1, _raw[h][0].dtype, _raw[h][0].device);
                values[h] = Specs[h].PerWeight
                    ? _weightShapes.Select(shape => Layout.SpreadTo(value, shape.Length).expand(shape)).ToArray()
                    : _weightRanks.Select(rank => Layout.SpreadTo(value, rank)).ToArray();
            }
            else if (Specs[h].PerWeight)
                values[h] = _raw[h].Select(raw => transform.ToValue(raw)).ToArray();
            else
            {
                // One value per member, shaped to broadcast over each weight.
                var value = transform.ToValue(_raw[h][0]);
                values[h] = _weightRanks.Select(rank => Layout.SpreadTo(value, rank)).ToArray();
            }
        }
        return values;
    }

    /// <summary>Whether hyperparameter <paramref name="h"/> is held at exact values (no method changes it).</summary>
    public bool IsHeld(int h) => _exact[h] is not null;

    /// <summary>
    /// Says that a method changes hyperparameter <paramref name="h"/> (tunes or scales it): its
    /// values come from the raw tensors from then on. A value at its transform's limit cannot be
    /// tuned (its raw value is infinite): the error says what to do instead.
    /// </summary>
    public void Track(int h, string method)
    {
        if (_exact[h] is not { } exact) return;
        var spec = Specs[h];
        foreach (var value in exact.Where(v => Transforms.IsLimit(spec.Transform, v)))
            throw new TrainTuneException(
                $"{method} cannot tune '{spec.Name}' from {value}: Transform.{spec.Transform} reaches {value} only at an infinite raw value. "
                + $"Hold it at {value} (leave it out of the method's tune list, e.g. Method.OnePass(tune: [...]) without '{spec.Name}'), "
                + $"start it from a small value instead, or tune it from {value} in a transform that includes it, "
                + $"rule.SetTransform(\"{spec.Name}\", Transform.Identity) with rule.SetBounds(\"{spec.Name}\", min, max) (README, \"Zero is a value\").");
        _exact[h] = null;
    }

    /// <summary>
    /// Sets hyperparameter <paramref name="h"/> to <paramref name="value"/> for every member (every
    /// element where per weight); a value outside its bounds or its transform is refused, and
    /// nothing changes.
    /// </summary>
    public void Set(int h, double value)
    {
        var spec = Specs[h];
        var held = _exact[h] is not null;
        if (!(held && Transforms.IsLimit(spec.Transform, value)) && spec.Transform.ValueProblem(value) is { } why)
            throw new TrainTuneException($"Hyperparameter '{spec.Name}' cannot be set to {value}: {why}"
                + (Transforms.IsLimit(spec.Transform, value) ? $"; it is being tuned, and Transform.{spec.Transform} reaches {value} only at an infinite raw value (rule.SetTransform(\"{spec.Name}\", Transform.Identity) makes it a value)." : "."));
        if ((spec.Min is { } min && value < min) || (spec.Max is { } max && value > max))
            throw new TrainTuneException($"Hyperparameter '{spec.Name}' cannot be set to {value}: it lies outside its bounds [{spec.Min?.ToString() ?? "unbounded"}, {spec.Max?.ToString() ?? "unbounded"}]. "
                + $"Widen them for the rule's instance with rule.SetBounds(\"{spec.Name}\", min, max) (null for no bound) before the run starts.");
        using var _ = torch.no_grad();
        foreach (var raw in _raw[h]) raw.fill_(spec.Transform.ToRaw(value));
        if (_exact[h] is { } exact) Array.Fill(exact, value);
    }

    /// <summary>The held values of hyperparameter <paramref name="h"/>, one per member, or null when a method changes it (a checkpoint keeps them exactly).</summary>
    public IReadOnlyList<double>? Held(int h) => _exact[h];

    /// <summary>Holds hyperparameter <paramref name="h"/> at <paramref name="values"/> (one per member) as a checkpoint saved them; for a tracked one, nothing changes (its raw tensors hold it).</summary>
    public void Restore(int h, IReadOnlyList<double> values)
    {
        if (_exact[h] is not { } exact) return;
        if (values.Count != exact.Length)
            throw new TrainTuneException($"The checkpoint holds '{Specs[h].Name}' for {values.Count} members, but the run has {exact.Length}; delete the checkpoint to start afresh.");
        for (var m = 0; m < exact.Length; m++) exact[m] = values[m];
    }

    /// <summary>Holds hyperparameter <paramref name="h"/> at the values of its raw tensors (a checkpoint that kept no exact values).</summary>
    public void HoldRaw(int h)
    {
        if (_exact[h] is not { } exact) return;
        using var _ = torch.no_grad();
        var first = _raw[h][0].to(ScalarType.Float64).reshape(Members, -1)[.., 0].cpu().data<double>().ToArray();
        for (var m = 0; m < exact.Length; m++) exact[m] = Specs[h].Transform.ToValue(first[m]);
    }

    /// <summary>
    /// Multiplies the values of hyperparameter <paramref name="h"/> by <paramref name="factors"/>
    /// (one per member; one for a single run), then clamps them.
    /// </summary>
    public void Scale(int h, IReadOnlyList<double> factors)
    {
        var spec = Specs[h];
        if (spec.Transform is not (Transform.Log10 or Transform.Identity))
            throw new TrainTuneException($"Hyperparameter '{spec.Name}' has a {spec.Transform} transform and cannot be multiplied by a factor.");
        Track(h, "A learning-rate multiplier");
        using (torch.no_grad())
            foreach (var raw in _raw[h])
            {
                var perMember = spec.Transform == Transform.Log10 ? factors.Select(Math.Log10).ToArray() : factors.ToArray();
                using var factor = Layout.Numbers(perMember, (int)raw.dim(), raw.dtype, raw.device);
                if (spec.Transform == Transform.Log10) raw.add_(factor);
                else raw.mul_(factor);
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

    /// <summary>The current values as numbers: a scalar, or mean/min/max over all weights and per weight tensor (one host copy in all).</summary>
    public IReadOnlyDictionary<string, HyperparameterValue> Snapshot(IReadOnlyList<string> weightNames) =>
        Members == 1 ? Snapshots(weightNames)[0] : throw new InvalidOperationException("A population has one snapshot per member: use Snapshots.");

    /// <summary>The current values as numbers, one dictionary per member (one for a single run), with one host copy in all.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, HyperparameterValue>> Snapshots(IReadOnlyList<string> weightNames)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var members = Members;
        // Statistics as columns [members, k]: per hyperparameter its value (or mean, min, max over
        // all weights, then mean, min, max of each weight tensor).
        var columns = new List<Tensor>();
        for (var h = 0; h < Specs.Count; h++)
        {
            var transform = Specs[h].Transform;
            if (_exact[h] is not null) continue;
            if (!Specs[h].PerWeight)
            {
                columns.Add(transform.ToValue(_raw[h][0]).to(ScalarType.Float64).reshape(members, 1));
                continue;
            }
            var all = _raw[h].Select(raw => transform.ToValue(raw).to(ScalarType.Float64).reshape(members, -1)).ToArray();
            columns.Add(Summary(torch.cat(all, 1)));
            foreach (var value in all) columns.Add(Summary(value));
        }
        // Every hyperparameter held: nothing to copy from the device.
        var table = columns.Count > 0 ? torch.cat(columns.ToArray(), 1).cpu() : null;
        var width = (int)(table?.shape[1] ?? 0);
        var numbers = table?.data<double>().ToArray() ?? [];
        var snapshots = new IReadOnlyDictionary<string, HyperparameterValue>[members];
        for (var m = 0; m < members; m++)
        {
            var at = m * width;
            var snapshot = new Dictionary<string, HyperparameterValue>();
            for (var h = 0; h < Specs.Count; h++)
            {
                if (_exact[h] is { } exact)
                {
                    var held = exact[m];
                    snapshot[Specs[h].Name] = Specs[h].PerWeight
                        ? new HyperparameterValue(held, held, held, weightNames.Take(WeightCount).ToDictionary(w => w, _ => new HyperparameterValue(held, held, held)))
                        : new HyperparameterValue(held, held, held);
                    continue;
                }
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
            snapshots[m] = snapshot;
        }
        return snapshots;
    }

    static Tensor Summary(Tensor rows) => torch.stack([rows.mean([1]), rows.amin([1]), rows.amax([1])], 1);

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
