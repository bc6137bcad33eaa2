using System.Diagnostics;
using TorchSharp;
using TrainTune.Hosting;
using static TorchSharp.torch;

namespace TrainTune;

/// <summary>
/// The training loop's records: each member's progress, started afresh or resumed from a
/// checkpoint, its record and TensorBoard lines per block, divergence, checkpoints and results.
/// </summary>
internal sealed partial class Trainer
{
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
            progress[m].Recorder?.Write(RecordFile.Diverged, new RecordFile.DivergedLine(step, $"diverged at step {step}", block.StepLosses[firstBad][m]));
            diverged.Add(m);
        }
        return diverged;
    }

    /// <summary>Restores the loop from the run's checkpoint when resuming from one, or starts it and its records afresh.</summary>
    Progress[] StartOrResume(Learner learner, IBlockTuner tuner, IBatchSource trainBatches, IBatchSource validationBatches, Device device, ThreadChoice threads)
    {
        var resumed = _run.Resume && _run.CheckpointPath is not null && File.Exists(_run.CheckpointPath) ? Checkpoint.Load(_run.CheckpointPath) : null;
        if (resumed is null)
        {
            var initial = learner.Hyperparameters.Snapshots(learner.WeightNames);
            return _members.Select((member, m) =>
            {
                var recorder = member.RecordPath is null ? null : new RunRecorder(member.RecordPath);
                recorder?.Write(RecordFile.Start, new RecordFile.StartLine(
                    member.Method.Name,
                    System.Text.Json.JsonSerializer.SerializeToNode(member.Method, member.Method.GetType(), ProtocolJson.Options) as System.Text.Json.Nodes.JsonObject,
                    member.Seed,
                    _run.Steps,
                    _run.BatchSize,
                    _run.ValidationBatchSize,
                    device.ToString(),
                    _run.Precision.ToString(),
                    _run.Rule.GetType().Name,
                    _run.Loss.Name,
                    threads.ToNumbers(),
                    _layout == MemberLayout.Single ? null : new RecordFile.PopulationPlace(_members.Count, m),
                    learner.WeightNames,
                    HyperparameterValue.ToNumbers(initial[m]))
                {
                    GradientClipping = _run.Clipping?.ToString(),
                    Schedules = _run.Schedules?.ToDictionary(s => s.Key, s => s.Value.Description),
                });
                return new Progress { Initial = initial[m], Recorder = recorder, TensorBoard = member.TensorBoardPath is { } board ? new TensorBoardLog(board) : null };
            }).ToArray();
        }

        var saved = resumed.Progress;
        if (saved.Method != _run.Method.Name || saved.Seed != _run.Seed)
            throw new TrainTuneException($"The checkpoint '{_run.CheckpointPath}' belongs to a {saved.Method} run with seed {saved.Seed}, not to this {_run.Method.Name} run with seed {_run.Seed}; delete it or run without resuming.");
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
            Recorder = _run.RecordPath is null ? null : new RunRecorder(_run.RecordPath, keepLines: saved.RecordLines),
            TensorBoard = _run.TensorBoardPath is { } board ? new TensorBoardLog(board) : null,
        };
        progress.History.AddRange(saved.History);
        progress.Recorder?.Write(RecordFile.Resumed, new RecordFile.ResumedLine(progress.Done, _run.CheckpointPath));
        return [progress];
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
        var validationLoss = outcome?.ValidationLoss ?? learner.EvaluateBatch(block.Validation);
        for (var m = 0; m < progress.Length; m++)
        {
            var member = progress[m];
            if (member.DivergedAt is not null) continue;
            member.Done = done;
            var skipped = outcome?.HyperstepSkipped?[m] ?? false;
            var norm = outcome?.HypergradientNorm?[m];
            var notFinite = skipped ? outcome?.NotFinite?[m] ?? [] : [];
            if (skipped)
            {
                member.Skipped++;
                member.Recorder?.Write(RecordFile.HyperstepSkipped, new RecordFile.SkippedLine(done, HyperStep.SkipReason(notFinite), norm) { Hyperparameters = notFinite });
            }
            var record = new BlockRecord(done, block.StepLosses.Average(losses => losses[m]), validationLoss[m], snapshots[m], norm, skipped) { NotFinite = notFinite };
            member.History.Add(record);
            member.TensorBoard?.Block(record, member.Skipped);
            member.Recorder?.Write(RecordFile.Block, new RecordFile.BlockLine(record.Step, record.TrainLoss, record.ValidationLoss,
                HyperparameterValue.ToNumbers(record.Hyperparameters), record.HypergradientNorm, record.HyperstepSkipped));
            _members[m].Progress?.Invoke(new RunProgress(done, _run.Steps, record.TrainLoss, record.ValidationLoss, record.Hyperparameters, elapsed)
            {
                EvaluationSeconds = _evaluationSeconds,
                SkippedHypersteps = member.Skipped,
                NotFinite = notFinite,
            });
        }
    }

    /// <summary>The final evaluation's expected seconds, once timed.</summary>
    double? _evaluationSeconds;

    /// <summary>
    /// Times the final evaluation's forward passes on one chunk of the validation split and scales
    /// to every row of every split, so that progress displays count it in the time left.
    /// </summary>
    void TimeEvaluation(Learner learner, TrainingData data)
    {
        if (_evaluationSeconds is not null || _members.All(m => m.Progress is null)) return;
        var split = data.Validation;
        var rows = data.Streams is null ? Math.Min(split.Rows, Evaluation.ChunkRows(split)) : split.Rows;
        var clock = Stopwatch.StartNew();
        learner.EvaluateLoss(new Split(split.Inputs.narrow(0, 0, rows), split.Targets.narrow(0, 0, rows)));
        // On streams the evaluation goes through every window of every split; otherwise through every row.
        _evaluationSeconds = data.Streams is { } streams ? clock.Elapsed.TotalSeconds * streams.Windows
            : clock.Elapsed.TotalSeconds / rows * (data.Train.Rows + data.Validation.Rows + (data.Test?.Rows ?? 0));
    }

    void SaveCheckpoint(Progress progress, Learner learner, IBlockTuner tuner, IBatchSource trainBatches, IBatchSource validationBatches)
    {
        var checkpoint = new Checkpoint
        {
            Progress = new(_run.Method.Name, _run.Seed, progress.Done, progress.Skipped, progress.Recorder?.LinesWritten ?? 0, progress.Initial, progress.History),
        };
        learner.Save(checkpoint);
        tuner.Save(checkpoint);
        trainBatches.Save(checkpoint, "sampler/train");
        validationBatches.Save(checkpoint, "sampler/validation");
        checkpoint.Put("rng", torch.get_rng_state());
        checkpoint.Save(_run.CheckpointPath!);
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
        var (validationLosses, validationMetric) = anyTrained ? Evaluate(learner, data.Validation, data.Streams?.Validation) : (nan, nan);
        // A search's candidate beaten by an earlier one is never counted: its other splits are not worth a pass.
        var counted = anyTrained && (_run.CountedBelowValidation is not { } bar || validationLosses.Any(v => v < bar));
        var (trainLosses, trainMetric) = counted ? Evaluate(learner, data.Train, data.Streams?.Train) : (nan, nan);
        var (testLosses, testMetric) = counted && data.Test is not null ? Evaluate(learner, data.Test, data.Streams?.Test) : (null, null);
        var share = 1.0 / count;
        var timing = new RunTiming(setupSeconds * share, trainingSeconds * share, (stopwatch.Elapsed.TotalSeconds - setupSeconds - trainingSeconds) * share);
        var results = new RunResult[count];
        for (var m = 0; m < count; m++)
        {
            var member = progress[m];
            var diverged = member.DivergedAt is not null;
            var (trainLoss, validationLoss) = diverged ? (double.NaN, double.NaN) : (trainLosses[m], validationLosses[m]);
            double? testLoss = diverged || testLosses is null ? null : testLosses[m];
            var metric = _run.Metric is { } computed
                ? new RunMetric(computed.Name, diverged ? double.NaN : trainMetric![m], diverged ? double.NaN : validationMetric![m], diverged || testMetric is null ? null : testMetric[m]) { HigherIsBetter = computed.HigherIsBetter }
                : new RunMetric(_run.MetricName, trainLoss * _run.MetricScale, validationLoss * _run.MetricScale, testLoss * _run.MetricScale);
            var final = member.Final ?? current[m];
            var result = new RunResult(_members[m].Method.Name, _members[m].Seed, member.Done, member.DivergedAt, trainLoss, validationLoss, testLoss,
                member.Initial, final, member.Skipped, stopwatch.Elapsed.TotalSeconds * share, member.History)
            {
                Metric = metric,
                Threads = threads,
                Timing = timing,
            };
            member.Recorder?.Write(diverged ? RecordFile.Stopped : RecordFile.Finished, new RecordFile.FinishedLine(result.StepsCompleted, result.DivergedAtStep,
                result.DivergenceNote, result.TrainLoss, result.ValidationLoss, result.TestLoss, result.SkippedHypersteps, result.Seconds, HyperparameterValue.ToNumbers(final),
                _run.Metric is null ? null : new ResultFile.Metric(metric.Name, metric.Train, metric.Validation, metric.Test, metric.HigherIsBetter)));
            member.TensorBoard?.Finished(result.StepsCompleted, metric);
            results[m] = result;
        }
        if (_run.CheckpointPath is not null) File.Delete(_run.CheckpointPath);
        return results;
    }

    /// <summary>Each member's loss on <paramref name="split"/>, and the run's computed metric where it has one (one pass for both).</summary>
    (double[] Loss, double[]? Metric) Evaluate(Learner learner, Split split, SequenceStreams? streams) =>
        streams is not null ? learner.EvaluateStreams(streams, _run.Metric)
        : _run.Metric is { } metric ? learner.EvaluateLossAndMetric(split, metric) : (learner.EvaluateLoss(split), null);

    RunResult Interrupted(Progress progress, Stopwatch stopwatch) =>
        new(_run.Method.Name, _run.Seed, progress.Done, null, double.NaN, double.NaN, null, progress.Initial, progress.History[^1].Hyperparameters, 0,
            stopwatch.Elapsed.TotalSeconds, progress.History);
}
