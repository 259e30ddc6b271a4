using Engine.Data;

namespace Engine.Tests.Data;

/// <summary>
/// Reading a length a header claims: the growing read never allocates more than arrived (plus its doubling), the backed
/// read (a regular file whose size matched the header) returns exactly the bytes, and both return what a short stream
/// holds, so the caller can name the truncation.
/// </summary>
public class BoundedReadTests
{
    static byte[] Bytes(int n) => Enumerable.Range(0, n).Select(i => (byte)(i * 7)).ToArray();

    [Theory]
    [InlineData(0, 0)]
    [InlineData(10, 10)]
    [InlineData(3_000_000, 3_000_000)] // past the growing read's first 1 MiB
    [InlineData(3_000_000, 1_234_567)] // the stream ends early
    public void Both_reads_return_the_bytes_that_arrived(int expected, int available)
    {
        byte[] source = Bytes(available);
        Assert.Equal(source, BoundedRead.UpTo(new MemoryStream(source), expected));
        Assert.Equal(source, BoundedRead.Backed(new MemoryStream(source), expected));
    }

    [Fact]
    public void Neither_read_goes_past_the_expected_length()
    {
        byte[] source = Bytes(100);
        var growing = new MemoryStream(source);
        Assert.Equal(source[..40], BoundedRead.UpTo(growing, 40));
        Assert.Equal(40, growing.Position);
        var backed = new MemoryStream(source);
        Assert.Equal(source[..40], BoundedRead.Backed(backed, 40));
        Assert.Equal(40, backed.Position);
    }
}
