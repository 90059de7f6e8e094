using Functions.Generation;
using Moq;

namespace Functions.Tests.Jobs;

/// <summary>A synchronous provider that waits until its call is canceled, and says when that happened.</summary>
public sealed class HangingProviderFixture : SeamProviderFixture
{
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource Canceled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public HangingProviderFixture() => SubmitsHangUntilCanceled(Canceled, Entered);
}

/// <summary>
/// A synchronous provider whose image comes once it is let go (<see cref="Answer"/>), whatever happened to the call
/// meanwhile; <see cref="Canceled"/> says its call was canceled.
/// </summary>
public sealed class LateImageProviderFixture : SeamProviderFixture
{
    public TaskCompletionSource Canceled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public LateImageProviderFixture() => Provider.Setup(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>()))
        .Returns(async (ProviderCall _, CancellationToken cancellationToken) =>
        {
            await using var registration = cancellationToken.Register(() => Canceled.TrySetResult());
            await Answer.Task;
            return ProviderStep.Done(Image());
        });
}

public sealed class InlineCancelTests(HangingProviderFixture app) : IClassFixture<HangingProviderFixture>
{
    [Fact]
    public async Task A_client_that_goes_away_cancels_the_upstream_call_of_an_inline_generation()
    {
        using var leaving = new CancellationTokenSource();
        var request = app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "nobody waits for me" }, leaving.Token);
        await app.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));

        leaving.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        await app.Canceled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }
}

public sealed class InlineLateImageTests(LateImageProviderFixture app) : IClassFixture<LateImageProviderFixture>
{
    [Fact]
    public async Task An_image_the_upstream_answers_after_the_client_went_away_is_stored_not_lost()
    {
        using var leaving = new CancellationTokenSource();
        var request = app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "paid for, though nobody waits" }, leaving.Token);
        await Eventually.HoldsAsync(() => Task.FromResult(app.Provider.Invocations.Any(i => i.Method.Name == nameof(IImageProvider.SubmitAsync))));
        leaving.Cancel();
        await app.Canceled.Task.WaitAsync(TimeSpan.FromSeconds(10)); // the app saw the client go

        app.Answer.SetResult(); // an upstream that had already made (and billed) the image
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);

        await Eventually.HoldsAsync(async () =>
            (await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history")).GetProperty("total").GetInt64() == 1);
    }
}
