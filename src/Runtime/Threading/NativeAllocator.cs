using System.Runtime.InteropServices;

namespace TrainTune;

/// <summary>
/// glibc's malloc hands every large block to mmap and back on free, so each operation on a large
/// tensor pays for fresh, zeroed pages; when it does depends on its dynamic threshold, so the same
/// run is fast one time and several times slower the next (README, "Benchmark"). Raising that
/// threshold, and the one past which the heap's free top is given back to the system, keeps freed
/// tensors' memory in the process for the next operation (its peak is kept until the process
/// ends). The build's host process does so when it starts a run; a program of one's own may call
/// it first thing (it affects the whole process). TRAINTUNE_MALLOC=default keeps glibc's behaviour, and where there is no glibc
/// (musl, macOS, Windows) nothing changes.
/// </summary>
public static class NativeAllocator
{
    const int TrimThreshold = -1; // M_TRIM_THRESHOLD
    const int MmapThreshold = -3; // M_MMAP_THRESHOLD

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int Mallopt(int parameter, int value);

    /// <summary>Raises glibc's mmap threshold for this process; whether it was raised.</summary>
    public static bool KeepLargeBlocksInTheHeap()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("TRAINTUNE_MALLOC") == "default") return false;
        try
        {
            // Both: with the mmap threshold alone, the freed top of the heap is given back to the
            // system past 128 KiB and faulted in again by the next step (a CNN's one-pass step
            // spent a third of its time in the kernel, 536,000 page faults in 11 s; 82,000 in 5 s with both).
            return Mallopt(MmapThreshold, int.MaxValue) == 1 && Mallopt(TrimThreshold, int.MaxValue) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }
}
