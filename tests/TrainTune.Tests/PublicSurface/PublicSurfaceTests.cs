namespace TrainTune.Tests.PublicSurface;

/// <summary>The runtime's public surface stays what users touch; the engine stays internal.</summary>
public class PublicSurfaceTests
{
    static readonly System.Reflection.Assembly Runtime = typeof(TuningRun).Assembly;

    [Fact]
    public void The_runtime_exports_at_most_thirty_types()
    {
        var exported = Runtime.GetExportedTypes().Select(t => t.FullName).Order().ToList();
        Assert.True(exported.Count <= 30, $"{exported.Count} public types: {string.Join(", ", exported)}");
    }

    [Theory]
    [InlineData("TrainTune.Learner")]
    [InlineData("TrainTune.HyperAdam")]
    [InlineData("TrainTune.HyperparameterSet")]
    [InlineData("TrainTune.GaussianProcess")]
    [InlineData("TrainTune.RunRecorder")]
    [InlineData("TrainTune.Trainer")]
    public void The_engine_is_internal(string name)
    {
        var type = Runtime.GetType(name);
        Assert.NotNull(type);
        Assert.False(type.IsPublic, $"{name} is public");
    }

    [Fact]
    public void Nothing_in_the_runtime_is_hosting_or_command_line_parsing()
    {
        Assert.DoesNotContain(Runtime.GetReferencedAssemblies(), a => a.Name == "System.CommandLine");
        Assert.DoesNotContain(Runtime.GetExportedTypes(), t => t.Name.Contains("Host", StringComparison.Ordinal));
    }
}
