// Benchmark: one-pass tuning against plain training per weight step on the models users train
// beyond MLPs (a CNN with BatchNorm and Dropout, the batch-normalised MLP, a CPU-sized ResNet),
// with SGD with momentum and AdamW, through TuningRun as a user runs it; and the final
// evaluation's time by chunk size. Random data: the timing does not depend on the values.
using System.CommandLine;
using System.Globalization;
using TorchSharp;
using TrainTune;
using TrainTune.Hosting;
using static TorchSharp.torch;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
// Every run raises glibc's mmap and trim thresholds; TRAINTUNE_MALLOC=default measures glibc's own behaviour.
var heap = Environment.GetEnvironmentVariable("TRAINTUNE_MALLOC") == "default" ? "glibc's default thresholds" : "large blocks kept in the heap";
var repeatsOption = new Option<int>("--repeats") { Description = "Timed runs per method (alternating).", DefaultValueFactory = _ => 3 };
var onlyOption = new Option<string?>("--only") { Description = "Only the models and rules whose name contains this (e.g. ResNet, AdamW)." };
var partsOption = new Option<bool>("--cnn-parts") { Description = "Instead: the CNN's one-pass cost by Neumann terms and without each of its layers (where the tracked step's time goes)." };
var resnetPartsOption = new Option<bool>("--resnet-parts") { Description = "Instead: ResNet-8's one-pass block by its parts (plain step, tracked step, one Hessian-vector product, the validation pass) and the ratio they imply." };
var neumannOption = new Option<int>("--neumann-terms") { Description = "Neumann terms i of the one-pass method in the main table (the paper's 5; fewer Hessian-vector products per block).", DefaultValueFactory = _ => 5 };
neumannOption.Validators.Add(result =>
{
    if (result.GetValueOrDefault<int>() < 1) result.AddError("--neumann-terms takes a whole number of at least 1.");
});
var lstmOption = new Option<bool>("--lstm") { Description = "Instead: the CPU-sized word LSTM (one layer of 200, 10,000 words, 20 streams of 35 tokens), time per step and peak memory." };
var root = new RootCommand("TrainTune benchmark: one-pass / plain time per step on a CNN, the BatchNorm MLP and ResNet-8.") { repeatsOption, onlyOption, neumannOption, partsOption, resnetPartsOption, lstmOption };
root.SetAction(parsed =>
{
    Console.WriteLine($"{Machine.Description()}; allocator: {heap}");
    return parsed.GetValue(partsOption) ? CnnParts(parsed.GetValue(repeatsOption))
        : parsed.GetValue(resnetPartsOption) ? ResNetParts(parsed.GetValue(repeatsOption))
        : parsed.GetValue(lstmOption) ? Lstm(parsed.GetValue(repeatsOption))
        : Bench(parsed.GetValue(repeatsOption), parsed.GetValue(onlyOption), parsed.GetValue(neumannOption));
});
return root.Parse(args).Invoke();

static int Bench(int repeats, string? only, int neumannTerms)
{
    Console.WriteLine($"{repeats} runs per method, alternating; one-pass with T = 10, i = {neumannTerms}; ms per weight step (training time only, medians)");
    Console.WriteLine($"{"model",-34} {"rule",-12} {"plain",8} {"one-pass",9} {"ratio",6}  threads");
    var models = new (string Name, Func<nn.Module<Tensor, Tensor>> Model, long[] Shape, int Steps)[]
    {
        ("CNN 16c3-BN-pool-dropout, 28x28", () => new SmallCnn(), [1, 28, 28], 150),
        ("MLP 784-50(BN)-10", () => nn.Sequential(("linear0", nn.Linear(784, 50, hasBias: false)), ("norm0", nn.BatchNorm1d(50)), ("relu0", nn.ReLU()), ("linear1", nn.Linear(50, 10))), [784], 1000),
        ("ResNet-8 (CifarResNet 16, 1), 32x32", () => new CifarResNet(16, 1), [3, 32, 32], 80),
    };
    var rules = new (string Name, Func<IWeightUpdate> Rule)[] { ("SgdMomentum", () => new SgdMomentum(1e-2, 0.9, 1e-4)), ("AdamW", () => new AdamW()) };
    foreach (var (name, model, shape, steps) in models)
    {
        var data = RandomData(shape, train: 2000, evaluate: 1000);
        foreach (var (ruleName, rule) in rules)
        {
            if (only is not null && !name.Contains(only, StringComparison.OrdinalIgnoreCase) && !ruleName.Contains(only, StringComparison.OrdinalIgnoreCase)) continue;
            var run = TuningRun.Of(model, rule(), Loss.CrossEntropy).On(data).WithBatchSize(shape.Length == 1 ? 50 : 100, 100).WithSeed(1);
            var plain = new List<double>();
            var tuned = new List<double>();
            ThreadChoice? threads = null;
            var method = Method.OnePass(neumannTerms: neumannTerms);
            run.Tune(method).ForSteps(20).Run(); // warm up
            for (var r = 0; r < repeats; r++)
            {
                var fixedRun = run.Tune(Method.Fixed()).ForSteps(steps).Run();
                plain.Add(1000 * fixedRun.Timing!.Training / steps);
                var onePass = run.Tune(method).ForSteps(steps).Run();
                tuned.Add(1000 * onePass.Timing!.Training / steps);
                threads = onePass.Threads;
            }
            Console.WriteLine($"{name,-34} {ruleName,-12} {Median(plain),8:F2} {Median(tuned),9:F2} {Median(tuned) / Median(plain),6:F2}  {threads!.IntraOp}");
        }
    }
    if (only is null) EvaluationChunks();
    return 0;
}

// The CNN's one-pass / plain ratio with 1 and 5 Neumann terms, and with BatchNorm, max-pooling or
// Dropout left out: which part makes its tracked step expensive.
static int CnnParts(int repeats)
{
    Console.WriteLine($"CNN on 28x28, batch 100, SgdMomentum, {repeats} runs, ms per weight step (medians)");
    var variants = new (string Name, bool Norm, bool Pool, bool Drop)[] { ("full", true, true, true), ("no BatchNorm", false, true, true), ("no max-pool", true, false, true), ("no Dropout", true, true, false) };
    var data = RandomData([1, 28, 28], train: 2000, evaluate: 1000);
    foreach (var (name, norm, pool, drop) in variants)
    {
        var run = TuningRun.Of(() => new SmallCnn(norm, pool, drop), new SgdMomentum(1e-2, 0.9, 1e-4), Loss.CrossEntropy).On(data).WithBatchSize(100, 100).WithSeed(1);
        double Time(Method method)
        {
            var times = new List<double>();
            for (var r = 0; r < repeats; r++) times.Add(1000 * run.Tune(method).ForSteps(100).Run().Timing!.Training / 100);
            return Median(times);
        }
        var plain = Time(Method.Fixed());
        var one = Time(Method.OnePass(neumannTerms: 1));
        var five = Time(Method.OnePass(neumannTerms: 5));
        Console.WriteLine($"  {name,-14} plain {plain,7:F2}  one-pass i=1 {one,7:F2} ({one / plain:F2}x)  i=5 {five,7:F2} ({five / plain:F2}x)");
    }
    return 0;
}

// ResNet-8's one-pass block (T = 10, i = 5) by its parts, in libtorch directly on one batch of
// 100: a plain step's forward and backward pass, the tracked step's (the backward pass keeping
// its graph), one Hessian-vector product through that graph (the Neumann series takes i − 1 = 4),
// and the validation loss's forward and backward pass in evaluation mode. The ratio they imply
// counts only these passes (no weight update, batching or record): what the method costs as
// autograd computes it, whatever the engine around it does.
static int ResNetParts(int repeats)
{
    const int t = 10, neumann = 5, runs = 10;
    // One step through TuningRun first: it sets up the process as every run does (the allocator's
    // thresholds, one thread), which these direct libtorch calls would otherwise run without.
    TuningRun.Of(() => new CifarResNet(16, 1), new SgdMomentum(1e-2, 0.9, 1e-4), Loss.CrossEntropy)
        .On(RandomData([3, 32, 32], train: 200, evaluate: 100)).WithBatchSize(100, 100).Tune(Method.Fixed()).ForSteps(1).Run();
    torch.set_num_threads(1);
    Console.WriteLine($"ResNet-8 (CifarResNet 16, 1), 32x32, batch 100, one thread; ms, medians of {runs} after 2 warm-ups, {repeats} rounds");
    var x = torch.randn(100, 3, 32, 32);
    var y = torch.randint(10, [100]);
    var model = new CifarResNet(16, 1);
    var weights = model.parameters().ToArray();
    double Time(Action action)
    {
        var times = new List<double>();
        for (var i = 0; i < runs + 2; i++)
        {
            using var scope = torch.NewDisposeScope();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            action();
            if (i >= 2) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return Median(times);
    }
    Tensor[] Gradients(bool keep) =>
        torch.autograd.grad([nn.functional.cross_entropy(model.call(x), y)], weights, retain_graph: keep, create_graph: keep).ToArray();
    for (var round = 0; round < repeats; round++)
    {
        model.train();
        var plain = Time(() => Gradients(keep: false));
        var tracked = Time(() => Gradients(keep: true));
        var withProducts = Time(() =>
        {
            var g = Gradients(keep: true);
            var v = weights.Select(w => torch.randn_like(w)).ToArray();
            for (var k = 0; k < neumann - 1; k++) torch.autograd.grad(g, weights, v, retain_graph: true);
        });
        var product = (withProducts - tracked) / (neumann - 1);
        model.eval();
        var validation = Time(() => Gradients(keep: false));
        var floor = ((t - 1) * plain + tracked + (neumann - 1) * product + validation) / (t * plain);
        Console.WriteLine($"  plain {plain,6:F1}  tracked {tracked,6:F1}  Hessian-vector product {product,6:F1} ({product / plain:F2} plain)  validation {validation,6:F1}  => one-pass / plain {floor:F2} (a plain step being its passes alone)");
    }
    return 0;
}

// The final evaluation's forward passes over 10,000 images of the CNN in evaluation mode, by chunk size.
static void EvaluationChunks()
{
    Console.WriteLine("final evaluation of the CNN over 10,000 28x28 images, evaluation mode, one thread: seconds by rows per chunk");
    torch.set_num_threads(1);
    var model = new SmallCnn();
    model.eval();
    var images = torch.randn(10_000, 1, 28, 28);
    using var _ = torch.no_grad();
    foreach (var chunk in new[] { 8192, 2048, 512, 128 })
    {
        var best = double.MaxValue;
        for (var r = 0; r < 2; r++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (long start = 0; start < 10_000; start += chunk)
            {
                using var scope = torch.NewDisposeScope();
                model.call(images.narrow(0, start, Math.Min(chunk, 10_000 - start))).sum().item<float>();
            }
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        Console.WriteLine($"  {chunk,5} rows per chunk: {best:F2} s");
    }
}

static TrainingData RandomData(long[] shape, int train, int evaluate)
{
    var generator = new Generator(0);
    Split Make(int rows) => new(torch.randn([rows, .. shape], generator: generator), torch.randint(10, [rows], generator: generator));
    return new TrainingData(Make(train), Make(evaluate), Make(evaluate));
}


// The CPU-sized Penn Treebank model on random tokens, through TuningRun on token streams with
// gradient clipping at 0.25 (PennTreebankSmall's configuration): ms per weight step, plain and
// one-pass, and the process's peak resident memory after each. The heap keeps its peak (every run
// raises glibc's trim threshold), so the plain runs go first and each peak includes those before.
static int Lstm(int repeats)
{
    const int steps = 60, vocabulary = 10_000;
    Console.WriteLine($"WordLstm(10000, 200, 200), 20 streams x 35 tokens, clipping 0.25, {steps} steps, {repeats} runs, ms per weight step (medians); peak resident memory (VmHWM) after each");
    var generator = new Generator(0);
    SequenceStreams Streams(int windows) => new(torch.randint(vocabulary, [20 * (35 * windows + 1)], generator: generator), 20, 35, vocabulary);
    var data = TrainingData.FromStreams(Streams(steps), Streams(steps / 10 + 1), Streams(2));
    var rules = new (string Name, Func<IWeightUpdate> Rule)[] { ("SgdMomentum", () => new SgdMomentum(0.05, 0.5, 1e-9)), ("AdamW", () => new AdamW()) };
    var times = new Dictionary<string, double>();
    foreach (var (label, method) in new[] { ("plain", Method.Fixed()), ("one-pass", Method.OnePass()) })
        foreach (var (ruleName, rule) in rules)
        {
            var run = TuningRun.Of(() => new WordLstm(vocabulary, 200, 200), rule(), Loss.CrossEntropy).On(data).WithGradientClipping(maxNorm: 0.25).WithSeed(1);
            var perStep = new List<double>();
            for (var r = 0; r < repeats; r++) perStep.Add(1000 * run.Tune(method).ForSteps(steps).Run().Timing!.Training / steps);
            times[label + ruleName] = Median(perStep);
            Console.WriteLine($"  {ruleName,-12} {label,-9} {Median(perStep),8:F1} ms   peak {PeakMiB():F0} MiB");
        }
    foreach (var (ruleName, _) in rules) Console.WriteLine($"  {ruleName,-12} one-pass / plain {times["one-pass" + ruleName] / times["plain" + ruleName]:F2}");
    return 0;
}

static double PeakMiB() =>
    File.ReadLines("/proc/self/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
        .Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024).FirstOrDefault();

static double Median(List<double> xs) { var s = xs.Order().ToArray(); return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2; }

/// <summary>The CNN users start with: Conv2d(1, 16, 3) → BatchNorm2d → ReLU → MaxPool(2) → Dropout(0.25) → Linear(16·13·13, 10).</summary>
sealed class SmallCnn : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // RegisterComponents names the submodules after the fields
    readonly nn.Module<Tensor, Tensor> features, classifier;
#pragma warning restore IDE1006

    public SmallCnn(bool norm = true, bool pool = true, bool drop = true) : base(nameof(SmallCnn))
    {
        var layers = new List<nn.Module<Tensor, Tensor>> { nn.Conv2d(1, 16, 3) };
        if (norm) layers.Add(nn.BatchNorm2d(16));
        layers.Add(nn.ReLU());
        if (pool) layers.Add(nn.MaxPool2d(2));
        if (drop) layers.Add(nn.Dropout(0.25));
        features = nn.Sequential(layers);
        classifier = nn.Linear(16 * (pool ? 13 * 13 : 26 * 26), 10);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => classifier.call(features.call(input).flatten(1));
}
