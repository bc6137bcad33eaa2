namespace TrainTune.Tests.SourceGeneration;

/// <summary>The generator must never throw: broken code gets compiler errors or TT diagnostics, never CS8785.</summary>
public class RobustnessTests
{
    static readonly (string From, string To)[] Replacements =
    [
        ("Tensor", "int"), ("Tensor", "Tensor[]"), ("private Tensor", "private static Tensor"), ("{", ""), ("}", ""), (";", ""),
        ("Initial = ", "Initial = \"x\" + "), ("Transform = Transform.Log10", "Transform = (Transform)42"), ("Transform.Logit", "Transform.Nope"),
        ("[Hyperparameter(", "[Hyperparameter(1, 2, "), ("[Hyperparameter(", "[Hyperparameter(Min = double.NaN, "),
        ("[Hyperparameter(", "[Hyperparameter(Max = double.NegativeInfinity, "), ("Min = ", "Min = -"), ("partial ", ""),
        ("[WeightUpdate]", "[WeightUpdate(3)]"), ("[TrainingTarget]", "[TrainingTarget(Name = null)]"), ("[TrainingTarget", "[TrainingTarget(Name = 5)"),
        ("ref Tensor?", "out Tensor"), ("ref Tensor?", "ref int"), ("Step(", "Step<T>("), ("Tensor Step", "void Step"),
        ("weight, Tensor grad", "weight"), ("class", "struct"), ("class", "record"), ("namespace Samples;", "namespace ;"),
        ("=> ", "=> throw null! + "), ("grad", "grad.add_(grad)"), ("private Tensor", "[Hyperparameter] private Tensor"),
        ("[Hyperparameter(", "[Hyperparameter][Hyperparameter("), ("TuningRun", "TuningRun?"), ("static TuningRun", "static async TuningRun"),
    ];

    public static IEnumerable<object[]> Mutants()
    {
        var random = new Random(20261127);
        foreach (var (name, source) in UserSources.Valid)
        {
            // Truncated files.
            for (var i = 0; i < 12; i++) yield return [$"{name} truncated #{i}", source[..random.Next(source.Length)]];
            // Every replacement, at its first and at a random occurrence.
            foreach (var (from, to) in Replacements)
            {
                var at = source.IndexOf(from, StringComparison.Ordinal);
                if (at < 0) continue;
                yield return [$"{name} '{from}'->'{to}' first", source[..at] + to + source[(at + from.Length)..]];
                var occurrences = Enumerable.Range(0, source.Length - from.Length + 1).Where(i => string.CompareOrdinal(source, i, from, 0, from.Length) == 0).ToList();
                var pick = occurrences[random.Next(occurrences.Count)];
                yield return [$"{name} '{from}'->'{to}' random", source[..pick] + to + source[(pick + from.Length)..]];
            }
            // Random character deletions.
            for (var i = 0; i < 6; i++)
            {
                var chars = source.ToCharArray().ToList();
                for (var d = 0; d < 5; d++) chars.RemoveAt(random.Next(chars.Count));
                yield return [$"{name} deletions #{i}", new string([.. chars])];
            }
        }
    }

    [Fact]
    public void Hundreds_of_mutated_sources_never_make_the_generator_throw()
    {
        var mutants = Mutants().ToList();
        Assert.True(mutants.Count >= 300, $"only {mutants.Count} mutants");
        var failures = new List<string>();
        foreach (var mutant in mutants)
        {
            var (label, source) = ((string)mutant[0], (string)mutant[1]);
            var (result, output) = GeneratorHarness.Run(source);
            if (result.Exception is not null) failures.Add($"{label}: {result.Exception.GetType().Name}: {result.Exception.Message}");
            else if (result.Diagnostics.Any(d => d.Id is "TT0099"))
                failures.Add($"{label}: {result.Diagnostics.First(d => d.Id == "TT0099").GetMessage()}");
            else if (output.GetDiagnostics().Any(d => d.Id == "CS8785"))
                failures.Add($"{label}: CS8785");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {mutants.Count} mutants broke the generator:\n" + string.Join("\n", failures.Take(20)));
    }
}
