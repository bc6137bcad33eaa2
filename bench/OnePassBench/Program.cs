// Benchmark: plain training with fixed hyperparameters against one-pass tuning of the same
// model for the same steps, side by side in one process, then resident memory over a long run.
// --load repeats the timed runs while another process keeps one core busy; --thread-sweep
// measures where more libtorch threads start to pay (the thread policy's threshold).
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using TrainTune;
using TrainTune.Hosting;
using static TorchSharp.torch;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var stepsOption = new Option<int>("--steps") { Description = "Weight steps per timed run.", DefaultValueFactory = _ => 2000 };
var repeatsOption = new Option<int>("--repeats") { Description = "Timed runs per method (alternating).", DefaultValueFactory = _ => 5 };
var memoryStepsOption = new Option<int>("--memory-steps") { Description = "Steps of the one-pass run whose resident memory is measured (0 skips it).", DefaultValueFactory = _ => 20000 };
var deviceOption = new Option<string>("--device") { Description = "cpu, cuda or auto.", DefaultValueFactory = _ => "cpu" };
var loadOption = new Option<bool>("--load") { Description = "Also time every run while another process keeps one core busy, alternating with the idle runs." };
var sweepOption = new Option<bool>("--thread-sweep") { Description = "Instead: time one-pass runs of growing MLPs with 1 to all cores' threads (with --load, all under load)." };
var root = new RootCommand("TrainTune benchmark: MLP 784-50-10, batch 50, fixed hyperparameters vs one-pass tuning (T = 10, i = 5).")
{
    stepsOption, repeatsOption, memoryStepsOption, deviceOption, loadOption, sweepOption,
};
root.SetAction(parsed => parsed.GetValue(sweepOption)
    ? ThreadSweep(parsed.GetValue(repeatsOption), parsed.GetValue(deviceOption)!, parsed.GetValue(loadOption))
    : Bench(parsed.GetValue(stepsOption), parsed.GetValue(repeatsOption), parsed.GetValue(memoryStepsOption), parsed.GetValue(deviceOption)!, parsed.GetValue(loadOption)));
return root.Parse(args).Invoke();

static TuningRun Mlp(int hidden, int batch, string device) => Classifier(784, hidden, 10, batch, device);

// An MLP inputs-hidden-classes on random data (timing does not depend on the values).
static TuningRun Classifier(int inputs, int hidden, int classes, int batch, string device)
{
    var generator = new Generator(0);
    Split MakeSplit(int n) => new(torch.randn(n, inputs, generator: generator), torch.randint(classes, [n], generator: generator));
    var data = new TrainingData(MakeSplit(Math.Max(10_000, batch)), MakeSplit(2_000));
    nn.Module<Tensor, Tensor> Model() => nn.Sequential(("hidden", nn.Linear(inputs, hidden)), ("relu", nn.ReLU()), ("output", nn.Linear(hidden, classes)));
    return TuningRun.Of(Model, new SgdMomentum(1e-2, 0.9, 1e-4), Loss.CrossEntropy)
        .On(data).WithBatchSize(batch, validationBatchSize: Math.Min(batch, 2_000)).OnDevice(device).WithSeed(1);
}

static int Bench(int steps, int repeats, int memorySteps, string device, bool load)
{
    var run = Mlp(50, 50, device);
    var methods = new (string Name, Method Method)[]
    {
        ("fixed", Method.Fixed(stepsPerBlock: 10)),
        ("one-pass", Method.OnePass(stepsPerHyperstep: 10, neumannTerms: 5)),
    };

    ThreadChoice? threads = null;
    foreach (var (_, method) in methods) threads = run.Tune(method).ForSteps(200).Run().Threads; // warm up
    Console.WriteLine($"{Machine.Description()}; MLP 784-50-10, batch 50, {steps} steps per run, {repeats} runs per method, device {device}");
    Console.WriteLine($"threads {threads!.IntraOp} ({threads.Reason})");
    var conditions = load ? new[] { "idle", "loaded" } : ["idle"];
    var seconds = conditions.ToDictionary(c => c, _ => methods.ToDictionary(m => m.Name, _ => new List<double>()));
    for (var r = 0; r < repeats; r++)
        foreach (var condition in conditions)
        {
            using var burner = condition == "loaded" ? CpuBurner.Start() : null;
            foreach (var (name, method) in methods)
            {
                var stopwatch = Stopwatch.StartNew();
                run.Tune(method).ForSteps(steps).Run();
                seconds[condition][name].Add(stopwatch.Elapsed.TotalSeconds);
            }
        }
    foreach (var condition in conditions)
    {
        if (load) Console.WriteLine($"{condition}{(condition == "loaded" ? " (another process keeps one core busy)" : "")}:");
        var times = seconds[condition];
        foreach (var (name, _) in methods)
            Console.WriteLine($"{name,-9} median {Median(times[name]),7:F3} s  ({1000 * Median(times[name]) / steps:F3} ms/step)  runs: {string.Join(" ", times[name].Select(s => s.ToString("F3")))}");
        Console.WriteLine($"ratio one-pass / fixed (medians): {Median(times["one-pass"]) / Median(times["fixed"]):F2}");
        var pairwise = times["one-pass"].Zip(times["fixed"], (a, b) => a / b).ToList();
        Console.WriteLine($"ratio per pair: {string.Join(" ", pairwise.Select(x => x.ToString("F2")))} (median {Median(pairwise):F2})");
    }
    if (load)
        foreach (var (name, _) in methods)
            Console.WriteLine($"loaded / idle, {name}: {Median(seconds["loaded"][name]) / Median(seconds["idle"][name]):F2} (medians)");

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

// One-pass runs of MLPs 784-H-10 with growing width and batch, each timed with every thread
// count from 1 to the cores (with --load: while another process keeps one core busy); prints the
// work per step the policy sees and each speed-up over one thread.
static int ThreadSweep(int repeats, string device, bool load)
{
    var cores = Environment.ProcessorCount;
    var method = Method.OnePass(stepsPerHyperstep: 10, neumannTerms: 5);
    using var burner = load ? CpuBurner.Start() : null;
    Console.WriteLine($"{Machine.Description()}; thread sweep: one-pass (T = 10, i = 5), {repeats} runs per thread count, {cores} cores, device {device}{(load ? ", another process keeping one core busy" : "")}");
    Console.WriteLine($"{"model",-16} {"batch",6} {"work/step",10} " + string.Join(" ", Enumerable.Range(1, cores).Select(t => $"{t + " thr ms/step",14}")) + "  speed-up");
    var shapes = new[] { (4, 50, 2, 700), (4, 50, 2, 7000), (4, 200, 2, 7000), (4, 50, 2, 30000), (784, 50, 10, 50), (784, 50, 10, 200), (784, 100, 10, 400),
        (784, 200, 10, 400), (784, 400, 10, 400), (784, 400, 10, 1000), (784, 800, 10, 1000), (784, 1600, 10, 1000) };
    foreach (var (inputs, hidden, classes, batch) in shapes)
    {
        var run = Classifier(inputs, hidden, classes, batch, device).Tune(method);
        var work = run.ForSteps(20).WithThreads(1).Run().Threads!.WorkPerStep;
        // About a second per timed run at one thread.
        var stopwatch = Stopwatch.StartNew();
        run.ForSteps(50).WithThreads(1).Run();
        var steps = (int)Math.Clamp(Math.Round(50 / stopwatch.Elapsed.TotalSeconds / 10) * 10, 20, 4000);
        var perThreads = Enumerable.Range(1, cores).ToDictionary(t => t, _ => new List<double>());
        for (var r = 0; r < repeats; r++)
            foreach (var t in perThreads.Keys)
            {
                stopwatch.Restart();
                run.ForSteps(steps).WithThreads(t).Run();
                perThreads[t].Add(1000 * stopwatch.Elapsed.TotalSeconds / steps);
            }
        var medians = perThreads.ToDictionary(p => p.Key, p => Median(p.Value));
        Console.WriteLine($"{$"{inputs}-{hidden}-{classes}",-16} {batch,6} {work,10:G3} " + string.Join(" ", medians.Values.Select(m => $"{m,14:F3}"))
            + "  " + string.Join(" ", medians.Skip(1).Select(m => $"{medians[1] / m.Value:F2}x@{m.Key}")));
    }
    Console.WriteLine($"the automatic choice for MLP 784-50-10, batch 50: {Mlp(50, 50, device).ForSteps(10).Run().Threads!.Reason}");
    return 0;
}

static double Median(List<double> xs) { var s = xs.Order().ToArray(); return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2; }

static long Rss()
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    using var process = Process.GetCurrentProcess();
    return process.WorkingSet64;
}
