using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune.Tests.Training;

/// <summary>Data errors name the data: a value that is not finite is found before training, by split, row and column.</summary>
public class DataErrorTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("traintune-data-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    static TuningRun Run(TrainingData data) =>
        TuningRun.Of(Tasks.Mlp, new SgdMomentum(), Loss.MeanSquaredError).On(data).Tune(Method.OnePass()).ForSteps(200);

    static TrainingData With(Func<TrainingData, Tensor> part, long row, long column, double value)
    {
        var data = Tasks.Regression();
        part(data)[row, column] = value;
        return data;
    }

    [Fact]
    public void A_nan_in_the_training_inputs_is_named_by_split_row_and_column_before_anything_is_written()
    {
        var record = Path.Combine(_folder, "record.jsonl");
        var data = With(d => d.Train.Inputs, 89, 3, double.NaN);
        var error = Assert.Throws<TrainTuneException>(() => Run(data).RecordTo(record).Run());
        Assert.Contains("The training inputs hold NaN at row 89, column 3 (counting from 0; 1 value is not finite in all)", error.Message);
        Assert.DoesNotContain("diverged", error.Message);
        Assert.False(File.Exists(record));
    }

    [Fact]
    public void Infinite_validation_and_test_values_are_named_too()
    {
        var validation = With(d => d.Validation.Targets, 7, 0, double.PositiveInfinity);
        validation.Validation.Targets[150, 0] = double.NegativeInfinity;
        Assert.Contains("The validation targets hold +∞ at row 7, column 0 (counting from 0; 2 values are not finite in all)",
            Assert.Throws<TrainTuneException>(() => Run(validation).Run()).Message);
        var test = With(d => d.Test!.Inputs, 0, 7, double.NegativeInfinity);
        Assert.Contains("The test inputs hold −∞ at row 0, column 7", Assert.Throws<TrainTuneException>(() => Run(test).Run()).Message);
    }

    [Fact]
    public void An_image_is_named_by_its_row_and_position()
    {
        var images = torch.randn(6, 1, 4, 4);
        images[4, 0, 2, 3] = double.NaN;
        var labels = torch.zeros(6, dtype: ScalarType.Int64);
        var data = TrainingData.From(torch.randn(6, 1, 4, 4), labels, images, labels);
        var run = TuningRun.Of(() => nn.Sequential(nn.Flatten(), nn.Linear(16, 2)), new Sgd(), Loss.CrossEntropy).On(data).ForSteps(5);
        Assert.Contains("The validation inputs hold NaN at row 4, position [0, 2, 3]", Assert.Throws<TrainTuneException>(() => run.Run()).Message);
    }

    [Fact]
    public void A_loss_that_becomes_non_finite_from_finite_data_still_reads_as_a_divergence()
    {
        var data = Tasks.Regression();
        var scaled = data with { Train = data.Train with { Inputs = data.Train.Inputs * 100 } };
        var result = TuningRun.Of(Tasks.Mlp, new SgdMomentum(1.0, 0.9, 1e-4), Loss.MeanSquaredError).On(scaled).ForSteps(500).Run();
        Assert.Equal($"diverged at step {result.DivergedAtStep}", result.DivergenceNote);
    }
}
