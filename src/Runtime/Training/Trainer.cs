using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// The training loop: blocks of T weight steps, the method's tuner finishing each block,
/// divergence detection, records. Every step runs in its own dispose scope, so memory
/// stays flat however long the run.
/// </summary>
internal sealed class Trainer(TuningRun run)
{
    static readonly Lock SeedGate = new();

    public RunResult Run()
    {
        if (run.Data is null) throw new TrainTuneException("The run has no data: call On(data) before Run().");
        if (run.Steps < 1) throw new TrainTuneException($"The run needs at least one step, not {run.Steps}.");
        if (run.BatchSize is < 1 || run.ValidationBatchSize is < 1)
            throw new TrainTuneException("Batch sizes must be at least 1 (or null for the full split).");
        if (run.Precision is not (ScalarType.Float32 or ScalarType.Float64))
            throw new TrainTuneException($"Precision {run.Precision} is not supported: use Float32 or Float64.");

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
        var data = MoveData(run.Data, device);
        data.Validate();
        var threads = ThreadPolicy.Choose(
            ThreadPolicy.WorkPerStep(model.parameters().Select(p => p.numel()), run.BatchSize ?? data.Train.Inputs.shape[0]),
            run.Threads, run.CoreShare ?? ThreadPolicy.AvailableCores,
            run.CoreShare is { } share ? $"{share} of the process's {ThreadPolicy.AvailableCores} cores for this run" : null);
        threads = ThreadPolicy.Apply(threads);

        using var learner = new Learner(model, shadow, run.Rule, run.Loss, run.InitialValues, run.PerWeight, () => Build(device));
        learner.Probe(data.Train);
        learner.Probe(data.Validation);
        using var tuner = run.Method.Start(learner);
        using var trainBatches = new BatchSampler(data.Train, run.BatchSize, run.Seed);
        using var validationBatches = new BatchSampler(data.Validation, run.ValidationBatchSize, run.Seed + 1);
        if (run.CheckpointEveryBlocks < 1) throw new TrainTuneException($"Checkpoints need at least one block between them, not {run.CheckpointEveryBlocks}.");

        var resumed = run.Resume && run.CheckpointPath is not null && File.Exists(run.CheckpointPath) ? Checkpoint.Load(run.CheckpointPath) : null;
        var history = new List<BlockRecord>();
        int done = 0, skipped = 0;
        IReadOnlyDictionary<string, HyperparameterValue> initial;
        RunRecorder? recorder;
        if (resumed is not null)
        {
            var progress = resumed.Progress;
            if (progress.Method != run.Method.Name || progress.Seed != run.Seed)
                throw new TrainTuneException($"The checkpoint '{run.CheckpointPath}' belongs to a {progress.Method} run with seed {progress.Seed}, not to this {run.Method.Name} run with seed {run.Seed}; delete it or run without resuming.");
            learner.Load(resumed);
            tuner.Load(resumed);
            trainBatches.Load(resumed, "sampler/train");
            validationBatches.Load(resumed, "sampler/validation");
            torch.set_rng_state(resumed.Get("rng", torch.CPU)!);
            (done, skipped, initial) = (progress.StepsDone, progress.SkippedHypersteps, progress.InitialHyperparameters);
            history.AddRange(progress.History);
            recorder = run.RecordPath is null ? null : new RunRecorder(run.RecordPath, keepLines: progress.RecordLines);
            recorder?.Write("resumed", new { Step = done, Checkpoint = run.CheckpointPath });
        }
        else
        {
            initial = learner.Hyperparameters.Snapshot(learner.WeightNames);
            recorder = run.RecordPath is null ? null : new RunRecorder(run.RecordPath);
            recorder?.Write("start", new
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
                Hyperparameters = initial,
            });
        }
        using var _ = recorder;

        var setupSeconds = stopwatch.Elapsed.TotalSeconds;
        var blockLength = run.Method.StepsPerBlock;
        var blocksThisProcess = 0;
        int? divergedAt = null;
        learner.BeginBlock();
        while (done < run.Steps && divergedAt is null)
        {
            var length = Math.Min(blockLength, run.Steps - done);
            var fullBlock = length == blockLength;
            using var scope = torch.NewDisposeScope();
            var losses = new List<Tensor>(length);
            BlockOutcome? outcome = null;
            Split validationBatch;
            try
            {
                // The tuner takes the last steps of a full block itself; a short last block is plain steps.
                var finishing = fullBlock ? Math.Clamp(tuner.FinishingSteps, 1, length) : 0;
                for (var t = 0; t < length - finishing; t++)
                {
                    using var stepScope = torch.NewDisposeScope();
                    losses.Add(tuner.Step(learner, trainBatches.Next()).MoveToOuterDisposeScope());
                }
                validationBatch = validationBatches.Next();
                if (fullBlock)
                {
                    outcome = tuner.FinishBlock(learner, trainBatches.Next, validationBatch);
                    losses.Add(outcome.TrainLoss);
                }
            }
            catch (ExternalException e)
            {
                throw new TrainTuneException($"libtorch failed at step {done + losses.Count + 1}: {e.Message.Split('\n')[0]}", e);
            }

            var stepLosses = torch.cat(losses.Select(l => l.reshape(-1)).ToArray()).to(ScalarType.Float64).cpu().data<double>().ToArray();
            var firstBad = Array.FindIndex(stepLosses, l => !double.IsFinite(l));
            if (firstBad >= 0)
            {
                divergedAt = done + firstBad + 1;
                done += firstBad + 1;
                recorder?.Write("diverged", new { Step = divergedAt, Note = $"diverged at step {divergedAt}", TrainLoss = stepLosses[firstBad] });
                break;
            }
            done += length;
            if (outcome?.HyperstepSkipped == true)
            {
                skipped++;
                recorder?.Write("hyperstep_skipped", new { Step = done, Reason = "the hypergradient was not finite (NaN or Inf); the hyperparameters were left unchanged", outcome.HypergradientNorm });
            }
            var record = new BlockRecord(done, stepLosses.Average(),
                outcome?.ValidationLoss ?? learner.EvaluateLoss(validationBatch),
                learner.Hyperparameters.Snapshot(learner.WeightNames), outcome?.HypergradientNorm, outcome?.HyperstepSkipped ?? false);
            history.Add(record);
            recorder?.Write("block", record);
            run.Progress?.Invoke(new RunProgress(done, run.Steps, record.TrainLoss, record.ValidationLoss, record.Hyperparameters, stopwatch.Elapsed));

            blocksThisProcess++;
            if (run.CheckpointPath is not null && fullBlock && (done / blockLength) % run.CheckpointEveryBlocks == 0 && done < run.Steps)
            {
                var checkpoint = new Checkpoint { Progress = new(run.Method.Name, run.Seed, done, skipped, recorder?.LinesWritten ?? 0, initial, history) };
                learner.Save(checkpoint);
                tuner.Save(checkpoint);
                trainBatches.Save(checkpoint, "sampler/train");
                validationBatches.Save(checkpoint, "sampler/validation");
                checkpoint.Put("rng", torch.get_rng_state());
                checkpoint.Save(run.CheckpointPath);
            }
            if (blocksThisProcess == run.StopAfterBlocks) return Interrupted(run, done, history, initial, stopwatch);
        }

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
        var result = new RunResult(run.Method.Name, run.Seed, done, divergedAt, trainLoss, validationLoss, testLoss,
            initial, final, skipped, stopwatch.Elapsed.TotalSeconds, history)
        {
            Metric = new RunMetric(run.MetricName, trainLoss * run.MetricScale, validationLoss * run.MetricScale, testLoss * run.MetricScale),
            Threads = threads,
            Timing = new RunTiming(setupSeconds, trainingSeconds, stopwatch.Elapsed.TotalSeconds - setupSeconds - trainingSeconds),
        };
        recorder?.Write(divergedAt is null ? "finished" : "stopped", new
        {
            result.StepsCompleted,
            result.DivergedAtStep,
            Note = result.DivergenceNote,
            result.TrainLoss,
            result.ValidationLoss,
            result.TestLoss,
            result.SkippedHypersteps,
            result.Seconds,
            Hyperparameters = final,
        });
        if (run.CheckpointPath is not null) File.Delete(run.CheckpointPath);
        return result;
    }

    static RunResult Interrupted(TuningRun run, int done, List<BlockRecord> history, IReadOnlyDictionary<string, HyperparameterValue> initial, Stopwatch stopwatch) =>
        new(run.Method.Name, run.Seed, done, null, double.NaN, double.NaN, null, initial, history[^1].Hyperparameters, 0, stopwatch.Elapsed.TotalSeconds, history);

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
