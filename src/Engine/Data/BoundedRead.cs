namespace Engine.Data;

/// <summary>Reading a length that a file's header claims, without trusting the claim.</summary>
internal static class BoundedRead
{
    /// <summary>
    /// Reads up to <paramref name="expected"/> bytes into a buffer that starts at 1 MiB and doubles only as
    /// data actually arrives, so a header that lies about its size cannot make the reader allocate memory the
    /// file does not back. The result is shorter than <paramref name="expected"/> when the stream ends early.
    /// </summary>
    public static byte[] UpTo(Stream stream, int expected)
    {
        var buffer = new byte[Math.Min(expected, 1 << 20)];
        int filled = 0;
        while (filled < expected)
        {
            if (filled == buffer.Length)
                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, expected));
            int n = stream.Read(buffer, filled, buffer.Length - filled);
            if (n == 0) break;
            filled += n;
        }
        if (filled < buffer.Length) Array.Resize(ref buffer, filled);
        return buffer;
    }

    /// <summary>
    /// Reads <paramref name="expected"/> bytes into one buffer of that size, for a length the file itself backs (a
    /// regular file whose size was checked against the header): no doubling, so memory stays at the data's size. The
    /// result is shorter when the stream ends early (the file shrank while being read).
    /// </summary>
    public static byte[] Backed(Stream stream, int expected)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(expected);
        int filled = stream.ReadAtLeast(buffer, expected, throwOnEndOfStream: false);
        if (filled < expected) Array.Resize(ref buffer, filled);
        return buffer;
    }
}
