using Functions.Files;
using Functions.Jobs;

namespace Functions.Tests.Unit;

public sealed class FileIdsTests
{
    [Fact]
    public void Ids_made_in_the_same_millisecond_share_the_time_and_differ_in_64_random_bits()
    {
        var now = DateTimeOffset.UtcNow;
        var ids = Enumerable.Range(0, 1000).Select(_ => FileIds.NewHex(now)).ToList();

        // A private image is read by whoever holds its id: 12 hex digits of time, then 16 that cannot be guessed.
        Assert.All(ids, id => Assert.Matches("^[0-9a-f]{28}$", id));
        Assert.Single(ids.Select(id => id[..12]).Distinct());
        Assert.Equal(ids.Count, ids.Select(id => id[12..]).Distinct().Count());
    }

    [Fact]
    public void Newer_ids_sort_first_and_a_job_shares_its_digits_with_its_image()
    {
        var older = FileIds.New(DateTimeOffset.FromUnixTimeMilliseconds(1_000));
        var newer = FileIds.New(DateTimeOffset.FromUnixTimeMilliseconds(1_001));
        var job = JobIds.New(DateTimeOffset.UtcNow, isPrivate: true);

        Assert.True(string.CompareOrdinal(newer, older) < 0);
        Assert.StartsWith("job_1", job);
        Assert.Equal("file_" + job[5..], FileIds.FileIdForJob(job));
    }
}
