// Benchmark: plain training with fixed hyperparameters against one-pass tuning of the same
// model for the same steps, side by side in one process, then resident memory over a long run.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using TrainTune;
using static TorchSharp.torch;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var stepsOption = new Option<int>("--steps") { Description = "Weight steps per timed run.", DefaultValueFactory = _ => 2000 };
var repeatsOption = new Option<int>("--repeats") { Description = "Timed runs per method (alternating).", DefaultValueFactory = _ => 5 };
var memoryStepsOption = new Option<int>("--memory-steps") { Description = "Steps of the one-pass run whose resident memory is measured (0 skips it).", DefaultValueFactory = _ => 20000 };
var deviceOption = new Option<string>("--device") { Description = "cpu, cuda or auto.", DefaultValueFactory = _ => "cpu" };
var root = new RootCommand("TrainTune benchmark: MLP 784-50-10, batch 50, fixed hyperparameters vs one-pass tuning (T = 10, i = 5).")
{
    stepsOption, repeatsOption, memoryStepsOption, deviceOption,
};
root.SetAction(parsed => Bench(parsed.GetValue(stepsOption), parsed.GetValue(repeatsOption), parsed.GetValue(memoryStepsOption), parsed.GetValue(deviceOption)!));
return root.Parse(args).Invoke();

static int Bench(int steps, int repeats, int memorySteps, string device)
{
    // Fashion-MNIST-shaped random data: timing does not depend on the values.
    var generator = new Generator(0);
    Split MakeSplit(int rows) => new(torch.randn(rows, 784, generator: generator), torch.randint(10, [rows], generator: generator));
    var data = new TrainingData(MakeSplit(10_000), MakeSplit(2_000));
    nn.Module<Tensor, Tensor> Mlp() => nn.Sequential(("hidden", nn.Linear(784, 50)), ("relu", nn.ReLU()), ("output", nn.Linear(50, 10)));
    var run = TuningRun.Of(Mlp, new SgdMomentum(1e-2, 0.9, 1e-4), Loss.CrossEntropy)
        .On(data).WithBatchSize(50, validationBatchSize: 50).OnDevice(device).WithSeed(1);
    var methods = new (string Name, Method Method)[]
    {
        ("fixed", Method.Fixed(stepsPerBlock: 10)),
        ("one-pass", Method.OnePass(stepsPerHyperstep: 10, neumannTerms: 5)),
    };

    Console.WriteLine($"MLP 784-50-10, batch 50, {steps} steps per run, {repeats} runs per method, threads {torch.get_num_threads()}, device {device}");
    foreach (var (_, method) in methods) run.Tune(method).ForSteps(200).Run(); // warm up
    var seconds = methods.ToDictionary(m => m.Name, _ => new List<double>());
    for (var r = 0; r < repeats; r++)
        foreach (var (name, method) in methods)
        {
            var stopwatch = Stopwatch.StartNew();
            run.Tune(method).ForSteps(steps).Run();
            seconds[name].Add(stopwatch.Elapsed.TotalSeconds);
        }
    static double Median(List<double> xs) { var s = xs.Order().ToArray(); return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2; }
    foreach (var (name, _) in methods)
        Console.WriteLine($"{name,-9} median {Median(seconds[name]),7:F3} s  ({1000 * Median(seconds[name]) / steps:F3} ms/step)  runs: {string.Join(" ", seconds[name].Select(s => s.ToString("F3")))}");
    Console.WriteLine($"ratio one-pass / fixed (medians): {Median(seconds["one-pass"]) / Median(seconds["fixed"]):F2}");
    var pairwise = seconds["one-pass"].Zip(seconds["fixed"], (a, b) => a / b).ToList();
    Console.WriteLine($"ratio per pair: {string.Join(" ", pairwise.Select(x => x.ToString("F2")))} (median {Median(pairwise):F2})");

    if (memorySteps > 0)
    {
        long? startRss = null;
        var checkpoints = new List<(int Step, long Rss)>();
        run.Tune(methods[1].Method).ForSteps(memorySteps).OnProgress(p =>
        {
            if (p.Step == 1000) startRss = Rss();
            if (p.Step % (memorySteps / 10) == 0) checkpoints.Add((p.Step, Rss()));
        }).Run();
        Console.WriteLine($"resident memory over a {memorySteps}-step one-pass run: {startRss / 1048576.0:F1} MiB at step 1000, {checkpoints[^1].Rss / 1048576.0:F1} MiB at the end");
        Console.WriteLine("  " + string.Join("  ", checkpoints.Select(c => $"{c.Step}: {c.Rss / 1048576.0:F1}")));
    }
    return 0;
}

static long Rss()
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    using var process = Process.GetCurrentProcess();
    return process.WorkingSet64;
}
