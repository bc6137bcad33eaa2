using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace TrainTune.Generator.Diagnostics;

/// <summary>Every diagnostic the generator reports; ids are tracked in AnalyzerReleases.*.md.</summary>
internal static class DiagnosticDescriptors
{
    const string Category = "TrainTune";

    // The README ships in the package root; its table of diagnostics has an anchor per id.
    // Relative to the package root until the project has a public home to link to.
    const string HelpLinkBase = "README.md";

    /// <summary>The README's row for diagnostic <paramref name="id"/>.</summary>
    public static string HelpLink(string id) => HelpLinkBase + "#" + id.ToLowerInvariant();

    public static readonly DiagnosticDescriptor NotPartial = new(
        "TT0001", "Type must be partial",
        "'{0}' is marked [{1}] but is not a partial class{2}; declare it 'partial class' so that TrainTune can generate its implementation",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "TrainTune generates the rest of the class (the IWeightUpdate or ITunableModel implementation) as another part of it, which needs the class and every class around it to be partial.",
        helpLinkUri: HelpLink("TT0001"));

    public static readonly DiagnosticDescriptor NotTensor = new(
        "TT0002", "Hyperparameter field must be a Tensor",
        "Hyperparameter field '{0}' has type '{1}'; a [Hyperparameter] field must be a TorchSharp Tensor (TorchSharp.torch.Tensor) so that gradients can flow to it",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "Hypergradients flow to a hyperparameter through the tensor arithmetic of the update rule or the model; a field of another type would be a constant to them.",
        helpLinkUri: HelpLink("TT0002"));

    public static readonly DiagnosticDescriptor BadRuleMethod = new(
        "TT0003", "Update-rule method missing, ambiguous or wrong",
        "{0}; a [WeightUpdate] class needs exactly one instance method 'Tensor Step(Tensor weight, Tensor grad, ref Tensor? state, ...)' (any number of 'ref Tensor?' state parameters)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "The generated code calls the rule once per weight tensor with the weight, its gradient and the per-weight state; it needs one unambiguous method of that shape.",
        helpLinkUri: HelpLink("TT0003"));

    public static readonly DiagnosticDescriptor BadInitialValue = new(
        "TT0004", "Invalid hyperparameter value",
        "Hyperparameter '{0}': {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "A value the transform cannot represent (the log of zero or less, a logit outside (0, 1)) or outside the declared bounds would fail when the run starts; it is caught here instead.",
        helpLinkUri: HelpLink("TT0004"));

    public static readonly DiagnosticDescriptor NoGradient = new(
        "TT0005", "No gradient can flow through this use of a hyperparameter",
        "Hyperparameter '{0}' is used in {1}, where no gradient can flow to it; its hypergradient will miss this use. Keep it a Tensor in tensor arithmetic.",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true,
        description: "Converting a hyperparameter to a number, detaching it or branching on it cuts the autograd graph, so the hypergradient misses what that use contributes.",
        helpLinkUri: HelpLink("TT0005"));

    public static readonly DiagnosticDescriptor InPlaceOperation = new(
        "TT0006", "In-place tensor operation in an update rule",
        "'{0}' changes a tensor in place; an update rule must be out of place so that it can be differentiated (use '{1}' instead)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "In-place operations overwrite values that the hypergradient still needs and make libtorch abort the process when it differentiates through them.",
        helpLinkUri: HelpLink("TT0006"));

    public static readonly DiagnosticDescriptor UnusedHyperparameter = new(
        "TT0007", "Hyperparameter never read by the rule",
        "Hyperparameter '{0}' is never read by '{1}'; it cannot change the update, so tuning it does nothing. Use it in the rule or remove [Hyperparameter].",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true,
        description: "A hyperparameter that the rule never reads cannot change the update: its hypergradient is zero and tuning it only costs time.",
        helpLinkUri: HelpLink("TT0007"));

    public static readonly DiagnosticDescriptor PerWeightOnModel = new(
        "TT0008", "PerWeight is not supported on a model hyperparameter",
        "Hyperparameter '{0}' of [TunableModel] '{1}' is PerWeight; only [WeightUpdate] hyperparameters can hold one value per weight",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "One value per weight is defined for the weights an update rule steps; a model hyperparameter has no weight to follow.",
        helpLinkUri: HelpLink("TT0008"));

    public static readonly DiagnosticDescriptor BadTrainingTarget = new(
        "TT0009", "Training target has a wrong signature",
        "Training target '{0}' {1}; a [TrainingTarget] must be a public or internal 'static TuningRun {0}()' method",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "The build step finds training targets through a generated registry that calls each one as a static method without arguments returning TuningRun.",
        helpLinkUri: HelpLink("TT0009"));

    public static readonly DiagnosticDescriptor DuplicateTrainingTarget = new(
        "TT0010", "Two training targets share a name",
        "Training target name '{0}' is used by {1}; give each target its own name (TrainingTarget(Name = ...))",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "Reports, checkpoints and TrainTuneTargets name a training target by its name, so names must be unique within a project.",
        helpLinkUri: HelpLink("TT0010"));

    public static readonly DiagnosticDescriptor GeneratorFailure = new(
        "TT0099", "TrainTune generator failed",
        "TrainTune could not generate code for '{0}': {1}. Please report this with the code that causes it.",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "An unexpected failure of the generator itself; the code it would have generated is missing.",
        helpLinkUri: HelpLink("TT0099"));

    static readonly Dictionary<string, DiagnosticDescriptor> All = new[]
    {
        NotPartial, NotTensor, BadRuleMethod, BadInitialValue, NoGradient, InPlaceOperation, UnusedHyperparameter,
        PerWeightOnModel, BadTrainingTarget, DuplicateTrainingTarget, GeneratorFailure,
    }.ToDictionary(d => d.Id);

    public static DiagnosticDescriptor ById(string id) => All[id];
}
