using Functions.LocalHost;

namespace Functions.Tests.Host;

/// <summary>How the local host tries again to start what needs storage: each wait twice the last, and never past a stop.</summary>
public sealed class StartRetriesTests
{
    [Fact]
    public async Task A_start_that_fails_is_tried_again_after_waits_that_double_until_it_succeeds()
    {
        var tries = 0;
        var waits = new List<TimeSpan>();

        await StartRetries.RunAsync(() => ++tries <= 4 ? throw new InvalidOperationException("storage not up yet") : Task.CompletedTask,
            (_, wait) => waits.Add(wait), CancellationToken.None, firstDelay: TimeSpan.FromMilliseconds(1));

        Assert.Equal(5, tries);
        Assert.Equal([1, 2, 4, 8], waits.Select(w => w.TotalMilliseconds));
    }

    [Fact]
    public async Task A_start_that_fails_once_the_host_is_stopping_throws_its_error_and_is_not_tried_again()
    {
        var tries = 0;
        var failures = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(() => StartRetries.RunAsync(
            () => { tries++; throw new InvalidOperationException("storage not up"); }, (_, _) => failures++, new CancellationToken(canceled: true)));

        Assert.Equal((1, 0), (tries, failures));
    }
}
