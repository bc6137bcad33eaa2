namespace TrainTune.Tests.Targets;

public class TrainingTargetRegistryTests
{
    [Fact]
    public void Generated_registry_lists_this_assemblys_targets_and_runs_them_by_name()
    {
        Assert.Equal(["BatchNormRegression", "Nesterov", "SmallRegression"], Generated.TrainingTargetRegistry.All.Select(t => t.Name).Order());
        Assert.Contains(TrainingTarget.All, t => t.Name == "SmallRegression" && t.DeclaredBy == "TrainTune.Tests.Targets.TestTargets.SmallRegression");

        var result = TrainingTarget.Find("Nesterov").Create().Run();
        Assert.Equal(50, result.StepsCompleted);
        Assert.Contains("learningRate", result.FinalHyperparameters.Keys);
    }

    [Fact]
    public void An_unknown_target_name_lists_the_valid_ones()
    {
        var error = Assert.Throws<TrainTuneException>(() => TrainingTarget.Find("Energy"));
        Assert.Contains("No training target named 'Energy'", error.Message);
        Assert.Contains("Nesterov", error.Message);
        Assert.Contains("SmallRegression", error.Message);
    }
}
