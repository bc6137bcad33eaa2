namespace TrainTune;

/// <summary>
/// Marks a partial class as a weight-update rule. The class declares its hyperparameters as
/// <c>[Hyperparameter] Tensor</c> fields and one instance method
/// <c>Tensor Step(Tensor weight, Tensor grad, ref Tensor? state1, ...)</c> that returns the step
/// u subtracted from one weight tensor, each <c>ref Tensor?</c> parameter being per-weight
/// state carried between steps (null at the first step). The source generator implements
/// <see cref="IWeightUpdate"/> from it.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class WeightUpdateAttribute : Attribute;
