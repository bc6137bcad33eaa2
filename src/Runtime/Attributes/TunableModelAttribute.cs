namespace TrainTune;

/// <summary>
/// Marks a partial <c>Module&lt;Tensor, Tensor&gt;</c> whose <c>[Hyperparameter] Tensor</c> fields
/// (used in its forward pass) join the run's hyperparameters. The source generator implements
/// <see cref="ITunableModel"/> from them.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class TunableModelAttribute : Attribute;
