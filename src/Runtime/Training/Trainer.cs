using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;
using TrainTune.Hosting;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// The training loop: blocks of T weight steps, the method's tuner finishing each block,
/// divergence detection, records, checkpoints. Every step runs in its own dispose scope, so
/// memory stays flat however long the run. A run has N members laid out by a
/// <see cref="MemberLayout"/> (one model, or a population's members stacked into one), each with
/// its own record, divergence and result; a member that diverges is frozen while the others go on.
/// </summary>
internal sealed partial class Trainer
{
    static readonly Lock SeedGate = new();

    /// <summary>What every member shares (a population's first member; the run itself otherwise).</summary>
    readonly TuningRun _run;
    readonly IReadOnlyList<TuningRun> _members;
    readonly MemberLayout _layout;

    public Trainer(TuningRun run) => (_run, _members, _layout) = (run, [run], MemberLayout.Single);

    Trainer(IReadOnlyList<TuningRun> members) => (_run, _members, _layout) = (members[0], members, MemberLayout.Stacked(members.Count));

    /// <summary>Trains <paramref name="members"/> as one population; see <see cref="TuningRun.RunPopulation"/>.</summary>
    public static IReadOnlyList<RunResult> RunPopulation(IReadOnlyList<TuningRun> members)
    {
        PopulationCheck.Members(members);
        return new Trainer(members).RunAll();
    }

    /// <summary>One block's outcome: its step losses [step][member] and what tuning did.</summary>
    sealed record Block(double[][] StepLosses, BlockOutcome? Outcome, Split Validation);

    public RunResult Run() => RunAll()[0];

    IReadOnlyList<RunResult> RunAll()
    {
        Validate();
        NativeAllocator.EnsureLargeBlocksStayInTheHeap();
        var device = _run.ResolveDevice();
        var stopwatch = Stopwatch.StartNew();
        var (model, shadow, copies) = BuildModels(device);
        using var ownedModel = model;
        using var ownedShadow = shadow;
        var data = MoveData(_run.Data!, device);
        data.Validate();
        if (data.Streams is not null && _layout != MemberLayout.Single)
            throw new TrainTuneException("A population does not train on token streams (its members would share the carried state): run the seeds one at a time (-p:TrainTunePopulation=1, or TuningRun.Run per seed).");
        if (data.Streams is not null && (_run.BatchSize is not null || _run.ValidationBatchSize is not null))
            throw new TrainTuneException("On token streams a batch is a window of every stream: set the streams and the window length in SequenceStreams and leave WithBatchSize out.");
        var threads = ThreadPolicy.Apply(ThreadPolicy.Choose(
            ThreadPolicy.WorkPerStep(model.parameters().Select(p => p.numel()), data.Streams is { } s ? s.Train.Streams * s.Train.Window : _run.BatchSize ?? data.Train.Inputs.shape[0]),
            _run.Threads, _run.CoreShare ?? ThreadPolicy.AvailableCores,
            _run.CoreShare is { } share ? $"{share} of the process's {ThreadPolicy.AvailableCores} cores for this run" : null));

        using var learner = new Learner(model, shadow, _run.Rule, _run.Loss, _layout, _members.Select(m => m.InitialValues).ToArray(), _run.PerWeight, copies, _run.Groups, _run.PerGroup)
        {
            Clipping = _run.Clipping,
        };
        foreach (var (name, schedule) in _run.Schedules ?? new Dictionary<string, Schedule>()) learner.SetSchedule(name, schedule);
        learner.Probe(data.Train, _run.Metric);
        learner.Probe(data.Validation, _run.Metric);
        using var tuner = _run.Method.Start(learner, _members.Select(m => m.Method).ToList());
        var seeds = _members.Select(m => m.Seed).ToArray();
        using var trainBatches = data.Streams is { } streams ? new SequenceBatches(streams.Train) : _layout.Batches(data.Train, _run.BatchSize, seeds);
        using var validationBatches = data.Streams is { } validationStreams ? new SequenceBatches(validationStreams.Validation)
            : _layout.Batches(data.Validation, _run.ValidationBatchSize, seeds.Select(s => s + 1).ToArray());

        var progress = StartOrResume(learner, tuner, trainBatches, validationBatches, device, threads);
        var stepper = new BlockStepper(learner, tuner, _run.Method.StepsPerBlock);
        try
        {
            var setupSeconds = stopwatch.Elapsed.TotalSeconds;
            var blocksThisProcess = 0;
            var done = progress[0].Done;
            learner.BeginBlock();
            while (done < _run.Steps && progress.Any(p => p.DivergedAt is null))
            {
                var length = Math.Min(_run.Method.StepsPerBlock, _run.Steps - done);
                using var scope = torch.NewDisposeScope();
                var block = RunBlock(learner, stepper, trainBatches, validationBatches, done, length);
                var diverged = Diverged(progress, block, done);
                // A member that diverged is frozen; the run stops where its last member diverged.
                if (progress.All(p => p.DivergedAt is not null)) break;
                done += length;
                TimeEvaluation(learner, data);
                Record(progress, learner, block, stopwatch.Elapsed, done, diverged);
                blocksThisProcess++;
                if (_run.CheckpointPath is not null && length == _run.Method.StepsPerBlock && (done / length) % _run.CheckpointEveryBlocks == 0 && done < _run.Steps)
                    SaveCheckpoint(progress[0], learner, tuner, trainBatches, validationBatches);
                if (blocksThisProcess == _run.StopAfterBlocks) return [Interrupted(progress[0], stopwatch)];
            }
            return Finish(progress, learner, data, threads, stopwatch, setupSeconds);
        }
        finally
        {
            foreach (var member in progress) member.Recorder?.Dispose();
        }
    }

    /// <summary>The model, its shadow and a maker of further copies, each member's weights those a single run with its seed starts from.</summary>
    (nn.Module<Tensor, Tensor> Model, nn.Module<Tensor, Tensor> Shadow, Func<nn.Module<Tensor, Tensor>> Copies) BuildModels(Device device)
    {
        // libtorch's generator is process-wide: seed and build without another run in between.
        lock (SeedGate) return _layout.Build(() => Build(device), _members.Select(m => m.Seed).ToArray());
    }

    void Validate()
    {
        if (_run.Data is null) throw new TrainTuneException("The run has no data: call On(data) before Run().");
        if (_run.Steps < 1) throw new TrainTuneException($"The run needs at least one step, not {_run.Steps}.");
        if (_run.BatchSize is < 1 || _run.ValidationBatchSize is < 1)
            throw new TrainTuneException("Batch sizes must be at least 1 (or null for the full split).");
        if (_run.Precision is not (ScalarType.Float32 or ScalarType.Float64))
            throw new TrainTuneException($"Precision {_run.Precision} is not supported: use Float32 or Float64.");
        if (_run.CheckpointEveryBlocks < 1) throw new TrainTuneException($"Checkpoints need at least one block between them, not {_run.CheckpointEveryBlocks}.");
    }

    /// <summary>
    /// One block of <paramref name="length"/> weight steps: plain steps, then (in a full block) the
    /// tuner's own; the step losses come to the host once, at the end.
    /// </summary>
    Block RunBlock(Learner learner, BlockStepper stepper, IBatchSource trainBatches, IBatchSource validationBatches, int done, int length)
    {
        var fullBlock = length == _run.Method.StepsPerBlock;
        var losses = new List<Tensor>(length);
        BlockOutcome? outcome = null;
        Split? validation = null;
        try
        {
            for (var t = 0; t < length; t++)
            {
                // The validation batch of the block: drawn before its last step, outside the step's scope (the record may evaluate on it).
                if (t == length - 1) validation = validationBatches.Next();
                using var stepScope = torch.NewDisposeScope();
                var batch = trainBatches.Next();
                var (loss, finished) = stepper.Step(learner.LossOn(batch), () => learner.LossOn(validation!), plain: !fullBlock);
                losses.Add(loss.MoveToOuterDisposeScope());
                outcome ??= finished;
            }
        }
        catch (ExternalException e)
        {
            throw new TrainTuneException($"libtorch failed at step {done + losses.Count + 1}: {e.Message.Split('\n')[0]}", e);
        }
        var members = learner.Members;
        var flat = torch.cat(losses.Select(l => l.reshape(-1)).ToArray()).to(ScalarType.Float64).cpu().data<double>().ToArray();
        var stepLosses = flat.Chunk(members).ToArray();
        return new Block(stepLosses, outcome, validation!);
    }

    nn.Module<Tensor, Tensor> Build(Device device)
    {
        nn.Module<Tensor, Tensor> model;
        try
        {
            model = _run.ModelFactory();
        }
        catch (Exception e) when (e is not TrainTuneException)
        {
            throw new TrainTuneException($"The model factory threw {e.GetType().Name}: {e.Message}", e);
        }
        if (model is null) throw new TrainTuneException("The model factory returned null; it must return a new model each time it is called.");
        if (!model.training)
            throw new TrainTuneException("The model factory returned a model in evaluation mode (eval()): weight steps are taken in training mode, and every loss is evaluated on a copy in evaluation mode. Return the model as built, in training mode; to keep some layers in evaluation mode (a frozen BatchNorm), call eval() on those layers only.");
        return model.to(_run.Precision).to(device);
    }

    TrainingData MoveData(TrainingData data, Device device)
    {
        Split Move(Split s) => new(Convert(s.Inputs), Convert(s.Targets));
        Tensor Convert(Tensor t) => (t.is_floating_point() ? t.to(_run.Precision) : t).to(device).DetachFromDisposeScope();
        return new TrainingData(Move(data.Train), Move(data.Validation), data.Test is null ? null : Move(data.Test)) { Streams = data.Streams?.To(device) };
    }
}
