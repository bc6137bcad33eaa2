namespace TrainTune.Tests.PublicSurface;

/// <summary>The runtime's public surface stays what users touch; the engine stays internal.</summary>
public class PublicSurfaceTests
{
    static readonly System.Reflection.Assembly Runtime = typeof(TuningRun).Assembly;

    // The built-in update rules are a catalogue users pick from, like torch.optim's list; the cap
    // is on everything else, the surface a user has to learn. It was 30 until sequence models
    // added three types a user touches (IRecurrentModel, SequenceStreams, CarriedState); gradient
    // clipping and the allocator's settings stayed methods and internals. 34 since schedules and
    // parameter groups (Schedule and ParameterGroup, torch.optim's lr_scheduler and param groups);
    // held values and Set stayed methods, the groups' resolution internal.
    [Fact]
    public void The_runtime_exports_at_most_thirty_four_types_besides_its_update_rules()
    {
        var exported = Runtime.GetExportedTypes().Where(t => t.IsInterface || !typeof(IWeightUpdate).IsAssignableFrom(t)).Select(t => t.FullName).Order().ToList();
        Assert.True(exported.Count <= 34, $"{exported.Count} public types besides the rules: {string.Join(", ", exported)}");
        var rules = Runtime.GetExportedTypes().Where(t => !t.IsInterface && typeof(IWeightUpdate).IsAssignableFrom(t)).Select(t => t.Name).ToList();
        Assert.Equal(["Adam", "AdamW", "DAdaptAdam", "DAdaptSgd", "DoG", "Prodigy", "ScheduleFreeAdamW", "ScheduleFreeSgd", "Sgd", "SgdMomentum"], rules.Order(StringComparer.Ordinal).ToList());
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
