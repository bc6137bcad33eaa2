using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// N members of one architecture as one computation (docs/ALGORITHM.md, "Populations"): each
/// weight tensor is the members' weights stacked, [N, …], and the forward pass takes inputs
/// [N, B, …] to outputs [N, B, …], member i's rows through member i's weights only. Supported:
/// <c>nn.Sequential</c> models and <see cref="Mlp"/> of linear layers and elementwise activations.
/// </summary>
internal sealed class PopulationModel : nn.Module<Tensor, Tensor>
{
    /// <summary>A linear layer's stacked weight [N, out, in] and bias [N, out] (or none), or an elementwise activation.</summary>
    sealed record Layer(int Weight, int? Bias, nn.Module<Tensor, Tensor>? Activation);

    readonly List<Layer> _layers = [];
    readonly List<Parameter> _weights = [];

    PopulationModel(IReadOnlyList<nn.Module<Tensor, Tensor>> members) : base(nameof(PopulationModel))
    {
        var names = new List<string>();
        foreach (var (name, layer) in LayersOf(members[0]))
        {
            if (layer is Linear)
            {
                var linears = members.Select(m => (Linear)LayersOf(m).Single(l => l.Name == name).Layer).ToList();
                var weight = Stack(linears.Select(l => l.weight!));
                names.Add($"{name}.weight");
                int? bias = null;
                if (linears[0].bias is not null)
                {
                    bias = _weights.Count + 1;
                    names.Add($"{name}.bias");
                }
                _layers.Add(new Layer(_weights.Count, bias, null));
                _weights.Add(weight);
                if (bias is not null) _weights.Add(Stack(linears.Select(l => l.bias!)));
            }
            else
                _layers.Add(new Layer(-1, null, layer));
        }
        for (var k = 0; k < _weights.Count; k++) register_parameter($"w{k}", _weights[k]);
        WeightNames = names;
        Members = members.Count;
    }

    /// <summary>The member models' parameter names, in the order of this model's parameters.</summary>
    public IReadOnlyList<string> WeightNames { get; }

    public int Members { get; }

    /// <summary>Stacks <paramref name="members"/> (built by one factory, each from its own seed); an error names a layer that cannot be stacked.</summary>
    public static PopulationModel Stack(IReadOnlyList<nn.Module<Tensor, Tensor>> members)
    {
        if (members.Count == 0) throw new TrainTuneException("A population needs at least one member.");
        var shapes = members.Select(m => string.Join(";", m.named_parameters().Select(p => $"{p.name}[{string.Join(",", p.parameter.shape)}]"))).Distinct().ToList();
        if (shapes.Count > 1)
            throw new TrainTuneException("The model factory built members with different parameters; a population needs the same architecture for every member.");
        return new PopulationModel(members);
    }

    /// <summary>Why models from <paramref name="factory"/> cannot run as a population, or null when they can.</summary>
    public static string? Problem(Func<nn.Module<Tensor, Tensor>> factory)
    {
        using var model = factory();
        try
        {
            LayersOf(model);
            return null;
        }
        catch (TrainTuneException e)
        {
            return e.Message;
        }
    }

    /// <summary>A model of the same shape (its weights to be overwritten), for shadows and unrolled copies.</summary>
    public PopulationModel Copy() => new(this);

    PopulationModel(PopulationModel like) : base(nameof(PopulationModel))
    {
        _layers.AddRange(like._layers);
        using (torch.no_grad())
            // A model lives longer than the dispose scope it may be made in (unrolled copies are made mid-block).
            foreach (var w in like._weights) _weights.Add(new Parameter(w.detach().clone().DetachFromDisposeScope()));
        for (var k = 0; k < _weights.Count; k++) register_parameter($"w{k}", _weights[k]);
        WeightNames = like.WeightNames;
        Members = like.Members;
    }

    public override Tensor forward(Tensor input)
    {
        var x = input;
        foreach (var layer in _layers)
        {
            if (layer.Activation is { } activation) { x = activation.call(x); continue; }
            x = torch.bmm(x, _weights[layer.Weight].transpose(1, 2));
            if (layer.Bias is { } b) x = x + _weights[b].unsqueeze(1);
        }
        return x;
    }

    static Parameter Stack(IEnumerable<Tensor> tensors)
    {
        using var _ = torch.no_grad();
        return new Parameter(torch.stack(tensors.Select(t => t.detach()).ToArray()).DetachFromDisposeScope());
    }

    /// <summary>The model's layers in the order its forward pass runs them; an error names anything else.</summary>
    static List<(string Name, nn.Module<Tensor, Tensor> Layer)> LayersOf(nn.Module<Tensor, Tensor> model)
    {
        var (prefix, sequence) = model switch
        {
            Sequential s => ("", (nn.Module)s),
            ILayerSequence l => (model.named_children().Single(c => ReferenceEquals(c.module, l.Layers)).name + ".", l.Layers),
            _ => throw new TrainTuneException(
                $"The model {model.GetType().Name} cannot run as a population: a population needs an nn.Sequential (or Mlp) of linear layers and elementwise activations, whose forward pass is its layers in order. Run its members one by one instead."),
        };
        if (model is ITunableModel)
            throw new TrainTuneException($"The model {model.GetType().Name} has hyperparameters of its own ([TunableModel]); populations batch the update rule's hyperparameters only. Run its members one by one instead.");
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        foreach (var (name, child) in sequence.named_children())
        {
            if (child is not (Linear or ReLU or Tanh or Sigmoid or GELU or SiLU or Identity))
                throw new TrainTuneException(
                    $"Layer '{prefix}{name}' ({child.GetType().Name}) of the model {model.GetType().Name} has no stacked form: populations support Linear, ReLU, Tanh, Sigmoid, GELU, SiLU and Identity layers. Run its members one by one instead.");
            layers.Add((prefix + name, (nn.Module<Tensor, Tensor>)child));
        }
        return layers;
    }
}
