using Microsoft.CodeAnalysis;

namespace TrainTune.Tests.SourceGeneration;

public class DiagnosticTests
{
    /// <summary>Runs the generator and asserts exactly one diagnostic <paramref name="id"/>, located on <paramref name="at"/>.</summary>
    static Diagnostic Single(string source, string id, string at, DiagnosticSeverity severity = DiagnosticSeverity.Error)
    {
        var (result, _) = GeneratorHarness.Run(source);
        Assert.Null(result.Exception);
        var matching = result.Diagnostics.Where(d => d.Id == id).ToList();
        Assert.True(matching.Count == 1, $"expected one {id}, got: {string.Join("; ", result.Diagnostics)}");
        var diagnostic = matching[0];
        Assert.Equal(severity, diagnostic.Severity);
        var located = source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length);
        Assert.Equal(at, located);
        var expectedLine = source[..source.IndexOf(at, StringComparison.Ordinal)].Count(c => c == '\n');
        Assert.Equal(expectedLine, diagnostic.Location.GetLineSpan().StartLinePosition.Line);
        return diagnostic;
    }

    static string Rule(string members, string modifiers = "public partial class") => UserSources.Usings + $$"""
        namespace Samples;

        [WeightUpdate]
        {{modifiers}} Custom
        {
        {{members}}
        }
        """;

    const string Scale = "    [Hyperparameter(Initial = 0.1, Transform = Transform.Log10)]\n    private Tensor scale;\n";

    [Fact]
    public async Task Valid_code_gets_no_diagnostics()
    {
        var (result, output) = GeneratorHarness.Run([.. UserSources.Valid.Values]);
        Assert.Empty(result.Diagnostics);
        Assert.Empty(await GeneratorHarness.CompilerDiagnostics(output));
    }

    [Fact]
    public void TT0001_a_weight_update_that_is_not_partial()
    {
        var d = Single(Rule(Scale + "    private Tensor Step(Tensor weight, Tensor grad) => scale * grad;", "public class"), "TT0001", "Custom");
        Assert.Contains("not a partial class", d.GetMessage());
    }

    [Fact]
    public void TT0001_a_tunable_model_inside_a_type_that_is_not_partial()
    {
        var source = UserSources.TunableModel.Replace("namespace Samples;", "namespace Samples;\npublic class Holder {").Replace("=> layer.call(input) / temperature;\n}", "=> layer.call(input) / temperature;\n}\n}");
        var d = Single(source, "TT0001", "TemperedLinear");
        Assert.Contains("enclosing type 'Holder' is not partial", d.GetMessage());
    }

    [Fact]
    public void TT0002_a_hyperparameter_that_is_not_a_tensor()
    {
        var d = Single(Rule("    [Hyperparameter(Initial = 0.1)]\n    private double scale;\n    private Tensor Step(Tensor weight, Tensor grad) => grad * scale;"), "TT0002", "scale");
        Assert.Contains("has type 'double'", d.GetMessage());
    }

    [Theory]
    [InlineData("", "Custom", "has no method named 'Step'")]
    [InlineData("    private Tensor Step(Tensor weight, Tensor grad) => scale * grad;\n    private Tensor Step(Tensor weight) => scale * weight;", "Step", "2 methods named 'Step'")]
    [InlineData("    private Tensor Step(Tensor weight, Tensor grad, Tensor? extra) => scale * grad;", "Step", "parameter 'extra' is not a 'ref Tensor?'")]
    [InlineData("    private double Step(Tensor weight, Tensor grad) => scale.item<double>();", "Step", "returns 'double' instead of Tensor")]
    [InlineData("    private static Tensor Step(Tensor weight, Tensor grad) => grad;", "Step", "it is static")]
    public void TT0003_rule_method_missing_ambiguous_or_wrong(string method, string at, string message)
    {
        var (result, _) = GeneratorHarness.Run(Rule(Scale + method));
        var diagnostics = result.Diagnostics.Where(d => d.Id == "TT0003").ToList();
        Assert.NotEmpty(diagnostics);
        Assert.All(diagnostics, d => Assert.Equal(at, Rule(Scale + method).Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length)));
        Assert.Contains(message, diagnostics[0].GetMessage());
        Assert.Empty(result.GeneratedSources);
    }

    [Theory]
    [InlineData("Initial = 0, Transform = Transform.Log10", "the log of a value <= 0")]
    [InlineData("Initial = 1.0, Transform = Transform.Logit", "strictly between 0 and 1")]
    [InlineData("Initial = 2, Transform = Transform.Log10, Min = 1e-3, Max = 1", "initial value 2 lies outside its bounds [0.001, 1]")]
    [InlineData("Initial = 0.5, Min = 1, Max = 0", "Min = 1 is above Max = 0")]
    [InlineData("Initial = 0.5, Transform = Transform.Log10, Min = -1", "Min = -1 is invalid for Transform.Log10")]
    public void TT0004_initial_value_or_bound_invalid(string arguments, string message)
    {
        var attribute = $"Hyperparameter({arguments})";
        var d = Single(Rule($"    [{attribute}]\n    private Tensor scale;\n    private Tensor Step(Tensor weight, Tensor grad) => scale * grad;"), "TT0004", attribute);
        Assert.Contains(message, d.GetMessage());
    }

    [Theory]
    [InlineData("grad * scale.item<double>()", "scale.item<double>()", "'.item'")]
    [InlineData("grad * scale.ToDouble()", "scale.ToDouble()", "'.ToDouble'")]
    [InlineData("grad * scale.detach()", "scale.detach()", "'.detach'")]
    [InlineData("grad * (double)scale", "(double)scale", "a cast to 'double'")]
    [InlineData("(scale > 0.5).item<bool>() ? grad : grad * 2", "(scale > 0.5).item<bool>()", "the condition of a ?: expression")]
    public void TT0005_hyperparameter_used_where_no_gradient_flows(string expression, string at, string what)
    {
        var d = Single(Rule($"    [Hyperparameter(Initial = 0.1, Transform = Transform.Log10)]\n    private Tensor scale;\n    private Tensor Step(Tensor weight, Tensor grad) => {expression};"),
            "TT0005", at, DiagnosticSeverity.Warning);
        Assert.Contains(what, d.GetMessage());
    }

    [Fact]
    public void TT0005_hyperparameter_in_a_branch_condition()
    {
        var body = "    private Tensor Step(Tensor weight, Tensor grad)\n    {\n        if ((scale < 1).item<bool>()) return grad;\n        return scale * grad;\n    }";
        var (result, _) = GeneratorHarness.Run(Rule(Scale + body));
        var ids = result.Diagnostics.Where(d => d.Id == "TT0005").Select(d => d.GetMessage()).ToList();
        Assert.Single(ids);
        Assert.Contains("the condition of an if statement", ids[0]);
    }

    [Fact]
    public void TT0006_in_place_operation_inside_the_rule()
    {
        var d = Single(Rule(Scale + "    private Tensor Step(Tensor weight, Tensor grad) => grad.mul_(scale);"), "TT0006", "grad.mul_(scale)");
        Assert.Contains("'mul_' changes a tensor in place", d.GetMessage());
        Assert.Contains("use 'mul'", d.GetMessage());
    }

    [Fact]
    public void TT0007_hyperparameter_never_read()
    {
        var source = Rule(Scale + "    [Hyperparameter(Initial = 0.5, Transform = Transform.Logit)]\n    private Tensor unused;\n    private Tensor Step(Tensor weight, Tensor grad) => scale * grad;");
        var d = Single(source, "TT0007", "unused", DiagnosticSeverity.Warning);
        Assert.Contains("never read by 'Custom.Step'", d.GetMessage());
        Assert.NotEmpty(GeneratorHarness.Run(source).Result.GeneratedSources);
    }

    [Fact]
    public void TT0008_per_weight_on_a_model_hyperparameter()
    {
        var source = UserSources.TunableModel.Replace("Min = 0.01, Max = 100)", "Min = 0.01, Max = 100, PerWeight = true)");
        Single(source, "TT0008", "temperature");
    }

    [Theory]
    [InlineData("public TuningRun Energy() => null!;", "is not static")]
    [InlineData("public static TuningRun Energy(int steps) => null!;", "has parameters")]
    [InlineData("public static int Energy() => 0;", "returns 'int' instead of TuningRun")]
    [InlineData("private static TuningRun Energy() => null!;", "not reachable")]
    public void TT0009_training_target_with_a_wrong_signature(string method, string message)
    {
        var source = UserSources.Usings + $"namespace Samples;\npublic class Targets\n{{\n    [TrainingTarget]\n    {method}\n}}\n";
        var d = Single(source, "TT0009", "Energy");
        Assert.Contains(message, d.GetMessage());
    }

    [Fact]
    public void TT0010_two_training_targets_with_one_name()
    {
        var source = UserSources.TrainingTargets.Replace("[TrainingTarget(Name = \"Power\")]", "[TrainingTarget(Name = \"Energy\")]");
        var (result, _) = GeneratorHarness.Run(source);
        var duplicates = result.Diagnostics.Where(d => d.Id == "TT0010").ToList();
        Assert.Equal(2, duplicates.Count);
        Assert.Equal(["Energy", "PowerPlant"], duplicates.Select(d => source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length)).Order());
        Assert.DoesNotContain(result.GeneratedSources, s => s.HintName.Contains("TrainingTargetRegistry"));
    }

    [Fact]
    public void Every_diagnostic_says_why_and_is_listed_in_the_readme()
    {
        var descriptors = typeof(TrainTune.Generator.Diagnostics.DiagnosticDescriptors).GetFields()
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor)).Select(f => (DiagnosticDescriptor)f.GetValue(null)!).ToList();
        Assert.Equal(11, descriptors.Count);
        var readme = File.ReadAllText(Path.Combine(Build.DotnetCli.RepositoryRoot(), "README.md"));
        foreach (var descriptor in descriptors)
        {
            Assert.True(descriptor.Description.ToString().Length > 40, $"{descriptor.Id} has no description");
            var severity = descriptor.DefaultSeverity.ToString().ToLowerInvariant();
            Assert.Contains($"| {descriptor.Id} | {severity} | <a id=\"{descriptor.Id.ToLowerInvariant()}\"></a>", readme);
            Assert.Equal($"README.md#{descriptor.Id.ToLowerInvariant()}", descriptor.HelpLinkUri);
        }
    }
}
