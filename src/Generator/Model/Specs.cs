namespace TrainTune.Generator.Model;

// Models hold only strings, numbers, booleans and equatable arrays: the incremental cache
// compares them between compilations, so no symbols, syntax nodes or locations here.

/// <summary>One [Hyperparameter] field. Bounds are infinite when not given.</summary>
internal sealed record HyperparameterSpec(string FieldName, string Summary, string Transform, double Initial, double Min, double Max, bool PerWeight);

/// <summary>A type that encloses the generated partial declaration (namespace aside).</summary>
internal sealed record ContainingTypeSpec(string Keyword, string NameWithTypeParameters);

/// <summary>Where a partial type lives: namespace (empty for the global one), outer types, and the type itself last.</summary>
internal sealed record TypeSpec(string Namespace, EquatableArray<ContainingTypeSpec> Types, string HintName)
{
    public ContainingTypeSpec Self => Types[Types.Length - 1];
}

/// <summary>A [WeightUpdate] class: its hyperparameters, the rule method, and the names of its state parameters.</summary>
internal sealed record WeightUpdateSpec(TypeSpec Type, EquatableArray<HyperparameterSpec> Hyperparameters, string MethodName, EquatableArray<string> StateNames);

/// <summary>A [TunableModel] class and its hyperparameters.</summary>
internal sealed record TunableModelSpec(TypeSpec Type, EquatableArray<HyperparameterSpec> Hyperparameters);

/// <summary>A [TrainingTarget] method: its name and how to call it.</summary>
internal sealed record TrainingTargetSpec(string Name, string DisplayMethod, string CallExpression, LocationInfo? Location);

/// <summary>What a parser found: a spec to emit (null when the code is unusable) and diagnostics.</summary>
internal sealed record ParseResult<T>(T? Spec, EquatableArray<DiagnosticInfo> Diagnostics) where T : class;
