using System.Globalization;
using TorchSharp;

namespace TrainTune;

/// <summary>
/// Chooses and applies libtorch's thread counts for a run. libtorch's default (one intra-op
/// thread per core) is poison for small models: the threads cost more synchronisation than they
/// save, spin against any other busy process, and change the results. So a run gets one thread
/// unless its work per step pays for more, never more than the cores this process may use, and
/// one inter-op thread (TrainTune's graphs are sequential).
/// </summary>
internal static class ThreadPolicy
{
    /// <summary>
    /// Multiply-adds per step (parameters × rows per step) that each extra intra-op thread needs to
    /// pay for itself. Measured with <c>bench/OnePassBench --thread-sweep</c> on three 2-core CPU
    /// types (README, "Threads"): below 1e7 a second thread gains up to 1.15× on one and loses up to
    /// 0.70× on another, from 3e7 it gains 1.3–1.5× on all three (and it loses at every size while
    /// another process keeps a core busy), so one is added only where it pays on every one.
    /// </summary>
    public const long WorkPerThread = 48_000_000;

    static readonly Lock InterOpGate = new();
    static bool _interOpSet;

    /// <summary>
    /// The cores this process may use: .NET's processor count honours the CPU affinity mask and a
    /// cgroup CPU quota (rounded up), and DOTNET_PROCESSOR_COUNT when it is set.
    /// </summary>
    public static int AvailableCores => Environment.ProcessorCount;

    /// <summary>Multiply-adds of one forward pass of a dense model over <paramref name="rows"/> rows.</summary>
    public static long WorkPerStep(IEnumerable<long> parameterSizes, long rows) => parameterSizes.Sum() * Math.Max(1, rows);

    /// <param name="requested">An explicit thread count (WithThreads, TrainTuneThreads), or null for the automatic choice.</param>
    /// <param name="cores">The cores the run may use (fewer than the process's when several runs share it).</param>
    public static ThreadChoice Choose(long workPerStep, int? requested, int cores, string? coresNote = null)
    {
        cores = Math.Max(1, cores);
        var where = coresNote ?? $"{cores} core{(cores == 1 ? "" : "s")} available to this process";
        if (requested is { } n)
            return new(n, 1, cores, workPerStep, n > cores
                ? $"set to {n} by WithThreads/TrainTuneThreads, more than the {where}"
                : $"set to {n} by WithThreads/TrainTuneThreads");
        var wanted = (int)Math.Min(1 + workPerStep / WorkPerThread, int.MaxValue);
        var threads = Math.Min(wanted, cores);
        var work = workPerStep.ToString("G3", CultureInfo.InvariantCulture);
        var reason = wanted <= 1
            ? $"auto: {work} multiply-adds per step is below the {WorkPerThread:G3} an extra thread needs, so one thread"
            : threads < wanted
                ? $"auto: {work} multiply-adds per step would use {wanted} threads; capped at {threads} ({where})"
                : $"auto: {work} multiply-adds per step pays for {threads} threads ({WorkPerThread:G3} per extra thread; {where})";
        return new(threads, 1, cores, workPerStep, reason);
    }

    /// <summary>
    /// Sets libtorch's thread counts and returns what is in force. The inter-op count can be set
    /// only once per process and before any inter-op work; where libtorch refuses, its pool stays
    /// (TrainTune's runs never use it, so no result changes) and the returned choice says so.
    /// </summary>
    public static ThreadChoice Apply(ThreadChoice choice)
    {
        if (torch.get_num_threads() != choice.IntraOp) torch.set_num_threads(choice.IntraOp);
        lock (InterOpGate)
        {
            if (!_interOpSet)
            {
                _interOpSet = true;
                try
                {
                    if (torch.get_num_interop_threads() != choice.InterOp) torch.set_num_interop_threads(choice.InterOp);
                }
                catch (System.Runtime.InteropServices.ExternalException)
                {
                }
            }
        }
        // What is in force, read back: the record reports what ran, not what was asked for.
        var interOp = torch.get_num_interop_threads();
        return interOp == choice.InterOp ? choice with { IntraOp = torch.get_num_threads() } : choice with
        {
            IntraOp = torch.get_num_threads(),
            InterOp = interOp,
            Reason = choice.Reason + $"; libtorch kept {interOp} inter-op threads (set before this run)",
        };
    }
}
