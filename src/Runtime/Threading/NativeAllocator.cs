using System.Runtime.InteropServices;

namespace TrainTune;

/// <summary>
/// glibc's malloc hands every large block to mmap and back on free, so each operation on a large
/// tensor pays for fresh, zeroed pages; when it does depends on its dynamic threshold, so the same
/// run is fast one time and several times slower the next (README, "Benchmark"). Raising that
/// threshold, and the one past which the heap's free top is given back to the system, keeps freed
/// tensors' memory in the process for the next operation (its peak is kept until the process
/// ends). Every run and tuner does so once per process before its first tensor (it affects the
/// whole process, whose memory is mostly tensors). TRAINTUNE_MALLOC=default keeps glibc's
/// behaviour, and where there is no glibc (musl, macOS, Windows) nothing changes.
/// </summary>
internal static class NativeAllocator
{
    const int TrimThreshold = -1; // M_TRIM_THRESHOLD
    const int MmapThreshold = -3; // M_MMAP_THRESHOLD

    static readonly Lazy<bool> Once = new(KeepLargeBlocksInTheHeap);

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int Mallopt(int parameter, int value);

    /// <summary>Raises the thresholds the first time it is called in the process; whether they are raised.</summary>
    public static bool EnsureLargeBlocksStayInTheHeap() => Once.Value;

    static bool KeepLargeBlocksInTheHeap()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("TRAINTUNE_MALLOC") == "default") return false;
        try
        {
            // Both: with the mmap threshold alone, the freed top of the heap is given back to the
            // system past 128 KiB and faulted in again by the next step (a CNN's one-pass step
            // spent a third of its time in the kernel: 536,000 page faults in 11 s; 82,000 in 5 s with both).
            return Mallopt(MmapThreshold, int.MaxValue) == 1 && Mallopt(TrimThreshold, int.MaxValue) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }
}
