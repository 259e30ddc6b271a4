using System.Globalization;
using System.Runtime.Intrinsics.X86;

namespace Engine.Kernels;

/// <summary>
/// The data-cache sizes of the core this process runs on, read once at run time: the GEMM's block sizes come from them
/// (<see cref="Simd.GemmPlan"/>), never from a table written for one CPU. Sources, first that answers: the environment
/// variable <c>ENGINE_CACHES</c> (e.g. <c>l1d=48K,l2=2M,l3=32M</c>, for experiments), Linux sysfs
/// (<c>/sys/devices/system/cpu/cpu0/cache</c>), CPUID's deterministic cache leaf (4 on Intel, 0x8000001D on AMD: the
/// project's cloud VMs hide sysfs' cache folder), then conservative defaults (32 KiB, 1 MiB, 8 MiB).
/// </summary>
/// <param name="L1Data">Level-1 data cache of one core, bytes.</param>
/// <param name="L2">Level-2 cache of one core, bytes.</param>
/// <param name="L3">Last-level cache (shared between cores), bytes; 0 when there is none.</param>
/// <param name="Source">Where the sizes came from: environment, sysfs, cpuid or defaults.</param>
public sealed record CpuCaches(long L1Data, long L2, long L3, string Source)
{
    /// <summary>The environment variable that overrides the sizes read from the machine.</summary>
    public const string EnvironmentVariable = "ENGINE_CACHES";

    static readonly CpuCaches Defaults = new(32 << 10, 1 << 20, 8 << 20, "defaults");
    static readonly Lazy<CpuCaches> Machine = new(Read);

    /// <summary>This machine's caches (read on first use; the environment variable is read then too).</summary>
    public static CpuCaches Current => Machine.Value;

    /// <summary>A short description, e.g. <c>L1d 48 KiB, L2 1 MiB, L3 32 MiB (cpuid)</c>.</summary>
    public string Describe() => $"L1d {Size(L1Data)}, L2 {Size(L2)}, L3 {Size(L3)} ({Source})";

    static string Size(long bytes) => bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? $"{bytes >> 20} MiB" : $"{bytes >> 10} KiB";

    static CpuCaches Read() =>
        FromEnvironment(Environment.GetEnvironmentVariable(EnvironmentVariable)) ?? FromSysfs() ?? FromCpuid() ?? Defaults;

    /// <summary>Parses <c>l1d=48K,l2=2M,l3=32M</c> (any subset; the rest from the defaults).</summary>
    /// <exception cref="EngineException">The text is not of that form.</exception>
    public static CpuCaches? FromEnvironment(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var caches = Defaults with { Source = "environment" };
        foreach (string item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] kv = item.Split('=', 2, StringSplitOptions.TrimEntries);
            long bytes = kv.Length == 2 ? ParseSize(kv[1]) : -1;
            if (bytes <= 0) throw new EngineException($"{EnvironmentVariable}: '{item}' is not name=size (e.g. l2=2M)");
            caches = kv[0].ToLowerInvariant() switch
            {
                "l1" or "l1d" => caches with { L1Data = bytes },
                "l2" => caches with { L2 = bytes },
                "l3" => caches with { L3 = bytes },
                _ => throw new EngineException($"{EnvironmentVariable}: unknown cache '{kv[0]}' (l1d, l2, l3)"),
            };
        }
        return caches;
    }

    /// <summary>"48K", "2M", "32768" (bytes) → bytes; −1 when malformed.</summary>
    static long ParseSize(string text)
    {
        text = text.Trim().ToUpperInvariant();
        long unit = 1;
        if (text.EndsWith('K')) unit = 1 << 10;
        else if (text.EndsWith('M')) unit = 1 << 20;
        if (unit > 1) text = text[..^1];
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n > 0 && n <= (1L << 40) / unit ? n * unit : -1;
    }

    static CpuCaches? FromSysfs()
    {
        const string root = "/sys/devices/system/cpu/cpu0/cache";
        if (!Directory.Exists(root)) return null;
        long l1 = 0, l2 = 0, l3 = 0;
        try
        {
            foreach (string index in Directory.EnumerateDirectories(root, "index*"))
            {
                string type = File.ReadAllText(Path.Combine(index, "type")).Trim();
                if (type == "Instruction") continue;
                int level = int.Parse(File.ReadAllText(Path.Combine(index, "level")).Trim(), CultureInfo.InvariantCulture);
                long size = ParseSize(File.ReadAllText(Path.Combine(index, "size")).Trim());
                if (size <= 0) continue;
                if (level == 1) l1 = size; else if (level == 2) l2 = size; else if (level == 3) l3 = size;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException) { return null; }
        return l1 > 0 && l2 > 0 ? new CpuCaches(l1, l2, l3, "sysfs") : null;
    }

    /// <summary>CPUID leaf 4 (Intel) or 0x8000001D (AMD): one sub-leaf per cache, size = ways·partitions·line·sets.</summary>
    static CpuCaches? FromCpuid()
    {
        if (!X86Base.IsSupported) return null;
        var (_, vendorB, vendorC, vendorD) = X86Base.CpuId(0, 0);
        bool amd = vendorB == 0x68747541 && vendorD == 0x69746E65 && vendorC == 0x444D4163; // "AuthenticAMD"
        uint maxExtended = unchecked((uint)X86Base.CpuId(unchecked((int)0x80000000), 0).Eax);
        int leaf = amd ? unchecked((int)0x8000001D) : 4;
        bool hasLeaf = amd ? maxExtended >= 0x8000001D : X86Base.CpuId(0, 0).Eax >= 4;
        long l1 = 0, l2 = 0, l3 = 0;
        for (int sub = 0; hasLeaf && sub < 16; sub++)
        {
            var (eax, ebx, ecx, _) = X86Base.CpuId(leaf, sub);
            int type = eax & 0x1F; // 0: no more caches, 1: data, 2: instruction, 3: unified
            if (type == 0) break;
            if (type == 2) continue;
            int level = (eax >> 5) & 0x7;
            long size = (long)(((ebx >> 22) & 0x3FF) + 1) * (((ebx >> 12) & 0x3FF) + 1) * ((ebx & 0xFFF) + 1) * ((long)(uint)ecx + 1);
            if (level == 1) l1 = size; else if (level == 2) l2 = size; else if (level == 3) l3 = size;
        }
        if (l1 == 0 && amd && maxExtended >= 0x80000006)
        {
            // Some hypervisors zero 0x8000001D (seen on the project's Zen 5 VMs); AMD's older leaves still answer:
            // 0x80000005 ECX[31:24] = L1d KiB, 0x80000006 ECX[31:16] = L2 KiB, EDX[31:18] = L3 in 512 KiB units.
            l1 = (long)((uint)X86Base.CpuId(unchecked((int)0x80000005), 0).Ecx >> 24) << 10;
            var (_, _, ecx6, edx6) = X86Base.CpuId(unchecked((int)0x80000006), 0);
            l2 = (long)((uint)ecx6 >> 16) << 10;
            l3 = (long)((uint)edx6 >> 18) << 19;
        }
        return l1 > 0 && l2 > 0 ? new CpuCaches(l1, l2, l3, "cpuid") : null;
    }
}
