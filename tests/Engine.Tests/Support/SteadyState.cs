namespace Engine.Tests.Support;

/// <summary>What warm calls allocate on the calling thread, measured so that an exact zero can be asserted.</summary>
internal static class SteadyState
{
    /// <summary>
    /// The fewest bytes that <paramref name="calls"/> back-to-back calls allocated on this thread in any of
    /// <paramref name="windows"/> windows. Code that allocates on every call shows it in every window. The runtime's
    /// own one-off work on the calling thread (tiered compilation promoting a method mid-window: 3,648 bytes in one
    /// CI run of 10 training steps) lands in one window, so the minimum still tests the code, not the runtime.
    /// </summary>
    public static long AllocatedBytes(Action call, int calls = 10, int windows = 4)
    {
        long fewest = long.MaxValue;
        for (int w = 0; w < windows && fewest > 0; w++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < calls; i++) call();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return fewest;
    }
}
