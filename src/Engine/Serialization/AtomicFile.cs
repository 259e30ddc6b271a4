using System.Runtime.InteropServices;

namespace Engine.Serialization;

/// <summary>
/// Writes a file so that readers see either the old complete file or the new complete file: the content goes
/// to a temporary file in the same directory, is flushed to disk, then renamed over the target. A symlink is
/// followed and its final target replaced, so the link stays a link. A target that exists and is not a regular file
/// (a device such as /dev/null, a FIFO) is written through, never replaced: renaming over it would turn a system's
/// device node into a regular file. A socket is refused.
/// </summary>
public static partial class AtomicFile
{
    /// <summary>Replaces <paramref name="path"/> with what <paramref name="write"/> writes; on failure the temporary file is removed and the target is untouched.</summary>
    /// <param name="path">The file to create or replace (through a symlink, its target); its directory must exist.</param>
    /// <param name="write">Writes the whole content to the given stream (do not dispose it).</param>
    /// <exception cref="EngineException">The directory does not exist, the target is a directory or a socket, or an I/O or access error occurred.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new EngineException("output file name is empty");
        string full = FinalTarget(Path.GetFullPath(path));
        switch (KindOf(full))
        {
            case FileKind.Directory: throw new EngineException($"{path}: is a directory, expected a file name");
            case FileKind.Socket: throw new EngineException($"{path}: is a socket, not a file the engine can write");
            case FileKind.Special: WriteThrough(path, full, write); return;
        }
        string dir = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(dir)) throw new EngineException($"{path}: directory {dir} does not exist");
        // Unique per call, so concurrent saves to one path (threads or processes) never share a temp file; the
        // last rename wins and every reader sees one complete file.
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new EngineException($"{path}: cannot write ({Describe(e)})");
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Whether <paramref name="path"/> can be written: an existing device or FIFO, or a name in a directory where a file can be created (tried with a temporary file).</summary>
    /// <exception cref="EngineException">It cannot, with the reason.</exception>
    public static void RequireWritable(string path)
    {
        string full = FinalTarget(Path.GetFullPath(path));
        switch (KindOf(full))
        {
            case FileKind.Directory: throw new EngineException($"{path}: is a directory, expected a file name");
            case FileKind.Socket: throw new EngineException($"{path}: is a socket, not a file the engine can write");
            case FileKind.Special: return;
        }
        string dir = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(dir)) throw new EngineException($"{path}: directory {dir} does not exist");
        string probe = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.probe");
        try
        {
            new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None).Dispose();
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(probe);
            throw new EngineException($"{path}: cannot write in {dir} ({Describe(e)})");
        }
    }

    /// <summary>The OS's reason in a few words, without the path it repeats.</summary>
    internal static string Describe(Exception e) => e switch
    {
        UnauthorizedAccessException => "permission denied",
        IOException { HResult: 30 or unchecked((int)0x80070013) } => "read-only file system",
        IOException { HResult: 28 or unchecked((int)0x80070070) } => "no space left on the device",
        IOException { HResult: 36 or 63 } => "file name too long",
        FileNotFoundException or DirectoryNotFoundException => "no new file can be created there",
        _ => e.Message.Split(" : ")[0].TrimEnd('.'),
    };

    static void WriteThrough(string path, string full, Action<Stream> write)
    {
        try
        {
            using var stream = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1, FileOptions.None);
            write(stream);
            stream.Flush();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EngineException($"{path}: cannot write ({Describe(e)})");
        }
    }

    /// <summary>The path a chain of symlinks ends at (the path itself when it is no link; a dangling link's target is created).</summary>
    static string FinalTarget(string full)
    {
        try
        {
            if (new FileInfo(full).LinkTarget is null) return full;
            FileSystemInfo? target = File.ResolveLinkTarget(full, returnFinalTarget: true);
            return target is null ? full : Path.GetFullPath(target.FullName);
        }
        catch (IOException e) { throw new EngineException($"{full}: cannot follow the symlink ({Describe(e)})"); }
    }

    enum FileKind { Missing, Regular, Directory, Socket, Special }

    static FileKind KindOf(string full)
    {
        if (Directory.Exists(full)) return FileKind.Directory;
        if (!File.Exists(full)) return FileKind.Missing;
        if (OperatingSystem.IsWindows()) return FileKind.Regular;
        if (Stat(full, out FileStatus status) != 0) return FileKind.Regular; // let the write report the problem
        return (status.Mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0xC000 => FileKind.Socket,
            _ => FileKind.Special, // character or block device, FIFO
        };
    }

    // The runtime's own portable stat (the same struct on every Unix), which the BCL uses for File.Exists.
    [StructLayout(LayoutKind.Sequential)]
    struct FileStatus
    {
        public int Flags;
        public int Mode;
        public uint Uid, Gid;
        public long Size, ATime, ATimeNsec, MTime, MTimeNsec, CTime, CTimeNsec, BirthTime, BirthTimeNsec, Dev, RDev, Ino;
        public uint UserFlags;
    }

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Stat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, out FileStatus status);

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
