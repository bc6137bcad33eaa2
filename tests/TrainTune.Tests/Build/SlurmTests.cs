using System.Text.RegularExpressions;

namespace TrainTune.Tests.Build;

/// <summary>
/// Experiments through a real Slurm cluster (tools/slurm/local-cluster.sh start; .ci/run starts
/// one): the same results as the local scheduler, a cancelled task reported and rerun alone, and
/// the errors a user meets first. Skipped where no cluster answers.
/// </summary>
[Collection(DotnetCli.Collection)]
public class SlurmTests : IDisposable
{
    readonly string _output = Directory.CreateTempSubdirectory("traintune-slurm-").FullName;

    public void Dispose() => Directory.Delete(_output, recursive: true);

    // One size of population locally and on the cluster: in float32 a member's sums round as its population's do.
    static readonly string[] Experiment = ["-p:TrainTuneTargets=Quick", "-p:TrainTuneInits=4", "-p:TrainTuneMethods=Random%3BOursWdLrM", "-p:TrainTunePopulation=4"];

    static void SkipWithoutCluster()
    {
        var answered = false;
        try
        {
            using var sinfo = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sinfo", "-h -o %T") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var states = sinfo.StandardOutput.ReadToEnd();
            answered = sinfo.WaitForExit(20_000) && sinfo.ExitCode == 0 && Regex.IsMatch(states, "idle|mixed|allocated");
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
        Skip.IfNot(answered, "No Slurm cluster answers here; start one with tools/slurm/local-cluster.sh start (as root).");
    }

    static string[] Rows(string folder) => File.ReadAllLines(Path.Combine(folder, "Quick", "results.csv"));

    /// <summary>results.csv without its seconds column (the only one that depends on the machine's load).</summary>
    static IEnumerable<string> WithoutSeconds(string[] rows)
    {
        var seconds = Array.IndexOf(rows[0].Split(','), "seconds");
        return rows.Select(r => string.Join(",", r.Split(',').Where((_, i) => i != seconds)));
    }

    [SkippableFact]
    public void An_experiment_through_slurm_gives_the_local_schedulers_results_and_a_rerun_submits_nothing()
    {
        SkipWithoutCluster();
        var local = DotnetCli.TrainTune("TinyTargets", Path.Combine(_output, "local"), Experiment);
        Assert.True(local.ExitCode == 0, local.Output);
        var slurm = DotnetCli.TrainTune("TinyTargets", Path.Combine(_output, "slurm"), [.. Experiment, "-p:TrainTuneScheduler=slurm"]);
        Assert.True(slurm.ExitCode == 0, slurm.Output);

        Assert.Matches(@"TrainTune: submitted Slurm job array \d+ for Quick: 2 tasks, 8 runs", slurm.Output);
        Assert.Equal(WithoutSeconds(Rows(Path.Combine(_output, "local"))), WithoutSeconds(Rows(Path.Combine(_output, "slurm"))));
        Assert.True(File.Exists(Path.Combine(_output, "slurm", "Quick", "slurm", "task-0.log")));

        var again = DotnetCli.TrainTune("TinyTargets", Path.Combine(_output, "slurm"), [.. Experiment, "-p:TrainTuneScheduler=slurm"]);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Contains("Quick: all 8 runs finished in earlier builds; nothing to submit", again.Output);
        Assert.DoesNotContain("submitted Slurm job array", again.Output);
        Assert.Equal(WithoutSeconds(Rows(Path.Combine(_output, "local"))), WithoutSeconds(Rows(Path.Combine(_output, "slurm"))));
    }

    [SkippableFact]
    public void A_multi_target_build_through_slurm_runs_each_target_as_a_task_and_writes_the_same_reports()
    {
        SkipWithoutCluster();
        string[] targets = ["-p:TrainTuneTargets=Quick%3BPerWeight"];
        var local = DotnetCli.TrainTune("TinyTargets", Path.Combine(_output, "local"), targets);
        Assert.True(local.ExitCode == 0, local.Output);
        var slurm = DotnetCli.TrainTune("TinyTargets", Path.Combine(_output, "slurm"), [.. targets, "-p:TrainTuneScheduler=slurm"]);
        Assert.True(slurm.ExitCode == 0, slurm.Output);
        Assert.Matches(@"TrainTune: submitted Slurm job array \d+: 2 targets \(Quick, PerWeight\)", slurm.Output);
        foreach (var target in new[] { "Quick", "PerWeight" })
        {
            Assert.True(File.Exists(Path.Combine(_output, "slurm", target, "report.md")), $"{target} has no report");
            double Loss(string folder) => System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(_output, folder, target, "result.json")))
                .RootElement.GetProperty("result").GetProperty("validation_loss").GetDouble();
            Assert.Equal(Loss("local"), Loss("slurm"));
        }
    }

    [SkippableFact]
    public void A_cancelled_task_is_reported_and_the_next_build_runs_only_its_runs()
    {
        SkipWithoutCluster();
        var folder = Path.Combine(_output, "cancel");
        // Four tasks of two runs, one at a time: the last is still pending when it is cancelled.
        string[] properties = [.. Experiment, "-p:TrainTuneScheduler=slurm", "-p:TrainTunePopulation=2", "-p:TrainTuneSlurmConcurrency=1"];
        var submitted = DotnetCli.TrainTune("TinyTargets", folder, [.. properties, "-p:TrainTuneSlurmWait=false"]);
        Assert.True(submitted.ExitCode == 0, submitted.Output);
        var job = Regex.Match(submitted.Output, @"submitted Slurm job array (\d+)").Groups[1].Value;
        Assert.Contains($"not waiting for Slurm job array {job}", submitted.Output);
        using (var scancel = System.Diagnostics.Process.Start("scancel", $"{job}_3")!) scancel.WaitForExit();

        var collected = DotnetCli.TrainTune("TinyTargets", folder, properties);
        Assert.NotEqual(0, collected.ExitCode);
        Assert.Contains($"collecting Slurm job array {job}, submitted by an earlier build", collected.Output);
        Assert.Matches($@"error TT9040: Quick OursWdLrM seed 3 failed: Slurm task {job}_3 CANCELLED", collected.Output);
        Assert.Matches($@"error TT9040: Quick OursWdLrM seed 4 failed: Slurm task {job}_3 CANCELLED", collected.Output);
        Assert.True(Rows(folder).Skip(1).Count(r => r.EndsWith(",")) == 6, string.Join("\n", Rows(folder)) + "\n" + collected.Output);

        var rerun = DotnetCli.TrainTune("TinyTargets", folder, properties);
        Assert.True(rerun.ExitCode == 0, rerun.Output);
        Assert.Matches(@"submitted Slurm job array \d+ for Quick: 1 tasks, 2 runs \(6 finished earlier\)", rerun.Output);
        Assert.Equal(8, Rows(folder).Skip(1).Count(r => r.EndsWith(',')));
    }

    [SkippableFact]
    public void A_population_task_that_fails_in_itself_has_its_runs_submitted_one_per_task_by_the_next_build()
    {
        SkipWithoutCluster();
        var folder = Path.Combine(_output, "failed");
        string[] properties = ["-p:TrainTuneTargets=Crash", "-p:TrainTuneInits=2", "-p:TrainTuneMethods=Random", "-p:TrainTunePopulation=2", "-p:TrainTuneScheduler=slurm"];
        var first = DotnetCli.TrainTune("TinyTargets", folder, properties);
        Assert.NotEqual(0, first.ExitCode);
        Assert.Matches(@"submitted Slurm job array \d+ for Crash: 1 tasks, 2 runs", first.Output);
        Assert.Matches(@"error TT9040: Crash Random seed 1 failed: Slurm task \d+_0 FAILED", first.Output);
        Assert.Contains("Crash: 1 task(s) failed in themselves; the next build runs their 2 runs one per task", first.Output);

        var second = DotnetCli.TrainTune("TinyTargets", folder, properties);
        Assert.Contains("Crash: 2 runs of tasks that failed go one per task", second.Output);
        Assert.Matches(@"submitted Slurm job array \d+ for Crash: 2 tasks, 2 runs", second.Output);
        // Each failed alone, and stays alone.
        Assert.Matches(@"error TT9040: Crash Random seed 2 failed: Slurm task \d+_1 FAILED", second.Output);
        Assert.Contains("Crash: 2 task(s) failed in themselves; the next build runs their 2 runs one per task", second.Output);
    }

    [SkippableFact]
    public void An_unknown_partition_is_an_error_listing_the_clusters_partitions()
    {
        SkipWithoutCluster();
        var outcome = DotnetCli.TrainTune("TinyTargets", _output, [.. Experiment, "-p:TrainTuneScheduler=slurm", "-p:TrainTuneSlurmPartition=nope"]);
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Matches(@"error TT9050: Quick: TrainTuneSlurmPartition='nope' is not a partition of this cluster; sinfo lists: \w+", outcome.Output);
    }

    [SkippableFact]
    public void An_array_larger_than_the_clusters_MaxArraySize_is_refused_before_anything_is_submitted()
    {
        SkipWithoutCluster();
        // tools/slurm/local-cluster.sh sets MaxArraySize=1001: at most 1000 tasks.
        var outcome = DotnetCli.TrainTune("TinyTargets", _output, "-p:TrainTuneTargets=Quick", "-p:TrainTuneInits=1001", "-p:TrainTuneMethods=Random",
            "-p:TrainTunePopulation=1", "-p:TrainTuneScheduler=slurm");
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("error TT9050: Quick: The job array would have 1001 tasks, more than this cluster's MaxArraySize (1001) allows; put more runs in each task with a larger -p:TrainTunePopulation.", outcome.Output);
        Assert.DoesNotContain("submitted Slurm job array", outcome.Output);
    }

    [Fact]
    public void Without_the_slurm_client_the_build_names_the_package_to_install()
    {
        // A PATH with only the dotnet CLI's own folder (where no Slurm command lives).
        var dotnet = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(folder => new FileInfo(Path.Combine(folder, "dotnet"))).First(f => f.Exists);
        var dotnetFolder = Path.GetDirectoryName(dotnet.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? dotnet.FullName)!;
        var outcome = DotnetCli.TrainTuneWith(new Dictionary<string, string> { ["PATH"] = dotnetFolder }, "TinyTargets", _output,
            [.. Experiment, "-p:TrainTuneScheduler=slurm"]);
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("error TT9050: Quick: TrainTuneScheduler=slurm needs the Slurm client commands, and 'sbatch' is not on the PATH: install them (Debian and Ubuntu: apt-get install slurm-client", outcome.Output);
    }

    [Fact]
    public void Bad_scheduler_knobs_are_errors_naming_them()
    {
        var outcome = DotnetCli.TrainTune("TinyTargets", _output, [.. Experiment, "-p:TrainTuneScheduler=pbs", "-p:TrainTuneSlurmCpus=0", "-p:TrainTuneSlurmTime=soon"]);
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("TrainTuneScheduler='pbs' is not a scheduler; use local (the default) or slurm.", outcome.Output);
        Assert.Contains("TrainTuneSlurmCpus='0' is not a positive whole number of CPUs per array task.", outcome.Output);
        Assert.Contains("TrainTuneSlurmTime='soon' is not a Slurm time limit", outcome.Output);
    }
}
