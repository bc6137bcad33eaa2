using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;
using TrainTune.Hosting;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// The training loop: blocks of T weight steps, the method's tuner finishing each block,
/// divergence detection, records, checkpoints. Every step runs in its own dispose scope, so
/// memory stays flat however long the run. The same loop trains a population: its members'
/// weights stacked into one model, each member with its own record, divergence and result.
/// </summary>
internal sealed class Trainer
{
    static readonly Lock SeedGate = new();

    /// <summary>What every member shares (a population's first member; the run itself otherwise).</summary>
    readonly TuningRun run;
    readonly IReadOnlyList<TuningRun> _members;
    readonly bool _population;

    public Trainer(TuningRun run) => (this.run, _members) = (run, [run]);

    Trainer(IReadOnlyList<TuningRun> members) => (run, _members, _population) = (members[0], members, true);

    /// <summary>Trains <paramref name="members"/> as one population; see <see cref="TuningRun.RunPopulation"/>.</summary>
    public static IReadOnlyList<RunResult> RunPopulation(IReadOnlyList<TuningRun> members)
    {
        PopulationCheck.Members(members);
        return new Trainer(members).RunAll();
    }

    /// <summary>What one member has done so far: restored from a checkpoint or started afresh.</summary>
    sealed class Progress
    {
        public int Done, Skipped;
        public int? DivergedAt;
        public required IReadOnlyDictionary<string, HyperparameterValue> Initial;
        /// <summary>The hyperparameters when the member diverged.</summary>
        public IReadOnlyDictionary<string, HyperparameterValue>? Final;
        public List<BlockRecord> History { get; } = [];
        public RunRecorder? Recorder;
        public TensorBoardLog? TensorBoard;
    }

    /// <summary>One block's outcome: its step losses [step][member] and what tuning did.</summary>
    sealed record Block(double[][] StepLosses, BlockOutcome? Outcome, Split Validation);

    public RunResult Run() => RunAll()[0];

    IReadOnlyList<RunResult> RunAll()
    {
        Validate();
        var device = run.ResolveDevice();
        var stopwatch = Stopwatch.StartNew();
        var (model, shadow, copies) = BuildModels(device);
        using var ownedModel = model;
        using var ownedShadow = shadow;
        var data = MoveData(run.Data!, device);
        data.Validate();
        var threads = ThreadPolicy.Apply(ThreadPolicy.Choose(
            ThreadPolicy.WorkPerStep(model.parameters().Select(p => p.numel()), run.BatchSize ?? data.Train.Inputs.shape[0]),
            run.Threads, run.CoreShare ?? ThreadPolicy.AvailableCores,
            run.CoreShare is { } share ? $"{share} of the process's {ThreadPolicy.AvailableCores} cores for this run" : null));

        using var learner = new Learner(model, shadow, run.Rule, run.Loss, run.InitialValues, run.PerWeight, copies,
            _population ? _members.Select(m => m.InitialValues).ToArray() : null);
        learner.Probe(data.Train);
        learner.Probe(data.Validation);
        using var tuner = _population ? run.Method.StartPopulation(learner, _members.Select(m => m.Method).ToList()) : run.Method.Start(learner);
        var seeds = _members.Select(m => m.Seed).ToArray();
        using IBatchSource trainBatches = _population ? new PopulationBatches(data.Train, run.BatchSize, seeds) : new BatchSampler(data.Train, run.BatchSize, run.Seed);
        using IBatchSource validationBatches = _population
            ? new PopulationBatches(data.Validation, run.ValidationBatchSize, seeds.Select(s => s + 1).ToArray())
            : new BatchSampler(data.Validation, run.ValidationBatchSize, run.Seed + 1);

        var progress = StartOrResume(learner, tuner, trainBatches, validationBatches, device, threads);
        var stepper = new BlockStepper(learner, tuner, run.Method.StepsPerBlock);
        try
        {
            var setupSeconds = stopwatch.Elapsed.TotalSeconds;
            var blocksThisProcess = 0;
            var done = progress[0].Done;
            learner.BeginBlock();
            while (done < run.Steps && progress.Any(p => p.DivergedAt is null))
            {
                var length = Math.Min(run.Method.StepsPerBlock, run.Steps - done);
                using var scope = torch.NewDisposeScope();
                var block = RunBlock(learner, stepper, trainBatches, validationBatches, done, length);
                var diverged = Diverged(progress, block, done);
                // A single run stops where it diverged; a population freezes that member and goes on.
                if (!_population && diverged.Count > 0) break;
                done += length;
                Record(progress, learner, block, stopwatch.Elapsed, done, diverged);
                blocksThisProcess++;
                if (run.CheckpointPath is not null && length == run.Method.StepsPerBlock && (done / length) % run.CheckpointEveryBlocks == 0 && done < run.Steps)
                    SaveCheckpoint(progress[0], learner, tuner, (BatchSampler)trainBatches, (BatchSampler)validationBatches);
                if (blocksThisProcess == run.StopAfterBlocks) return [Interrupted(progress[0], stopwatch)];
            }
            return Finish(progress, learner, data, threads, stopwatch, setupSeconds);
        }
        finally
        {
            foreach (var member in progress) member.Recorder?.Dispose();
        }
    }

    /// <summary>
    /// The members (still training) whose loss stopped being finite in <paramref name="block"/>:
    /// each is recorded as diverged at its first such step and frozen.
    /// </summary>
    List<int> Diverged(Progress[] progress, Block block, int done)
    {
        var diverged = new List<int>();
        for (var m = 0; m < progress.Length; m++)
        {
            if (progress[m].DivergedAt is not null) continue;
            var firstBad = Array.FindIndex(block.StepLosses, losses => !double.IsFinite(losses[m]));
            if (firstBad < 0) continue;
            var step = done + firstBad + 1;
            progress[m].DivergedAt = progress[m].Done = step;
            progress[m].Recorder?.Write(RecordFile.Diverged, new { Step = step, Note = $"diverged at step {step}", TrainLoss = block.StepLosses[firstBad][m] });
            diverged.Add(m);
        }
        return diverged;
    }

    /// <summary>The model, its shadow and a maker of further copies: the run's own, or the members' stacked.</summary>
    (nn.Module<Tensor, Tensor> Model, nn.Module<Tensor, Tensor> Shadow, Func<nn.Module<Tensor, Tensor>> Copies) BuildModels(Device device)
    {
        lock (SeedGate)
        {
            // libtorch's generator is process-wide: seed and build without another run in between.
            if (!_population)
            {
                torch.manual_seed(run.Seed);
                var model = Build(device);
                return (model, Build(device), () => Build(device));
            }
            var members = new List<nn.Module<Tensor, Tensor>>();
            try
            {
                foreach (var member in _members)
                {
                    // Each member's weights are those a single run with its seed starts from.
                    torch.manual_seed(member.Seed);
                    members.Add(Build(device));
                }
                var stacked = PopulationModel.Stack(members);
                return (stacked, stacked.Copy(), stacked.Copy);
            }
            finally
            {
                foreach (var member in members) member.Dispose();
            }
        }
    }

    void Validate()
    {
        if (run.Data is null) throw new TrainTuneException("The run has no data: call On(data) before Run().");
        if (run.Steps < 1) throw new TrainTuneException($"The run needs at least one step, not {run.Steps}.");
        if (run.BatchSize is < 1 || run.ValidationBatchSize is < 1)
            throw new TrainTuneException("Batch sizes must be at least 1 (or null for the full split).");
        if (run.Precision is not (ScalarType.Float32 or ScalarType.Float64))
            throw new TrainTuneException($"Precision {run.Precision} is not supported: use Float32 or Float64.");
        if (run.CheckpointEveryBlocks < 1) throw new TrainTuneException($"Checkpoints need at least one block between them, not {run.CheckpointEveryBlocks}.");
    }

    /// <summary>Restores the loop from the run's checkpoint when resuming from one, or starts it and its records afresh.</summary>
    Progress[] StartOrResume(Learner learner, IBlockTuner tuner, IBatchSource trainBatches, IBatchSource validationBatches, Device device, ThreadChoice threads)
    {
        var resumed = run.Resume && run.CheckpointPath is not null && File.Exists(run.CheckpointPath) ? Checkpoint.Load(run.CheckpointPath) : null;
        if (resumed is null)
        {
            var initial = learner.Hyperparameters.Snapshots(learner.WeightNames);
            return _members.Select((member, m) =>
            {
                var recorder = member.RecordPath is null ? null : new RunRecorder(member.RecordPath);
                recorder?.Write(RecordFile.Start, new
                {
                    Method = member.Method.Name,
                    MethodOptions = (object)member.Method,
                    member.Seed,
                    run.Steps,
                    run.BatchSize,
                    run.ValidationBatchSize,
                    Device = device.ToString(),
                    Precision = run.Precision.ToString(),
                    Rule = run.Rule.GetType().Name,
                    Loss = run.Loss.Name,
                    Threads = threads,
                    Population = _population ? new { Members = _members.Count, Member = m } : null,
                    Weights = learner.WeightNames,
                    Hyperparameters = HyperparameterValue.ToNumbers(initial[m]),
                });
                return new Progress { Initial = initial[m], Recorder = recorder, TensorBoard = member.TensorBoardPath is { } board ? new TensorBoardLog(board) : null };
            }).ToArray();
        }

        var saved = resumed.Progress;
        if (saved.Method != run.Method.Name || saved.Seed != run.Seed)
            throw new TrainTuneException($"The checkpoint '{run.CheckpointPath}' belongs to a {saved.Method} run with seed {saved.Seed}, not to this {run.Method.Name} run with seed {run.Seed}; delete it or run without resuming.");
        learner.Load(resumed);
        tuner.Load(resumed);
        ((BatchSampler)trainBatches).Load(resumed, "sampler/train");
        ((BatchSampler)validationBatches).Load(resumed, "sampler/validation");
        torch.set_rng_state(resumed.Get("rng", torch.CPU)!);
        var progress = new Progress
        {
            Done = saved.StepsDone,
            Skipped = saved.SkippedHypersteps,
            Initial = saved.InitialHyperparameters,
            Recorder = run.RecordPath is null ? null : new RunRecorder(run.RecordPath, keepLines: saved.RecordLines),
            TensorBoard = run.TensorBoardPath is { } board ? new TensorBoardLog(board) : null,
        };
        progress.History.AddRange(saved.History);
        progress.Recorder?.Write(RecordFile.Resumed, new { Step = progress.Done, Checkpoint = run.CheckpointPath });
        return [progress];
    }

    /// <summary>
    /// One block of <paramref name="length"/> weight steps: plain steps, then (in a full block) the
    /// tuner's own; the step losses come to the host once, at the end.
    /// </summary>
    Block RunBlock(Learner learner, BlockStepper stepper, IBatchSource trainBatches, IBatchSource validationBatches, int done, int length)
    {
        var fullBlock = length == run.Method.StepsPerBlock;
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
                // A step the tuner takes at the block's end draws its batch then, in the tuner's scope.
                Split? batch = null;
                var (loss, finished) = stepper.Step(m => learner.LossOn(batch ??= trainBatches.Next())(m), () => learner.LossOn(validation!), plain: !fullBlock);
                if (loss is not null) losses.Add(loss.MoveToOuterDisposeScope());
                if (finished is not null)
                {
                    outcome = finished;
                    losses.Add(finished.TrainLoss.MoveToOuterDisposeScope());
                }
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

    /// <summary>
    /// The block's line in each training member's record and history, and the progress callback;
    /// the hyperparameters of the members that diverged in it are kept as their final ones.
    /// </summary>
    void Record(Progress[] progress, Learner learner, Block block, TimeSpan elapsed, int done, List<int> diverged)
    {
        var snapshots = learner.Hyperparameters.Snapshots(learner.WeightNames);
        foreach (var m in diverged)
        {
            progress[m].Final = snapshots[m];
            learner.Alive[m] = false;
        }
        var outcome = block.Outcome;
        var validationLoss = outcome?.ValidationLoss ?? learner.EvaluateLoss(block.Validation, stacked: _population);
        for (var m = 0; m < progress.Length; m++)
        {
            var member = progress[m];
            if (member.DivergedAt is not null) continue;
            member.Done = done;
            var skipped = outcome?.HyperstepSkipped?[m] ?? false;
            var norm = outcome?.HypergradientNorm?[m];
            if (skipped)
            {
                member.Skipped++;
                member.Recorder?.Write(RecordFile.HyperstepSkipped, new { Step = done, Reason = "the hypergradient was not finite (NaN or Inf); the hyperparameters were left unchanged", HypergradientNorm = norm });
            }
            var record = new BlockRecord(done, block.StepLosses.Average(losses => losses[m]), validationLoss[m], snapshots[m], norm, skipped);
            member.History.Add(record);
            member.TensorBoard?.Block(record, member.Skipped);
            member.Recorder?.Write(RecordFile.Block, new RecordFile.BlockLine(record.Step, record.TrainLoss, record.ValidationLoss,
                HyperparameterValue.ToNumbers(record.Hyperparameters), record.HypergradientNorm, record.HyperstepSkipped));
            _members[m].Progress?.Invoke(new RunProgress(done, run.Steps, record.TrainLoss, record.ValidationLoss, record.Hyperparameters, elapsed));
        }
    }

    void SaveCheckpoint(Progress progress, Learner learner, IBlockTuner tuner, BatchSampler trainBatches, BatchSampler validationBatches)
    {
        var checkpoint = new Checkpoint
        {
            Progress = new(run.Method.Name, run.Seed, progress.Done, progress.Skipped, progress.Recorder?.LinesWritten ?? 0, progress.Initial, progress.History),
        };
        learner.Save(checkpoint);
        tuner.Save(checkpoint);
        trainBatches.Save(checkpoint, "sampler/train");
        validationBatches.Save(checkpoint, "sampler/validation");
        checkpoint.Put("rng", torch.get_rng_state());
        checkpoint.Save(run.CheckpointPath!);
    }

    /// <summary>
    /// Each member's losses on the full splits (not after divergence), the record's last line and
    /// its result. A population member's seconds are its share of the population's.
    /// </summary>
    IReadOnlyList<RunResult> Finish(Progress[] progress, Learner learner, TrainingData data, ThreadChoice threads, Stopwatch stopwatch, double setupSeconds)
    {
        var trainingSeconds = stopwatch.Elapsed.TotalSeconds - setupSeconds;
        var current = learner.Hyperparameters.Snapshots(learner.WeightNames);
        var count = progress.Length;
        var nan = Enumerable.Repeat(double.NaN, count).ToArray();
        var anyTrained = progress.Any(p => p.DivergedAt is null);
        var trainLosses = anyTrained ? learner.EvaluateLoss(data.Train) : nan;
        var validationLosses = anyTrained ? learner.EvaluateLoss(data.Validation) : nan;
        var testLosses = anyTrained && data.Test is not null ? learner.EvaluateLoss(data.Test) : null;
        var share = 1.0 / count;
        var timing = new RunTiming(setupSeconds * share, trainingSeconds * share, (stopwatch.Elapsed.TotalSeconds - setupSeconds - trainingSeconds) * share);
        var results = new RunResult[count];
        for (var m = 0; m < count; m++)
        {
            var member = progress[m];
            var diverged = member.DivergedAt is not null;
            var (trainLoss, validationLoss) = diverged ? (double.NaN, double.NaN) : (trainLosses[m], validationLosses[m]);
            double? testLoss = diverged || testLosses is null ? null : testLosses[m];
            var final = member.Final ?? current[m];
            var result = new RunResult(_members[m].Method.Name, _members[m].Seed, member.Done, member.DivergedAt, trainLoss, validationLoss, testLoss,
                member.Initial, final, member.Skipped, stopwatch.Elapsed.TotalSeconds * share, member.History)
            {
                Metric = new RunMetric(run.MetricName, trainLoss * run.MetricScale, validationLoss * run.MetricScale, testLoss * run.MetricScale),
                Threads = threads,
                Timing = timing,
            };
            member.Recorder?.Write(diverged ? RecordFile.Stopped : RecordFile.Finished, new
            {
                result.StepsCompleted,
                result.DivergedAtStep,
                Note = result.DivergenceNote,
                result.TrainLoss,
                result.ValidationLoss,
                result.TestLoss,
                result.SkippedHypersteps,
                result.Seconds,
                Hyperparameters = HyperparameterValue.ToNumbers(final),
            });
            results[m] = result;
        }
        if (run.CheckpointPath is not null) File.Delete(run.CheckpointPath);
        return results;
    }

    RunResult Interrupted(Progress progress, Stopwatch stopwatch) =>
        new(run.Method.Name, run.Seed, progress.Done, null, double.NaN, double.NaN, null, progress.Initial, progress.History[^1].Hyperparameters, 0,
            stopwatch.Elapsed.TotalSeconds, progress.History);

    nn.Module<Tensor, Tensor> Build(Device device)
    {
        nn.Module<Tensor, Tensor> model;
        try
        {
            model = run.ModelFactory();
        }
        catch (Exception e) when (e is not TrainTuneException)
        {
            throw new TrainTuneException($"The model factory threw {e.GetType().Name}: {e.Message}", e);
        }
        if (model is null) throw new TrainTuneException("The model factory returned null; it must return a new model each time it is called.");
        return model.to(run.Precision).to(device);
    }

    TrainingData MoveData(TrainingData data, Device device)
    {
        Split Move(Split s) => new(Convert(s.Inputs), Convert(s.Targets));
        Tensor Convert(Tensor t) => (t.is_floating_point() ? t.to(run.Precision) : t).to(device).DetachFromDisposeScope();
        return new TrainingData(Move(data.Train), Move(data.Validation), data.Test is null ? null : Move(data.Test));
    }
}
