namespace Functions.Tests.Jobs;

/// <summary>A synchronous provider that waits until its call is canceled, and says when that happened.</summary>
public sealed class HangingProviderFixture : SeamProviderFixture
{
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource Canceled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public HangingProviderFixture() => SubmitsHangUntilCanceled(Canceled, Entered);
}

public sealed class InlineCancelTests(HangingProviderFixture app) : IClassFixture<HangingProviderFixture>
{
    [Fact]
    public async Task A_client_that_goes_away_cancels_the_upstream_call_of_an_inline_generation_and_nothing_is_stored()
    {
        using var leaving = new CancellationTokenSource();
        var request = app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "nobody waits for me" }, leaving.Token);
        await app.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));

        leaving.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        await app.Canceled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var history = await app.Client.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/images/history");
        Assert.Equal(0, history.GetProperty("total").GetInt64());
    }
}
