using System.Diagnostics;

namespace TrainTune.Hosting;

/// <summary>
/// Where the host's time goes before the run starts, measured from the process's start (as the
/// kernel saw it, so the runtime's own start-up counts too).
/// </summary>
internal sealed class HostClock
{
    readonly DateTime _processStart;
    readonly Dictionary<string, double> _marks = [];
    DateTime _last;

    HostClock(DateTime processStart, DateTime now) => (_processStart, _last) = (processStart, now);

    public static HostClock Start()
    {
        using var process = Process.GetCurrentProcess();
        var clock = new HostClock(process.StartTime.ToUniversalTime(), DateTime.UtcNow);
        clock._marks["runtime_start"] = (clock._last - clock._processStart).TotalSeconds;
        return clock;
    }

    /// <summary>Seconds since the previous mark, under <paramref name="phase"/>.</summary>
    public void Mark(string phase)
    {
        var now = DateTime.UtcNow;
        _marks[phase] = (now - _last).TotalSeconds;
        _last = now;
    }

    /// <summary>
    /// The report's timing: process start to the first weight step (of the first run, for a search),
    /// and each phase; <paramref name="result"/>'s times cover every run of a search.
    /// </summary>
    public Dictionary<string, double?> Timing(RunResult first, RunResult result) => new()
    {
        ["process_start_to_first_step"] = _marks.Values.Sum() + first.Timing?.Setup,
        ["runtime_start"] = _marks["runtime_start"],
        ["target_loading"] = _marks["target_loading"],
        ["libtorch_loading"] = _marks["libtorch_loading"],
        ["data_loading"] = _marks["data_loading"],
        ["setup"] = _marks["options"] + first.Timing?.Setup,
        ["training"] = result.Timing?.Training,
        ["final_evaluation"] = result.Timing?.FinalEvaluation,
    };
}
