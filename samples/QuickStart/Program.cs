// QuickStart: tunes the learning rate, momentum and weight decay of a small MLP during one
// training run, on a regression task generated here, and prints how they move.
using System.Globalization;
using TorchSharp;
using TrainTune;
using static TorchSharp.torch;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var steps = args.Length > 0 && int.TryParse(args[0], out var s) ? s : 4000;
var device = args.Length > 1 ? args[1] : "cpu";

// y = sin(0.5 x·a) + noise, 8 inputs: 500 training, 250 validation and 250 test rows.
var generator = new Generator(42);
var direction = torch.randn(8, 1, generator: generator);
Split MakeSplit(int rows)
{
    var inputs = torch.randn(rows, 8, generator: generator);
    return new Split(inputs, (inputs.matmul(direction) * 0.5).sin() + 0.05 * torch.randn(rows, 1, generator: generator));
}
var data = new TrainingData(MakeSplit(500), MakeSplit(250), MakeSplit(250));

nn.Module<Tensor, Tensor> Mlp() => nn.Sequential(("hidden", nn.Linear(8, 50)), ("relu", nn.ReLU()), ("output", nn.Linear(50, 1)));

var run = TuningRun.Of(Mlp, new SgdMomentum(learningRate: 1e-4, momentum: 0.5, weightDecay: 1e-4), Loss.MeanSquaredError)
    .On(data)
    .ForSteps(steps)
    .WithBatchSize(50)
    .WithSeed(1)
    .OnDevice(device)
    .OnProgress(p =>
    {
        if (p.Step % (p.TotalSteps / 10) != 0) return;
        var h = p.Hyperparameters;
        Console.WriteLine($"{p.Step,6} {p.TrainLoss,12:G4} {p.ValidationLoss,12:G4} {h["learningRate"].Value,12:G4} {h["momentum"].Value,10:G4} {h["weightDecay"].Value,12:G4}");
    });

run.ForSteps(50).OnProgress(_ => { }).Run(); // loads libtorch, so that the timings below compare like with like

Console.WriteLine($"One-pass tuning (T = 10, i = 5) of SGD with momentum and weight decay, {steps} steps:");
Console.WriteLine($"{"step",6} {"train loss",12} {"val loss",12} {"lr",12} {"momentum",10} {"wd",12}");
var tuned = run.Tune(Method.OnePass(stepsPerHyperstep: 10, neumannTerms: 5)).RecordTo("traintune-out/QuickStart/record.jsonl").Run();
var baseline = run.OnProgress(_ => { }).Tune(Method.Fixed()).Run();

Console.WriteLine();
Console.WriteLine($"libtorch threads: {tuned.Threads!.IntraOp} ({tuned.Threads.Reason})");
Console.WriteLine();
Console.WriteLine($"{"",24} {"train",10} {"validation",10} {"test",10} {"seconds",8}");
Console.WriteLine($"{"fixed hyperparameters",24} {baseline.TrainLoss,10:G4} {baseline.ValidationLoss,10:G4} {baseline.TestLoss,10:G4} {baseline.Seconds,8:F1}");
Console.WriteLine($"{"one-pass tuning",24} {tuned.TrainLoss,10:G4} {tuned.ValidationLoss,10:G4} {tuned.TestLoss,10:G4} {tuned.Seconds,8:F1}");
Console.WriteLine();
Console.WriteLine("Record of the tuned run: traintune-out/QuickStart/record.jsonl");
