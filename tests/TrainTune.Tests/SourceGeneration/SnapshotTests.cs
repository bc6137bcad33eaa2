namespace TrainTune.Tests.SourceGeneration;

public class SnapshotTests
{
    public static TheoryData<string> Cases => [.. UserSources.Valid.Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Generated_code_matches_its_snapshot_and_compiles_cleanly(string name)
    {
        var (result, output) = GeneratorHarness.Run(UserSources.Valid[name]);

        Assert.Null(result.Exception);
        Assert.Empty(result.Diagnostics);
        Assert.NotEmpty(result.GeneratedSources);
        Assert.Empty(await GeneratorHarness.CompilerDiagnostics(output));
        Snapshot.Match(name, GeneratorHarness.GeneratedText(result));
    }

    [Fact]
    public async Task Without_the_suppressor_hyperparameter_fields_would_warn_cs8618()
    {
        var (_, output) = GeneratorHarness.Run(UserSources.ScalarRule);
        Assert.Contains(output.GetDiagnostics(), d => d.Id == "CS8618" && d.GetMessage().Contains("'scale'"));
        Assert.DoesNotContain(await GeneratorHarness.CompilerDiagnostics(output), d => d.Id == "CS8618");
    }

    [Fact]
    public async Task The_suppressor_leaves_other_non_nullable_fields_alone()
    {
        var source = UserSources.ScalarRule.Replace("private Tensor scale;", "private Tensor scale;\n    private string name;");
        var (_, output) = GeneratorHarness.Run(source);
        var remaining = await GeneratorHarness.CompilerDiagnostics(output);
        Assert.Contains(remaining, d => d.Id == "CS8618" && d.GetMessage().Contains("'name'"));
        Assert.DoesNotContain(remaining, d => d.Id == "CS8618" && d.GetMessage().Contains("'scale'"));
    }
}
