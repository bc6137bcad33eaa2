using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// What the other instances of a model (the shadow, the unrolled copies) take from the trained
/// one: its buffers (BatchNorm's running statistics) and its layers' modes; and the rule that
/// they outlive any dispose scope they were built in.
/// </summary>
internal static class ModelInstances
{
    /// <summary>
    /// A model built by <paramref name="build"/> whose parameters and buffers belong to no dispose
    /// scope: an instance the learner keeps for the whole run, though it may be built inside a
    /// caller's scope (a factory that makes <c>new Parameter(torch.tensor(…))</c> registers it there).
    /// </summary>
    public static nn.Module<Tensor, Tensor> Owned(Func<nn.Module<Tensor, Tensor>> build)
    {
        var model = build();
        if (model is null) return model!;
        foreach (var parameter in model.parameters()) parameter.DetachFromDisposeScope();
        foreach (var buffer in model.buffers()) buffer.DetachFromDisposeScope();
        return model;
    }

    /// <summary>Copies <paramref name="source"/>'s buffers into <paramref name="target"/> (the same architecture), untracked.</summary>
    public static void CopyBuffers(nn.Module<Tensor, Tensor> source, nn.Module<Tensor, Tensor> target)
    {
        using var _ = torch.no_grad();
        foreach (var (to, from) in target.buffers().Zip(source.buffers())) to.copy_(from);
    }

    /// <summary>Puts every layer of <paramref name="target"/> in the mode of the same layer of <paramref name="source"/>.</summary>
    public static void CopyModes(nn.Module<Tensor, Tensor> source, nn.Module<Tensor, Tensor> target)
    {
        if (target.training != source.training) target.train(source.training);
        foreach (var (to, from) in target.modules().Zip(source.modules()))
            if (to.training != from.training) to.train(from.training);
    }
}
