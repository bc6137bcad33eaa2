namespace TrainTune.Generator.Parsing;

/// <summary>Metadata names the parsers look for.</summary>
internal static class KnownNames
{
    public const string WeightUpdateAttribute = "TrainTune.WeightUpdateAttribute";
    public const string TunableModelAttribute = "TrainTune.TunableModelAttribute";
    public const string TrainingTargetAttribute = "TrainTune.TrainingTargetAttribute";
    public const string HyperparameterAttribute = "TrainTune.HyperparameterAttribute";
    public const string Tensor = "TorchSharp.torch.Tensor";
    public const string TuningRun = "TrainTune.TuningRun";
    public const string RuleMethod = "Step";
}
