// A training loop of one's own, tuned by TrainTune's Tuner: its own batching with data
// augmentation on Fashion-MNIST (random shifts and horizontal flips), a learning-rate warm-up it
// applies itself for the first steps, its own console output. Trains the same MLP twice from the
// same weights, once with fixed hyperparameters and once tuned, and prints both side by side.
using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using TrainTune;
using static TorchSharp.torch;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var steps = args.Length > 0 && int.TryParse(args[0], out var n) && n > 0 ? n : 3000;
const int BatchSize = 50, WarmupSteps = 200;
var data = TrainTune.FashionMnist.Load();
Console.WriteLine($"Fashion-MNIST: {data.Train.Rows} training, {data.Validation.Rows} validation, {data.Test!.Rows} test images; MLP 784-50-10, {steps} steps of batch {BatchSize}");

var runs = new[] { ("fixed", Method.Fixed()), ("tuned (one-pass)", Method.OnePass(stepsPerHyperstep: 10, neumannTerms: 5)) }
    .Select(r => (Name: r.Item1, Result: Train(r.Item1, r.Item2))).ToList();

Console.WriteLine();
Console.WriteLine("| run | test cross-entropy | test accuracy | learning rate | momentum | weight decay | seconds |");
Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
foreach (var (name, r) in runs)
    Console.WriteLine($"| {name} | {r.TestLoss:F4} | {r.Accuracy:P2} | {r.Values["learningRate"].Value:G3} | {r.Values["momentum"].Value:G3} | {r.Values["weightDecay"].Value:G3} | {r.Seconds:F1} |");

(double TestLoss, double Accuracy, IReadOnlyDictionary<string, HyperparameterValue> Values, double Seconds) Train(string name, Method method)
{
    torch.manual_seed(1);
    var model = new Mlp(784, 50, 10);
    using var tuner = Tuner.For(model, () => new Mlp(784, 50, 10), new SgdMomentum(learningRate: 1e-2, momentum: 0.9, weightDecay: 1e-4), method);
    var random = new Random(1);
    var clock = Stopwatch.StartNew();
    for (var step = 0; step < steps; step++)
    {
        using var scope = torch.NewDisposeScope();
        var (x, y) = Batch(data.Train, random, augment: true);
        // The loop's own warm-up: the loss scaled up linearly over the first steps (for SGD, the
        // same as warming up the learning rate the tuner holds).
        var warmup = Math.Min(1.0, (step + 1) / (double)WarmupSteps);
        var loss = Loss.CrossEntropy.Compute(model.call(x), y) * warmup;
        // L_V on a fresh validation batch at every hyper step, without augmentation.
        var taken = tuner.Step(loss, validationLoss: m =>
        {
            var (xv, yv) = Batch(data.Validation, random, augment: false);
            return Loss.CrossEntropy.Compute(m.call(xv), yv);
        });
        if ((step + 1) % 500 == 0)
            Console.WriteLine($"  {name}: step {step + 1}/{steps}, batch loss {taken.item<float>():F4}, learning rate {tuner.Hyperparameters["learningRate"].Value:G3}");
        if (tuner.DivergedAtStep is { } diverged)
        {
            Console.WriteLine($"  {name}: diverged at step {diverged}");
            break;
        }
    }
    var seconds = clock.Elapsed.TotalSeconds;
    using var _ = torch.no_grad();
    model.eval();
    var logits = model.call(data.Test!.Inputs);
    var testLoss = Loss.CrossEntropy.Compute(logits, data.Test.Targets).item<float>();
    var accuracy = logits.argmax(1).eq(data.Test.Targets).to(ScalarType.Float64).mean().item<double>();
    return (testLoss, accuracy, tuner.Hyperparameters, seconds);
}

// The loop's own batching: random rows; augmented images shifted by up to two pixels and flipped
// left-right half of the time (inputs are flattened 28×28 images).
static (Tensor Inputs, Tensor Targets) Batch(Split split, Random random, bool augment)
{
    var rows = torch.tensor(Enumerable.Range(0, BatchSize).Select(_ => (long)random.Next((int)split.Rows)).ToArray());
    var inputs = split.Inputs.index_select(0, rows);
    if (augment)
    {
        var images = inputs.reshape(BatchSize, 28, 28);
        images = images.roll([random.Next(-2, 3), random.Next(-2, 3)], [1, 2]);
        var flip = torch.rand(BatchSize, 1, 1) < 0.5;
        inputs = torch.where(flip, images.flip(2), images).reshape(BatchSize, 784);
    }
    return (inputs, split.Targets.index_select(0, rows));
}
