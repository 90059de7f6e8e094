using Functions.Generation.Providers;

namespace Functions.Tests.Unit;

public sealed class CappedBodyTests
{
    [Fact]
    public async Task A_body_past_the_first_part_is_read_whole_as_announced()
    {
        var sent = new byte[6 * 1024 * 1024 + 17];
        Random.Shared.NextBytes(sent);
        var content = new StreamContent(new MemoryStream(sent));
        content.Headers.ContentLength = sent.Length;

        Assert.Equal(sent, await CappedBody.ReadAsync(content, sent.Length, () => new InvalidOperationException("too large"), default));
    }

    [Fact]
    public async Task A_length_announced_and_never_sent_holds_no_more_than_the_first_part()
    {
        var content = new StreamContent(new MemoryStream(new byte[10])); // 50 MB announced, 10 bytes sent
        content.Headers.ContentLength = 50_000_000;

        // A body already in memory is read without yielding, so this thread's allocations are the read's.
        var before = GC.GetAllocatedBytesForCurrentThread();
        var read = CappedBody.ReadAsync(content, 60_000_000, () => new InvalidOperationException("too large"), default);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(read.IsCompleted);
        Assert.Equal(10, (await read).Length);
        Assert.InRange(allocated, 0, 8 * 1024 * 1024); // was: the 50 MB announced, at once
    }

    [Fact]
    public async Task A_body_past_the_cap_is_refused_whatever_it_announced()
    {
        var content = new StreamContent(new MemoryStream(new byte[2_000]));
        content.Headers.ContentLength = 1_000;

        await Assert.ThrowsAsync<InvalidOperationException>(() => CappedBody.ReadAsync(content, 1_500, () => new InvalidOperationException("too large"), default));
    }
}
