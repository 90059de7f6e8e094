using Functions.Jobs;
using Functions.Storage;

namespace Functions.Tests.Storage;

public sealed class IdempotencyKeysTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    readonly ManualClock _clock = new(DateTimeOffset.UtcNow);

    IdempotencyKeys NewInstance() => new(storage.Table(StorageNames.IdempotencyTable), _clock);

    KeyUse Use(string jobId) => new(jobId, "body-" + jobId, _clock.GetUtcNow());

    static Task<bool> Exists(KeyUse _) => Task.FromResult(true);

    /// <summary>An empty key is refused here: an HttpClient through the in-process test server cannot send an empty header.</summary>
    [Theory]
    [InlineData("", false)]
    [InlineData("k", true)]
    [InlineData("order 42 / retry #1", true)]
    [InlineData("tab\there", false)]
    public void A_key_is_1_to_255_printable_ascii_characters(string key, bool valid)
    {
        Assert.Equal(valid, IdempotencyKeys.IsValid(key));
        Assert.True(IdempotencyKeys.IsValid(new string('k', 255)));
        Assert.False(IdempotencyKeys.IsValid(new string('k', 256)));
    }

    [Fact]
    public async Task Of_concurrent_requests_with_one_key_exactly_one_binds_it_and_all_see_that_binding()
    {
        var key = "key-" + Guid.NewGuid();

        var bound = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => NewInstance().BindAsync(key, Use($"job_{i:x20}"), Exists, default)));

        var winner = Assert.Single(bound.Select(b => b.JobId).Distinct());
        Assert.Equal(winner, (await NewInstance().FindAsync(key, default))?.JobId);
    }

    [Fact]
    public async Task A_binding_expires_after_24_hours_and_the_key_binds_again()
    {
        var key = "key-" + Guid.NewGuid();
        var keys = NewInstance();
        await keys.BindAsync(key, Use("job_00000000000000000001"), Exists, default);

        _clock.Now += TimeSpan.FromHours(24);
        Assert.Equal("job_00000000000000000001", (await keys.FindAsync(key, default))?.JobId); // 24 hours to the tick: still bound

        _clock.Now += TimeSpan.FromMinutes(1);

        Assert.Null(await keys.FindAsync(key, default));
        Assert.Equal("job_00000000000000000002", (await keys.BindAsync(key, Use("job_00000000000000000002"), Exists, default)).JobId);
        Assert.Equal("job_00000000000000000002", (await keys.FindAsync(key, default))?.JobId);
    }

    [Fact]
    public async Task A_binding_whose_job_was_deleted_gives_way()
    {
        var key = "any 'quoted' key / with # odd characters";
        var keys = NewInstance();
        await keys.BindAsync(key, Use("job_00000000000000000003"), Exists, default);

        var kept = await keys.BindAsync(key, Use("job_00000000000000000004"), Exists, default);
        var replaced = await keys.BindAsync(key, Use("job_00000000000000000005"), _ => Task.FromResult(false), default);

        Assert.Equal("job_00000000000000000003", kept.JobId);
        Assert.Equal("job_00000000000000000005", replaced.JobId);
        Assert.Equal("body-job_00000000000000000005", (await keys.FindAsync(key, default))?.BodyHash);
    }

    [Fact]
    public async Task A_late_release_for_a_job_the_key_has_moved_on_from_leaves_the_new_binding()
    {
        var key = "key-" + Guid.NewGuid();
        var keys = NewInstance();
        await keys.BindAsync(key, Use("job_00000000000000000006"), Exists, default);
        await keys.BindAsync(key, Use("job_00000000000000000007"), _ => Task.FromResult(false), default); // the first job gone: rebound

        await keys.ReleaseAsync(IdempotencyKeys.HashOfKey(key), "job_00000000000000000006", default); // the first job's DELETE, late

        Assert.Equal("job_00000000000000000007", (await keys.FindAsync(key, default))?.JobId);
    }
}
