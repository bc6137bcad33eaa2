// Benchmark: N single runs one after another against one population of N members, for the
// paper's UCI setting (MLP 8-50-1, full batch, 614 training rows) and the methods the
// experiments run, side by side in one process. Prints seconds per member-step and the ratio.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using TrainTune;
using TrainTune.Hosting;
using static TorchSharp.torch;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var stepsOption = new Option<int>("--steps") { Description = "Weight steps per run.", DefaultValueFactory = _ => 400 };
var sizesOption = new Option<int[]>("--sizes") { Description = "Population sizes.", DefaultValueFactory = _ => [1, 5, 10, 20, 50, 100, 200], AllowMultipleArgumentsPerToken = true };
var singlesOption = new Option<int>("--singles") { Description = "Single runs timed per method (their mean is the per-run cost).", DefaultValueFactory = _ => 5 };
var methodsOption = new Option<string[]>("--methods") { Description = "Methods by the paper's names.", DefaultValueFactory = _ => ["Random", "OursWdLrM", "DiffThroughOpt"], AllowMultipleArgumentsPerToken = true };
var threadsOption = new Option<int>("--threads") { Description = "libtorch threads for every run.", DefaultValueFactory = _ => 1 };
var onlyOption = new Option<string>("--only") { Description = "Time only the single runs or only the populations (for a profiler): single, population or both.", DefaultValueFactory = _ => "both" };
onlyOption.AcceptOnlyFromAmong("single", "population", "both");
var root = new RootCommand("TrainTune benchmark: N single runs against one population of N (MLP 8-50-1, full batch 614 rows).")
{
    stepsOption, sizesOption, singlesOption, methodsOption, threadsOption, onlyOption,
};
root.SetAction(parsed => Bench(parsed.GetValue(stepsOption), parsed.GetValue(sizesOption)!, parsed.GetValue(singlesOption),
    parsed.GetValue(methodsOption)!, parsed.GetValue(threadsOption), parsed.GetValue(onlyOption)!));
return root.Parse(args).Invoke();

static int Bench(int steps, int[] sizes, int singles, string[] methods, int threads, string only)
{
    // Energy's shape: 8 inputs, 614 / 77 / 77 rows (timing does not depend on the values).
    var generator = new Generator(0);
    Split MakeSplit(int n)
    {
        var inputs = randn(n, 8, generator: generator);
        return new Split(inputs, inputs.sum(1, keepdim: true).tanh());
    }
    var data = new TrainingData(MakeSplit(614), MakeSplit(77), MakeSplit(77));
    var run = TuningRun.Of(() => new Mlp(8, 50, 1), new SgdMomentum(), Loss.MeanSquaredError).On(data).ForSteps(steps).WithThreads(threads);
    TuningRun Member(string method, long seed) =>
        ExperimentProtocol.Apply(method, run.WithSeed(seed).StartingFrom(ExperimentProtocol.RandomInitial(seed, run.Rule)));

    Console.WriteLine($"{Machine.Description()}; MLP 8-50-1, full batch (614 rows), {steps} steps per run, {threads} libtorch thread(s); ms per member-step (lower is better)");
    Console.WriteLine($"| method | single run | {string.Join(" | ", sizes.Select(n => $"population {n}"))} |");
    Console.WriteLine($"| --- | --- | {string.Join(" | ", sizes.Select(_ => "---"))} |");
    foreach (var method in methods)
    {
        Member(method, 0).ForSteps(50).Run(); // warm up
        TuningRun.RunPopulation(Enumerable.Range(0, 2).Select(s => Member(method, s).ForSteps(50)));
        var clock = Stopwatch.StartNew();
        if (only != "population")
            for (var s = 0; s < singles; s++) Member(method, 1000 + s).Run();
        var single = only == "population" ? double.NaN : clock.Elapsed.TotalMilliseconds / singles / steps;
        var cells = new List<string>();
        foreach (var n in only == "single" ? [] : sizes)
        {
            clock.Restart();
            TuningRun.RunPopulation(Enumerable.Range(0, n).Select(s => Member(method, 2000 + s)));
            var perMemberStep = clock.Elapsed.TotalMilliseconds / n / steps;
            cells.Add($"{perMemberStep:F3} ({single / perMemberStep:F1}×)");
        }
        Console.WriteLine($"| {method} | {single:F3} | {string.Join(" | ", cells)} |");
    }
    return 0;
}
