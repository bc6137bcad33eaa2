using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;
using TrainTune.Hosting;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// The training loop: blocks of T weight steps, the method's tuner finishing each block,
/// divergence detection, records, checkpoints. Every step runs in its own dispose scope, so
/// memory stays flat however long the run.
/// </summary>
internal sealed class Trainer(TuningRun run)
{
    static readonly Lock SeedGate = new();

    /// <summary>What a run has done so far: restored from a checkpoint or started afresh.</summary>
    sealed class Progress
    {
        public int Done, Skipped;
        public required IReadOnlyDictionary<string, HyperparameterValue> Initial;
        public List<BlockRecord> History { get; } = [];
        public RunRecorder? Recorder;
    }

    /// <summary>One block's outcome: its step losses and what tuning did, or the step where training diverged.</summary>
    sealed record Block(double[] StepLosses, BlockOutcome? Outcome, Split Validation, int? DivergedAt);

    public RunResult Run()
    {
        Validate();
        var device = run.ResolveDevice();
        var stopwatch = Stopwatch.StartNew();
        nn.Module<Tensor, Tensor> model, shadow;
        lock (SeedGate)
        {
            // libtorch's generator is process-wide: seed and build without another run in between.
            torch.manual_seed(run.Seed);
            model = Build(device);
            shadow = Build(device);
        }
        using var ownedModel = model;
        using var ownedShadow = shadow;
        var data = MoveData(run.Data!, device);
        data.Validate();
        var threads = ThreadPolicy.Apply(ThreadPolicy.Choose(
            ThreadPolicy.WorkPerStep(model.parameters().Select(p => p.numel()), run.BatchSize ?? data.Train.Inputs.shape[0]),
            run.Threads, run.CoreShare ?? ThreadPolicy.AvailableCores,
            run.CoreShare is { } share ? $"{share} of the process's {ThreadPolicy.AvailableCores} cores for this run" : null));

        using var learner = new Learner(model, shadow, run.Rule, run.Loss, run.InitialValues, run.PerWeight, () => Build(device));
        learner.Probe(data.Train);
        learner.Probe(data.Validation);
        using var tuner = run.Method.Start(learner);
        using var trainBatches = new BatchSampler(data.Train, run.BatchSize, run.Seed);
        using var validationBatches = new BatchSampler(data.Validation, run.ValidationBatchSize, run.Seed + 1);

        var progress = StartOrResume(learner, tuner, trainBatches, validationBatches, device, threads);
        using var _ = progress.Recorder;
        var setupSeconds = stopwatch.Elapsed.TotalSeconds;
        var blocksThisProcess = 0;
        int? divergedAt = null;
        learner.BeginBlock();
        while (progress.Done < run.Steps && divergedAt is null)
        {
            var length = Math.Min(run.Method.StepsPerBlock, run.Steps - progress.Done);
            using var scope = torch.NewDisposeScope();
            var block = RunBlock(learner, tuner, trainBatches, validationBatches, progress.Done, length);
            if (block.DivergedAt is { } step)
            {
                divergedAt = progress.Done = step;
                progress.Recorder?.Write(RecordFile.Diverged, new { Step = step, Note = $"diverged at step {step}", TrainLoss = block.StepLosses[^1] });
                break;
            }
            progress.Done += length;
            Record(progress, learner, block, stopwatch.Elapsed);
            blocksThisProcess++;
            if (run.CheckpointPath is not null && length == run.Method.StepsPerBlock && (progress.Done / length) % run.CheckpointEveryBlocks == 0 && progress.Done < run.Steps)
                SaveCheckpoint(progress, learner, tuner, trainBatches, validationBatches);
            if (blocksThisProcess == run.StopAfterBlocks) return Interrupted(progress, stopwatch);
        }
        return Finish(progress, learner, data, divergedAt, threads, stopwatch, setupSeconds);
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

    /// <summary>Restores the loop from the run's checkpoint when resuming from one, or starts it and its record afresh.</summary>
    Progress StartOrResume(Learner learner, IBlockTuner tuner, BatchSampler trainBatches, BatchSampler validationBatches, Device device, ThreadChoice threads)
    {
        var resumed = run.Resume && run.CheckpointPath is not null && File.Exists(run.CheckpointPath) ? Checkpoint.Load(run.CheckpointPath) : null;
        if (resumed is null)
        {
            var initial = learner.Hyperparameters.Snapshot(learner.WeightNames);
            var recorder = run.RecordPath is null ? null : new RunRecorder(run.RecordPath);
            recorder?.Write(RecordFile.Start, new
            {
                Method = run.Method.Name,
                MethodOptions = (object)run.Method,
                run.Seed,
                run.Steps,
                run.BatchSize,
                run.ValidationBatchSize,
                Device = device.ToString(),
                Precision = run.Precision.ToString(),
                Rule = run.Rule.GetType().Name,
                Loss = run.Loss.Name,
                Threads = threads,
                Weights = learner.WeightNames,
                Hyperparameters = HyperparameterValue.ToNumbers(initial),
            });
            return new Progress { Initial = initial, Recorder = recorder };
        }

        var saved = resumed.Progress;
        if (saved.Method != run.Method.Name || saved.Seed != run.Seed)
            throw new TrainTuneException($"The checkpoint '{run.CheckpointPath}' belongs to a {saved.Method} run with seed {saved.Seed}, not to this {run.Method.Name} run with seed {run.Seed}; delete it or run without resuming.");
        learner.Load(resumed);
        tuner.Load(resumed);
        trainBatches.Load(resumed, "sampler/train");
        validationBatches.Load(resumed, "sampler/validation");
        torch.set_rng_state(resumed.Get("rng", torch.CPU)!);
        var progress = new Progress
        {
            Done = saved.StepsDone,
            Skipped = saved.SkippedHypersteps,
            Initial = saved.InitialHyperparameters,
            Recorder = run.RecordPath is null ? null : new RunRecorder(run.RecordPath, keepLines: saved.RecordLines),
        };
        progress.History.AddRange(saved.History);
        progress.Recorder?.Write(RecordFile.Resumed, new { Step = progress.Done, Checkpoint = run.CheckpointPath });
        return progress;
    }

    /// <summary>
    /// One block of <paramref name="length"/> weight steps: plain steps, then (in a full block) the
    /// tuner's own; the step losses come to the host once, at the end.
    /// </summary>
    Block RunBlock(Learner learner, IBlockTuner tuner, BatchSampler trainBatches, BatchSampler validationBatches, int done, int length)
    {
        var fullBlock = length == run.Method.StepsPerBlock;
        var losses = new List<Tensor>(length);
        BlockOutcome? outcome = null;
        Split validation;
        try
        {
            // The tuner takes the last steps of a full block itself; a short last block is plain steps.
            var finishing = fullBlock ? Math.Clamp(tuner.FinishingSteps, 1, length) : 0;
            for (var t = 0; t < length - finishing; t++)
            {
                using var stepScope = torch.NewDisposeScope();
                losses.Add(tuner.Step(learner, trainBatches.Next()).MoveToOuterDisposeScope());
            }
            validation = validationBatches.Next();
            if (fullBlock)
            {
                outcome = tuner.FinishBlock(learner, trainBatches.Next, validation);
                losses.Add(outcome.TrainLoss);
            }
        }
        catch (ExternalException e)
        {
            throw new TrainTuneException($"libtorch failed at step {done + losses.Count + 1}: {e.Message.Split('\n')[0]}", e);
        }
        var stepLosses = torch.cat(losses.Select(l => l.reshape(-1)).ToArray()).to(ScalarType.Float64).cpu().data<double>().ToArray();
        var firstBad = Array.FindIndex(stepLosses, l => !double.IsFinite(l));
        return firstBad >= 0
            ? new Block(stepLosses[..(firstBad + 1)], outcome, validation, done + firstBad + 1)
            : new Block(stepLosses, outcome, validation, null);
    }

    /// <summary>The block's line in the record and history, and the progress callback.</summary>
    void Record(Progress progress, Learner learner, Block block, TimeSpan elapsed)
    {
        if (block.Outcome?.HyperstepSkipped == true)
        {
            progress.Skipped++;
            progress.Recorder?.Write(RecordFile.HyperstepSkipped, new { Step = progress.Done, Reason = "the hypergradient was not finite (NaN or Inf); the hyperparameters were left unchanged", block.Outcome.HypergradientNorm });
        }
        var record = new BlockRecord(progress.Done, block.StepLosses.Average(),
            block.Outcome?.ValidationLoss ?? learner.EvaluateLoss(block.Validation),
            learner.Hyperparameters.Snapshot(learner.WeightNames), block.Outcome?.HypergradientNorm, block.Outcome?.HyperstepSkipped ?? false);
        progress.History.Add(record);
        progress.Recorder?.Write(RecordFile.Block, new RecordFile.BlockLine(record.Step, record.TrainLoss, record.ValidationLoss,
            HyperparameterValue.ToNumbers(record.Hyperparameters), record.HypergradientNorm, record.HyperstepSkipped));
        run.Progress?.Invoke(new RunProgress(progress.Done, run.Steps, record.TrainLoss, record.ValidationLoss, record.Hyperparameters, elapsed));
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

    /// <summary>The losses on the full splits (not after divergence), the record's last line, the result.</summary>
    RunResult Finish(Progress progress, Learner learner, TrainingData data, int? divergedAt, ThreadChoice threads, Stopwatch stopwatch, double setupSeconds)
    {
        var trainingSeconds = stopwatch.Elapsed.TotalSeconds - setupSeconds;
        var final = learner.Hyperparameters.Snapshot(learner.WeightNames);
        double trainLoss = double.NaN, validationLoss = double.NaN;
        double? testLoss = null;
        if (divergedAt is null)
        {
            trainLoss = learner.EvaluateLoss(data.Train);
            validationLoss = learner.EvaluateLoss(data.Validation);
            testLoss = data.Test is null ? null : learner.EvaluateLoss(data.Test);
        }
        var result = new RunResult(run.Method.Name, run.Seed, progress.Done, divergedAt, trainLoss, validationLoss, testLoss,
            progress.Initial, final, progress.Skipped, stopwatch.Elapsed.TotalSeconds, progress.History)
        {
            Metric = new RunMetric(run.MetricName, trainLoss * run.MetricScale, validationLoss * run.MetricScale, testLoss * run.MetricScale),
            Threads = threads,
            Timing = new RunTiming(setupSeconds, trainingSeconds, stopwatch.Elapsed.TotalSeconds - setupSeconds - trainingSeconds),
        };
        progress.Recorder?.Write(divergedAt is null ? RecordFile.Finished : RecordFile.Stopped, new
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
        if (run.CheckpointPath is not null) File.Delete(run.CheckpointPath);
        return result;
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
