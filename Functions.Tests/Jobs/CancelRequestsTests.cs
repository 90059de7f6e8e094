using Functions.Jobs;
using Functions.Storage;
using Functions.Tests.Storage;
using Microsoft.Extensions.Time.Testing;
using Moq;

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

    [Fact]
    public async Task A_cancel_that_meets_its_table_being_deleted_fails_rather_than_read_as_recorded()
    {
        // Azure refuses rows while a deleted table is removed, with a 409 that Azurite never sends: the seam is the table.
        var table = new Mock<Azure.Data.Tables.TableClient>();
        table.Setup(t => t.AddEntityAsync(It.IsAny<CancelRow>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new Azure.RequestFailedException(409, "The specified table is being deleted.", "TableBeingDeleted", null));
        var cancels = new CancelRequests(table.Object, storage.Bootstrap, TimeProvider.System);

        // Was: taken for a concurrent DELETE's record, so the DELETE went on with no record to stop the job's Submit.
        await Assert.ThrowsAsync<Azure.RequestFailedException>(() => cancels.RecordAsync(JobIds.New(DateTimeOffset.UtcNow, isPrivate: false), CancellationToken.None));
    }
}
