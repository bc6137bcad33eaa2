using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// The raw values x of every hyperparameter of a run, in *slots*: one 0-dimensional tensor for a
/// scalar hyperparameter, one weight-shaped tensor per weight tensor for a per-weight one, and with
/// parameter groups one per group that has a value of its own (<see cref="Grouping"/>), the other
/// groups sharing one. The raw tensors are leaves that require grad; they change only in place
/// under no_grad, after the graph that used them is released. A slot that no method changes is
/// held at its exact values instead (<see cref="Track"/>): β = 0.9 stays 0.9, not
/// sigmoid(logit(0.9)), and a value at its transform's limit (0 in log10 space) is a value like
/// any other; a slot its group holds stays held.
/// </summary>
internal sealed class HyperparameterSet : IDisposable
{
    // Per hyperparameter h and slot r: the raw tensor, the group whose slot it is (null: shared by
    // the groups without a value of their own, or no groups), whether its group holds it, and the
    // members' exact values while it is held (null once a method changes it).
    readonly Tensor[][] _raw;
    readonly int?[][] _slotGroup;
    readonly bool[][] _groupHeld;
    readonly double[]?[][] _exact;
    // Per hyperparameter and weight: the slot that gives the weight its value.
    readonly int[][] _slotOfWeight;
    readonly int[] _weightRanks;
    readonly long[][] _weightShapes;

    /// <summary>The hyperparameters of one run with <paramref name="specs"/>.</summary>
    /// <param name="specs">Every hyperparameter, update rule's first, then the model's.</param>
    /// <param name="weightShapes">Shapes of the weight tensors, for per-weight hyperparameters.</param>
    public HyperparameterSet(IReadOnlyList<HyperparameterSpec> specs, IReadOnlyList<long[]> weightShapes, ScalarType dtype, Device device, Grouping? grouping = null)
        : this(MemberLayout.Single, [specs], weightShapes, dtype, device, grouping) { }

    /// <summary>
    /// The hyperparameters of the members of a run laid out by <paramref name="layout"/>
    /// (docs/ALGORITHM.md, "Populations"): stacked, member i's values are row i of every raw
    /// tensor, [N] for a scalar slot and the stacked weight's shape [N, …] for a per-weight one.
    /// </summary>
    /// <param name="memberSpecs">Each member's specs: the same names, transforms, bounds and per-weight choice; their own initial values.</param>
    /// <param name="weightShapes">Shapes of the (laid-out) weight tensors.</param>
    /// <param name="grouping">The parameter groups of the weights, null for none.</param>
    public HyperparameterSet(MemberLayout layout, IReadOnlyList<IReadOnlyList<HyperparameterSpec>> memberSpecs, IReadOnlyList<long[]> weightShapes, ScalarType dtype, Device device,
        Grouping? grouping = null)
    {
        if (memberSpecs.Count != layout.Members)
            throw new ArgumentException($"{layout.Members} members need as many sets of specs, not {memberSpecs.Count}.", nameof(memberSpecs));
        foreach (var specs in memberSpecs) Check(specs);
        Layout = layout;
        Specs = memberSpecs[0];
        WeightCount = weightShapes.Count;
        _weightRanks = weightShapes.Select(shape => shape.Length).ToArray();
        _weightShapes = weightShapes.ToArray();
        grouping?.Check(Specs);
        GroupNames = grouping?.Names;
        var count = Specs.Count;
        (_raw, _slotGroup, _groupHeld, _exact, _slotOfWeight) = (new Tensor[count][], new int?[count][], new bool[count][], new double[]?[count][], new int[count][]);
        for (var h = 0; h < count; h++)
        {
            var spec = Specs[h];
            var groups = grouping is not null && grouping.Applies(h) ? grouping : null;
            // Which group each slot belongs to, and which slot each weight reads.
            int?[] slotGroup;
            if (spec.PerWeight)
            {
                slotGroup = Enumerable.Range(0, WeightCount).Select(k => groups?.GroupOfWeight[k]).ToArray();
                _slotOfWeight[h] = Enumerable.Range(0, WeightCount).ToArray();
            }
            else if (groups is null)
            {
                slotGroup = [null];
                _slotOfWeight[h] = new int[WeightCount];
            }
            else
            {
                var own = Enumerable.Range(0, groups.Names.Count).Where(g => groups.HasOwn(g, spec.Name)).ToArray();
                var shared = own.Length < groups.Names.Count;
                slotGroup = [.. (shared ? new int?[] { null } : []), .. own.Select(g => (int?)g)];
                _slotOfWeight[h] = groups.GroupOfWeight.Select(g => Array.IndexOf(slotGroup, own.Contains(g) ? g : null)).ToArray();
            }
            _slotGroup[h] = slotGroup;
            _groupHeld[h] = slotGroup.Select(g => g is { } group && groups!.Holds(group, spec.Name)).ToArray();
            _exact[h] = slotGroup.Select(g => (double[]?)memberSpecs.Select(m => g is { } group && groups!.Initial(group, spec.Name) is { } v ? v : m[h].Initial).ToArray()).ToArray();
            _raw[h] = slotGroup.Select((_, r) =>
            {
                var initial = layout.Numbers(_exact[h][r]!.Select(v => spec.Transform.ToRaw(v)).ToArray(), 1, dtype, device);
                return spec.PerWeight ? Leaf(initial.reshape(layout.Shape(weightShapes[r].Length)).expand(weightShapes[r]).clone()) : Leaf(initial);
            }).ToArray();
        }
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

    /// <summary>The parameter groups' names, or null without groups.</summary>
    public IReadOnlyList<string>? GroupNames { get; }

    public int IndexOf(string name)
    {
        for (var h = 0; h < Specs.Count; h++) if (Specs[h].Name == name) return h;
        return -1;
    }

    /// <summary>Whether hyperparameter <paramref name="h"/> has a slot per parameter group (or a group with a value of its own).</summary>
    public bool IsGrouped(int h) => _slotGroup[h].Any(g => g is not null) && !Specs[h].PerWeight;

    /// <summary>The slots of hyperparameter <paramref name="h"/> a method may change (not held by their group).</summary>
    IEnumerable<int> Changeable(int h) => Enumerable.Range(0, _raw[h].Length).Where(r => !_groupHeld[h][r]);

    /// <summary>
    /// The raw tensors of hyperparameter <paramref name="h"/> that a method changes (one, one per
    /// weight, or one per group slot; without the slots their groups hold): from then on its values
    /// come from them (<see cref="Track"/>).
    /// </summary>
    public IReadOnlyList<Tensor> Raw(int h)
    {
        Track(h, "A method");
        return Changeable(h).Select(r => _raw[h][r]).ToArray();
    }

    /// <summary>
    /// For each of <see cref="Raw"/>'s tensors of a grouped hyperparameter, the weights that read it
    /// (a group's own slot: its weights; the shared slot: those of the groups without one).
    /// </summary>
    public IReadOnlyList<int[]> WeightsOfRaw(int h) =>
        Changeable(h).Select(r => Enumerable.Range(0, WeightCount).Where(k => _slotOfWeight[h][k] == r).ToArray()).ToArray();

    /// <summary>What each of <see cref="Raw"/>'s tensors is: its weight's index (per weight) or its group's (per group), or neither.</summary>
    public IReadOnlyList<(int? Weight, int? Group)> RawSlots(int h) => Changeable(h).Select(r => Slot(h, r)).ToArray();

    (int? Weight, int? Group) Slot(int h, int r) => (Specs[h].PerWeight ? r : null, _slotGroup[h][r]);

    /// <summary>Every raw tensor of hyperparameter <paramref name="h"/> as it is, and what it is, to save or restore; a held one stays held.</summary>
    internal IReadOnlyList<(Tensor Raw, int? Weight, int? Group)> Stored(int h) =>
        _raw[h].Select((raw, r) => (raw, Slot(h, r).Weight, Slot(h, r).Group)).ToArray();

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
            var slots = SlotValues(h);
            values[h] = Specs[h].PerWeight
                ? slots
                : Enumerable.Range(0, WeightCount).Select(k => Layout.SpreadTo(slots[_slotOfWeight[h][k]], _weightRanks[k])).ToArray();
        }
        return values;
    }

    /// <summary>Each slot's values: held ones as constants (per weight expanded to the weight; in <paramref name="heldType"/> when given), the others τ(x) in the graph.</summary>
    Tensor[] SlotValues(int h, ScalarType? heldType = null)
    {
        var transform = Specs[h].Transform;
        return _raw[h].Select((raw, r) =>
        {
            if (_exact[h][r] is not { } exact) return transform.ToValue(raw);
            var value = Layout.Numbers(exact, 1, heldType ?? raw.dtype, raw.device);
            return Specs[h].PerWeight ? Layout.SpreadTo(value, _weightShapes[r].Length).expand(_weightShapes[r]) : value;
        }).ToArray();
    }

    /// <summary>Whether every slot of hyperparameter <paramref name="h"/> is held at exact values (no method changes it).</summary>
    public bool IsHeld(int h) => _exact[h].All(e => e is not null);

    /// <summary>
    /// Says that a method changes hyperparameter <paramref name="h"/> (tunes or scales it): the
    /// values of its slots that no group holds come from the raw tensors from then on. A value at
    /// its transform's limit cannot be tuned (its raw value is infinite): the error says what to do instead.
    /// </summary>
    public void Track(int h, string method)
    {
        var spec = Specs[h];
        foreach (var r in Changeable(h))
        {
            if (_exact[h][r] is not { } exact) continue;
            var group = _slotGroup[h][r] is { } g ? $" in parameter group '{GroupNames![g]}'" : "";
            foreach (var value in exact.Where(v => Transforms.IsLimit(spec.Transform, v)))
                throw new TrainTuneException(
                    $"{method} cannot tune '{spec.Name}'{group} from {value}: Transform.{spec.Transform} reaches {value} only at an infinite raw value. "
                    + $"Hold it at {value} (leave it out of the method's tune list, e.g. Method.OnePass(tune: [...]) without '{spec.Name}', or hold it in its parameter group), "
                    + $"start it from a small value instead, or tune it from {value} in a transform that includes it, "
                    + $"rule.SetTransform(\"{spec.Name}\", Transform.Identity) with rule.SetBounds(\"{spec.Name}\", min, max) (README, \"Zero is a value\").");
        }
        foreach (var r in Changeable(h)) _exact[h][r] = null;
    }

    /// <summary>
    /// Sets hyperparameter <paramref name="h"/> to <paramref name="value"/> for every member and every
    /// slot that no group holds (every element where per weight); a value outside its bounds or its
    /// transform is refused, and nothing changes.
    /// </summary>
    public void Set(int h, double value)
    {
        var spec = Specs[h];
        var slots = Changeable(h).ToArray();
        var held = slots.All(r => _exact[h][r] is not null);
        if (!(held && Transforms.IsLimit(spec.Transform, value)) && spec.Transform.ValueProblem(value) is { } why)
            throw new TrainTuneException($"Hyperparameter '{spec.Name}' cannot be set to {value}: {why}"
                + (Transforms.IsLimit(spec.Transform, value) ? $"; it is being tuned, and Transform.{spec.Transform} reaches {value} only at an infinite raw value (rule.SetTransform(\"{spec.Name}\", Transform.Identity) makes it a value)." : "."));
        if ((spec.Min is { } min && value < min) || (spec.Max is { } max && value > max))
            throw new TrainTuneException($"Hyperparameter '{spec.Name}' cannot be set to {value}: it lies outside its bounds [{spec.Min?.ToString() ?? "unbounded"}, {spec.Max?.ToString() ?? "unbounded"}]. "
                + $"Widen them for the rule's instance with rule.SetBounds(\"{spec.Name}\", min, max) (null for no bound) before the run starts.");
        using var _ = torch.no_grad();
        foreach (var r in slots)
        {
            _raw[h][r].fill_(spec.Transform.ToRaw(value));
            if (_exact[h][r] is { } exact) Array.Fill(exact, value);
        }
    }

    /// <summary>The held values of slot <paramref name="r"/> of hyperparameter <paramref name="h"/>, one per member, or null when a method changes it (a checkpoint keeps them exactly).</summary>
    public IReadOnlyList<double>? Held(int h, int r) => _exact[h][r];

    /// <summary>Holds slot <paramref name="r"/> of hyperparameter <paramref name="h"/> at <paramref name="values"/> (one per member) as a checkpoint saved them; for a tracked one, nothing changes (its raw tensor holds it).</summary>
    public void Restore(int h, int r, IReadOnlyList<double> values)
    {
        if (_exact[h][r] is not { } exact) return;
        if (values.Count != exact.Length)
            throw new TrainTuneException($"The checkpoint holds '{Specs[h].Name}' for {values.Count} members, but the run has {exact.Length}; delete the checkpoint to start afresh.");
        for (var m = 0; m < exact.Length; m++) exact[m] = values[m];
    }

    /// <summary>Holds slot <paramref name="r"/> of hyperparameter <paramref name="h"/> at the values of its raw tensor (a checkpoint that kept no exact values).</summary>
    public void HoldRaw(int h, int r)
    {
        if (_exact[h][r] is not { } exact) return;
        using var _ = torch.no_grad();
        var first = _raw[h][r].to(ScalarType.Float64).reshape(Members, -1)[.., 0].cpu().data<double>().ToArray();
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
            foreach (var raw in Changeable(h).Select(r => _raw[h][r]))
            {
                var perMember = spec.Transform == Transform.Log10 ? factors.Select(Math.Log10).ToArray() : factors.ToArray();
                using var factor = Layout.Numbers(perMember, (int)raw.dim(), raw.dtype, raw.device);
                if (spec.Transform == Transform.Log10) raw.add_(factor);
                else raw.mul_(factor);
            }
        Clamp(h);
    }

    /// <summary>Clamps hyperparameter <paramref name="h"/>'s changeable raw values to its bounds, in place.</summary>
    public void Clamp(int h)
    {
        var (min, max) = Specs[h].RawBounds;
        if (min is null && max is null) return;
        using var _ = torch.no_grad();
        foreach (var r in Changeable(h)) _raw[h][r].clamp_(min, max);
    }

    /// <summary>The current values as numbers: a scalar, or mean/min/max over all weights and per weight tensor (one host copy in all).</summary>
    public IReadOnlyDictionary<string, HyperparameterValue> Snapshot(IReadOnlyList<string> weightNames) =>
        Members == 1 ? Snapshots(weightNames)[0] : throw new InvalidOperationException("A population has one snapshot per member: use Snapshots.");

    /// <summary>
    /// The current values as numbers, one dictionary per member (one for a single run), with one
    /// host copy in all: a scalar; a per-weight one's mean, min and max over all weights and per
    /// weight tensor; a grouped one's mean over all weights, min and max over its groups, and the value of each group.
    /// </summary>
    public IReadOnlyList<IReadOnlyDictionary<string, HyperparameterValue>> Snapshots(IReadOnlyList<string> weightNames)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var members = Members;
        // Statistics as columns [members, k]: per hyperparameter the value of each slot (per weight:
        // mean, min, max over all weights, then mean, min, max of each weight tensor).
        var columns = new List<Tensor>();
        for (var h = 0; h < Specs.Count; h++)
        {
            // Held values in float64, so that the record shows the number given (0.9, not float32's 0.8999999762).
            var slots = SlotValues(h, ScalarType.Float64).Select(v => v.to(ScalarType.Float64).reshape(members, -1)).ToArray();
            if (!Specs[h].PerWeight)
            {
                columns.AddRange(slots);
                continue;
            }
            columns.Add(Summary(torch.cat(slots, 1)));
            foreach (var value in slots) columns.Add(Summary(value));
        }
        var table = torch.cat(columns.ToArray(), 1).cpu();
        var width = (int)table.shape[1];
        var numbers = table.data<double>().ToArray();
        var elements = _weightShapes.Select(shape => shape.Skip(Layout == MemberLayout.Single ? 0 : 1).Aggregate(1L, (a, b) => a * b)).ToArray();
        var snapshots = new IReadOnlyDictionary<string, HyperparameterValue>[members];
        for (var m = 0; m < members; m++)
        {
            var at = m * width;
            var snapshot = new Dictionary<string, HyperparameterValue>();
            for (var h = 0; h < Specs.Count; h++)
            {
                if (Specs[h].PerWeight)
                {
                    var (mean, min, max) = (numbers[at], numbers[at + 1], numbers[at + 2]);
                    at += 3;
                    var perTensor = new Dictionary<string, HyperparameterValue>();
                    for (var k = 0; k < WeightCount; k++, at += 3)
                        perTensor[weightNames[k]] = new HyperparameterValue(numbers[at], numbers[at + 1], numbers[at + 2]);
                    snapshot[Specs[h].Name] = new HyperparameterValue(mean, min, max, perTensor);
                    continue;
                }
                var slotValues = numbers.Skip(at).Take(_raw[h].Length).ToArray();
                at += _raw[h].Length;
                if (!IsGrouped(h))
                {
                    snapshot[Specs[h].Name] = new HyperparameterValue(slotValues[0], slotValues[0], slotValues[0]);
                    continue;
                }
                // Grouped: the mean over all weights' elements, and each group's value.
                var perWeight = _slotOfWeight[h].Select(r => slotValues[r]).ToArray();
                var weighted = perWeight.Zip(elements, (v, n) => v * n).Sum() / elements.Sum();
                var names = GroupNames ?? [];
                var perGroup = Enumerable.Range(0, names.Count).ToDictionary(g => names[g], g =>
                {
                    var r = Array.IndexOf(_slotGroup[h], g) is var own and >= 0 ? own : Array.IndexOf(_slotGroup[h], null);
                    return new HyperparameterValue(slotValues[r], slotValues[r], slotValues[r]);
                });
                snapshot[Specs[h].Name] = new HyperparameterValue(weighted, perWeight.Min(), perWeight.Max()) { PerGroup = perGroup };
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
    /// <summary>With parameter groups, where the groups' values differ: each group's value by its name (Value is then the mean over all weights).</summary>
    public IReadOnlyDictionary<string, HyperparameterValue>? PerGroup { get; init; }

    /// <summary>The same numbers as the record and result.json write them.</summary>
    internal Hosting.HyperparameterNumbers ToNumbers() =>
        new(Value, Min, Max, PerTensor?.ToDictionary(t => t.Key, t => t.Value.ToNumbers()), PerGroup?.ToDictionary(t => t.Key, t => t.Value.Value));

    internal static Dictionary<string, Hosting.HyperparameterNumbers> ToNumbers(IReadOnlyDictionary<string, HyperparameterValue> values) =>
        values.ToDictionary(v => v.Key, v => v.Value.ToNumbers());
}
