using Functions.Jobs;
using Functions.Storage;
using Functions.Tests.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Functions.Tests.Jobs;

public sealed class CancelRequestsTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    [Fact]
    public async Task A_second_cancel_of_a_job_keeps_the_time_the_first_was_accepted()
    {
        var firstAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var clock = new FakeTimeProvider(firstAt);
        var cancels = new CancelRequests(storage.Table(StorageNames.CancelsTable), storage.Bootstrap, clock);
        var jobId = JobIds.New(firstAt, isPrivate: false);
        await cancels.RecordAsync(jobId, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(3));

        await cancels.RecordAsync(jobId, CancellationToken.None); // a concurrent DELETE's, after reads may have shown the job canceled

        Assert.Equal(firstAt, (await cancels.FindAsync(jobId, CancellationToken.None))?.AcceptedAt());
    }
}
