using System.Reflection;
using System.Text.Json;

namespace TrainTune.Hosting;

/// <summary>
/// What the host process does for the build: lists an assembly's training targets, or runs one
/// with the build's options, streaming progress lines and writing its record, checkpoint and
/// result into the target's output folder.
/// </summary>
internal static class TargetRunner
{
    /// <summary>Loads <paramref name="assemblyPath"/>; its generated registry registers its targets (<see cref="TrainingTarget.All"/>).</summary>
    public static IReadOnlyList<TrainingTarget> Load(string assemblyPath)
    {
        if (!File.Exists(assemblyPath))
            throw new TrainTuneException($"The assembly '{assemblyPath}' does not exist; build the project first.");
        return TrainingTarget.Of(Assembly.LoadFrom(Path.GetFullPath(assemblyPath)));
    }

    /// <summary>Prints the target names as one protocol line.</summary>
    public static void List(string assemblyPath, TextWriter output) =>
        output.WriteLine(HostProtocol.TargetsPrefix + JsonSerializer.Serialize(Load(assemblyPath).Select(t => t.Name)));

    /// <summary>
    /// Runs one target, or for a population request one run per member; returns the results (also
    /// written to each run's result.json).
    /// </summary>
    public static IReadOnlyList<RunResult> Run(HostRunRequest options, TextWriter output)
    {
        // What the catalogue refuses is refused before anything loads, in the build's words.
        var method = MethodOf(options);
        if (method is not null && options.Run.Resume && MethodCatalogue.ResumeProblem(method) is { } cannotResume) throw new TrainTuneException(cannotResume);
        if (method is not null && options.Run.Starts is { } starts && MethodCatalogue.StartsProblem(method, starts) is { } cannotStart) throw new TrainTuneException(cannotStart);
        var clock = HostClock.Start();
        var assemblyPath = options.Assembly;
        var targets = Load(assemblyPath);
        clock.Mark("target_loading");
        TorchSharp.torch.get_num_threads(); // loads libtorch's natives, so that data loading is timed on its own
        clock.Mark("libtorch_loading");
        var target = TrainingTarget.Find(options.Target, targets);

        TuningRun created;
        try
        {
            created = target.Create();
        }
        catch (Exception e) when (e is not TrainTuneException)
        {
            throw new TrainTuneException($"Training target '{target.Name}' ({target.DeclaredBy}) threw {e.GetType().Name}: {e.Message}", e);
        }
        clock.Mark("data_loading");
        // A search (Random3Batched, BayesOpt) runs the target as it is, with fixed hyperparameters.
        var search = method is { Kind: MethodKind.Search } ? method.Name : null;
        return options.Population is { Count: > 0 } members
            ? RunPopulation(options, members, target, created, search, clock)
            : [RunOne(options, target, Prepare(options, target, created, search, options.Run.Seed), search, clock, output)];
    }

    /// <summary>The target's run with the build's options; with <paramref name="seed"/>, for that seed (the seed first, so that a method's per-seed draw follows it).</summary>
    internal static TuningRun Prepare(HostRunRequest options, TrainingTarget target, TuningRun run, string? search, long? seed)
    {
        if (options.Run.Steps is { } steps) run = run.ForSteps(steps);
        if (seed is { } s) run = run.WithSeed(s);
        if (options.Run.Method is { } method) run = search is null ? ExperimentProtocol.Apply(method, run) : run.Tune(Method.Fixed());
        if (options.Run.Device is { } device) run = run.OnDevice(device);
        // A warm start: the previous build's tuned.json in the target's folder (the build said which values, or why not).
        if (options.Run.WarmStart && WarmStart(options, target) is { } warm)
            run = run.StartingFrom(MergeInitial(run.InitialValues, warm.Hyperparameters));
        if (options.RandomInitial && MethodOf(options) is not { DrawsInitialValues: false })
            run = run.StartingFrom(MergeInitial(run.InitialValues, ExperimentProtocol.RandomInitial(run.Seed, run.Rule)));
        if (options.Run.Threads is { } threads) run = run.WithThreads(threads);
        if (options.Run.ValidationBatchSize is { } validationBatch) run = run.WithBatchSize(run.BatchSize, validationBatch);
        if (options.Cores is { } cores) run = run with { CoreShare = cores };
        if (options.Run.Starts is > 1 and var starts) run = run.Tune(Method.BestOf(starts, run.Method));
        return run;
    }

    /// <summary>The values a warm start begins from: the target's tuned.json in its folder, or null when there is none (or it cannot be used).</summary>
    static TunedFile? WarmStart(HostRunRequest options, TrainingTarget target) => TunedFile.ReadFor(options.OutputDirectory, target.Name, out _);

    /// <summary>The request's method from the catalogue (checked by the build; an unknown name is a clear error here too), or null for the target's own.</summary>
    internal static MethodEntry? MethodOf(HostRunRequest options) =>
        options.Run.Method is not { } name ? null
        : MethodCatalogue.Find(name) ?? throw new TrainTuneException(MethodCatalogue.UnknownProblem("TrainTuneMethod", name)!);

    static RunResult RunOne(HostRunRequest options, TrainingTarget target, TuningRun run, string? search, HostClock clock, TextWriter output)
    {
        Directory.CreateDirectory(options.OutputDirectory);
        // Starts of an earlier BestOf run would be drawn in this run's report.
        foreach (var stale in Directory.GetFiles(options.OutputDirectory, HostProtocol.StartRecordFile(0).Replace("0", "*"))) File.Delete(stale);
        var lastProgress = DateTime.MinValue;
        var (skipped, notFinite) = (0, (IReadOnlyList<string>?)null);
        run = WithTensorBoard(run.RecordTo(Path.Combine(options.OutputDirectory, HostProtocol.RecordFile)), options, options.OutputDirectory)
            .OnProgress(progress =>
            {
                var firstSkip = skipped == 0 && progress.SkippedHypersteps > 0;
                (skipped, notFinite) = (progress.SkippedHypersteps, progress.NotFinite.Count > 0 ? progress.NotFinite : notFinite);
                // At most two lines a second reach the build (and the first skipped hyper step); it thins them further.
                if (progress.Step < progress.TotalSteps && !firstSkip && (DateTime.UtcNow - lastProgress).TotalSeconds < 0.5) return;
                lastProgress = DateTime.UtcNow;
                output.WriteLine(new ProgressLine(progress.Step, progress.TotalSteps, progress.TrainLoss, progress.ValidationLoss,
                    progress.Hyperparameters.ToDictionary(h => h.Key, h => h.Value.Value), progress.Elapsed.TotalSeconds, progress.EvaluationSeconds,
                    skipped, notFinite).Write());
                output.Flush();
            });

        RunResult result;
        RunResult first;
        string? note = null;
        int? bestStart = null;
        clock.Mark("options");
        if (run.Method is BestOfMethod bestOf)
        {
            var outcome = BestOfStarts.Run(run, bestOf);
            (result, first, note, bestStart) = (outcome.Best, outcome.Evaluations[0], outcome.Note, outcome.BestIndex);
        }
        else if (search is not null)
        {
            var outcome = search == ExperimentProtocol.Random3Batched
                ? Search.Random3Batched(run, options.OutputDirectory)
                : Search.BayesOpt(run, options.OutputDirectory);
            (result, first, note) = (outcome.Best, outcome.Evaluations[0], outcome.Note);
            // The configuration reported is the one searched; the counted run's own seed and values are in its record.
            if (search == ExperimentProtocol.Random3Batched) run = outcome.BestRun;
        }
        else
        {
            result = run
                .CheckpointTo(Path.Combine(options.OutputDirectory, HostProtocol.CheckpointFile), options.Run.CheckpointEveryBlocks)
                .ResumeFromCheckpoint(options.Run.Resume)
                .Run();
            first = result;
        }
        WriteResult(options.OutputDirectory, options, target, run, search, note, clock.Timing(first, result), result, bestStart);
        return result;
    }

    /// <summary>
    /// One run per member, each into its own folder: as one population when the model can be
    /// stacked (Random3Batched as three members per seed), one after another otherwise and for BayesOpt.
    /// </summary>
    static IReadOnlyList<RunResult> RunPopulation(HostRunRequest options, IReadOnlyList<HostRunRequest.Member> members, TrainingTarget target,
        TuningRun created, string? search, HostClock clock)
    {
        var stackable = PopulationModel.Problem(created.ModelFactory) is null;
        var stacks = stackable && MethodOf(options) is not { Stacks: false };
        if (options.StackedOnly && !stacks)
            throw new PopulationNotStacked($"{(stackable ? $"the method {options.Run.Method}" : $"the model of {target.Name}")} does not stack into a population; nothing was run.");
        var runs = members.Select(m =>
        {
            Directory.CreateDirectory(m.OutputDirectory);
            return WithTensorBoard(Prepare(options, target, created, search, m.Seed).RecordTo(Path.Combine(m.OutputDirectory, HostProtocol.RecordFile)), options, m.OutputDirectory);
        }).ToList();
        clock.Mark("options");
        if (!stacks)
            return members.Select((m, i) =>
            {
                // Each member as the single path runs it: a search's outcome counted as there.
                var outcome = search is null ? null
                    : search == ExperimentProtocol.Random3Batched ? Search.Random3Batched(runs[i], m.OutputDirectory)
                    : Search.BayesOpt(runs[i], m.OutputDirectory);
                var result = outcome?.Best ?? runs[i].Run();
                var reported = search == ExperimentProtocol.Random3Batched ? outcome!.BestRun : runs[i];
                WriteResult(m.OutputDirectory, options, target, reported, search, outcome?.Note, clock.Timing(outcome?.Evaluations[0] ?? result, result), result);
                return result;
            }).ToList();

        if (search == ExperimentProtocol.Random3Batched)
        {
            var candidates = runs.SelectMany((run, i) => Random3BatchedSearch.Candidates(run)
                .Select((c, k) => c.RecordTo(Path.Combine(members[i].OutputDirectory, $"record-candidate-{k}.jsonl")))).ToList();
            var all = TuningRun.RunPopulation(candidates);
            return members.Select((m, i) =>
            {
                var outcome = Random3BatchedSearch.Outcome(candidates.Skip(3 * i).Take(3).ToList(), all.Skip(3 * i).Take(3).ToList(), m.OutputDirectory);
                WriteResult(m.OutputDirectory, options, target, outcome.BestRun, search, outcome.Note, clock.Timing(outcome.Evaluations[0], outcome.Best), outcome.Best);
                return outcome.Best;
            }).ToList();
        }

        var results = TuningRun.RunPopulation(runs);
        for (var i = 0; i < members.Count; i++)
            WriteResult(members[i].OutputDirectory, options, target, runs[i], null, $"member {i} of a population of {members.Count}; seconds are its share", clock.Timing(results[i], results[i]), results[i]);
        return results;
    }

    /// <summary>With TensorBoard asked for: event files in the run's folder, those of an earlier run removed.</summary>
    static TuningRun WithTensorBoard(TuningRun run, HostRunRequest options, string folder)
    {
        if (!options.Run.TensorBoard) return run;
        var board = Path.Combine(folder, HostProtocol.TensorBoardFolder);
        if (Directory.Exists(board) && !options.Run.Resume) Directory.Delete(board, recursive: true);
        return run.LogToTensorBoard(board);
    }

    static void WriteResult(string folder, HostRunRequest options, TrainingTarget target, TuningRun run, string? search, string? note,
        Dictionary<string, double?> timing, RunResult result, int? bestStart = null)
    {
        var configuration = new RunConfiguration(
            MethodName: search ?? run.Method.Name,
            // The method as the build named it (the paper's name in an experiment).
            MethodRequested: options.Run.Method is { } requested ? ExperimentProtocol.Canonical(requested) : null,
            Note: note,
            MethodOptions: JsonSerializer.SerializeToNode(run.Method, run.Method.GetType(), ResultFile.Json) as System.Text.Json.Nodes.JsonObject,
            Steps: run.Steps,
            Seed: run.Seed,
            BatchSize: run.BatchSize,
            ValidationBatchSize: run.ValidationBatchSize,
            Device: run.Device,
            Precision: run.Precision.ToString(),
            Rule: run.Rule.GetType().FullName ?? run.Rule.GetType().Name,
            Loss: run.Loss.Name,
            RandomInitial: options.RandomInitial,
            Metric: run.MetricName,
            WarmStart: options.Run.WarmStart && WarmStart(options, target) is not null ? Path.Combine(options.OutputDirectory, TunedFile.Name) : null,
            Resumed: options.Run.Resume,
            Starts: run.Method is BestOfMethod b ? b.Starts : null,
            BestStart: bestStart,
            Threads: result.Threads?.ToNumbers());
        new ResultFile(target.Name, target.DeclaredBy, configuration, timing, Summary(result), DateTimeOffset.UtcNow).Write(Path.Combine(folder, HostProtocol.ResultFile));
    }

    static ResultFile.RunSummary Summary(RunResult result)
    {
        return new(result.Method, result.Seed, result.StepsCompleted, result.DivergedAtStep, result.TrainLoss, result.ValidationLoss, result.TestLoss,
            HyperparameterValue.ToNumbers(result.InitialHyperparameters), HyperparameterValue.ToNumbers(result.FinalHyperparameters), result.SkippedHypersteps, result.Seconds,
            result.Metric is { } m ? new ResultFile.Metric(m.Name, m.Train, m.Validation, m.Test, m.HigherIsBetter) : null);
    }

    static Dictionary<string, double> MergeInitial(IReadOnlyDictionary<string, double>? own, IReadOnlyDictionary<string, double> warm)
    {
        var merged = own?.ToDictionary() ?? [];
        foreach (var (name, value) in warm) merged[name] = value;
        return merged;
    }
}

/// <summary>A population request that had to be stacked (<see cref="HostRunRequest.StackedOnly"/>) and cannot be: exit code <see cref="HostProtocol.ExitNotStacked"/>.</summary>
internal sealed class PopulationNotStacked(string message) : Exception(message);
