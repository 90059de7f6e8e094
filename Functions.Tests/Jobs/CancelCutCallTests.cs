using Functions.Generation;
using Functions.Tests.Api;
using Microsoft.DurableTask.Client.Grpc;
using Microsoft.Extensions.DependencyInjection;
using Moq;

namespace Functions.Tests.Jobs;

// A cancel that cuts an upstream call under way (GenerationActivities.BeforeDeadlineAsync) never makes the job pay twice.

/// <summary>
/// A job's upstream call is under way when its DELETE comes, and the DELETE's terminate cannot be sent: it fails 3 s
/// after it was asked (an engine that does not answer for a while), and the DELETE then takes its cancel record back.
/// </summary>
public abstract class TakenBackCancelFixture : SeamProviderFixture
{
    readonly UnreachableTerminates _terminates = new(() => Task.Delay(TimeSpan.FromSeconds(3)));
    int _submits;

    public int Submits => Volatile.Read(ref _submits);
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource Cut { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Generation:SyncWaitSeconds"] = "0",
        ["Upstream:PollMinSeconds"] = "0.1",
        ["Upstream:PollMaxSeconds"] = "0.1",
        ["Upstream:DeadlineSeconds"] = "120",
    };

    protected int CountSubmit() => Interlocked.Increment(ref _submits);

    /// <summary>The first call (<paramref name="first"/> true) waits until it is cut; later ones answer the image at once.</summary>
    protected async Task<ProviderStep> HangUntilCutAsync(bool first, CancellationToken token)
    {
        if (!first) return ProviderStep.Done(Image());
        Entered.TrySetResult();
        try { await Task.Delay(Timeout.Infinite, token); }
        catch (OperationCanceledException) { Cut.TrySetResult(); throw; }
        return ProviderStep.Done(Image());
    }

    protected override void ConfigureServices(IServiceCollection services)
    {
        base.ConfigureServices(services);
        services.ConfigureAll<GrpcDurableTaskClientOptions>(options => options.Interceptors.Add(_terminates));
    }
}

/// <summary>An asynchronous provider: its Submit answers a task id at once (the task is started, and paid for); its first Check hangs.</summary>
public sealed class CheckCutByTakenBackCancelFixture : TakenBackCancelFixture
{
    int _checks;

    public CheckCutByTakenBackCancelFixture()
    {
        Provider.Setup(p => p.Asynchronous).Returns(true);
        Provider.Setup(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(() => ProviderStep.Pending($"task-{CountSubmit()}", 0.1, null));
        Provider.Setup(p => p.CheckAsync(It.IsAny<ProviderCall>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Returns((ProviderCall _, string _, CancellationToken token) => HangUntilCutAsync(Interlocked.Increment(ref _checks) == 1, token));
    }
}

public sealed class CheckCutByTakenBackCancelTests(CheckCutByTakenBackCancelFixture app) : IClassFixture<CheckCutByTakenBackCancelFixture>
{
    [Fact]
    public async Task A_check_cut_by_a_cancel_that_was_taken_back_does_not_start_a_second_upstream_task()
    {
        var path = (await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "check cut by a taken-back cancel" })).Headers.Location!.AbsolutePath;
        await app.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, app.Submits);

        var response = await app.Client.DeleteAsync(path);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode); // the terminate failed; the cancel record was taken back
        Assert.False(await app.HasCancelRecordAsync(path.Split('/')[^1]));

        await app.Cut.Task.WaitAsync(TimeSpan.FromSeconds(10)); // the watcher read the record while the DELETE ran
        var job = await JobsApiTests.PollAsync(app.Client, path, seconds: 45);

        // Its cancel was refused (503) and no terminate came: the job ends, without paying the upstream for a second task.
        Assert.Equal(1, app.Submits);
        Assert.Equal("failed", job.GetProperty("status").GetString());
        Assert.Contains("A cancel stopped the upstream call under way", job.GetProperty("error").GetString());
    }
}

/// <summary>A synchronous provider whose first Submit lasts until it is cut (the request has reached the upstream).</summary>
public sealed class SubmitCutByTakenBackCancelFixture : TakenBackCancelFixture
{
    public SubmitCutByTakenBackCancelFixture() =>
        Provider.Setup(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>()))
            .Returns((ProviderCall _, CancellationToken token) => HangUntilCutAsync(CountSubmit() == 1, token));
}

public sealed class SubmitCutByTakenBackCancelTests(SubmitCutByTakenBackCancelFixture app) : IClassFixture<SubmitCutByTakenBackCancelFixture>
{
    [Fact]
    public async Task A_submit_cut_mid_call_by_a_cancel_that_was_taken_back_is_not_sent_again()
    {
        var path = (await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "submit cut by a taken-back cancel" })).Headers.Location!.AbsolutePath;
        await app.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var response = await app.Client.DeleteAsync(path);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        await app.Cut.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var job = await JobsApiTests.PollAsync(app.Client, path, seconds: 45);

        // A submit is not sent again once the upstream may have taken it (as after a timeout, or an answer that broke off).
        Assert.Equal(1, app.Submits);
        Assert.Equal("failed", job.GetProperty("status").GetString());
    }
}

/// <summary>A synchronous provider that answers its image after 3 s (one look at the cancel record on the way).</summary>
public sealed class SlowSubmitFixture : SeamProviderFixture
{
    int _submits;
    public int Submits => Volatile.Read(ref _submits);

    public SlowSubmitFixture() =>
        Provider.Setup(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>()))
            .Returns(async (ProviderCall _, CancellationToken token) =>
            {
                Interlocked.Increment(ref _submits);
                await Task.Delay(TimeSpan.FromSeconds(3), token);
                return ProviderStep.Done(Image());
            });
}

public sealed class CancelLookFaultTests(SlowSubmitFixture app) : IClassFixture<SlowSubmitFixture>
{
    [Fact]
    public async Task A_look_at_the_cancel_record_that_fails_does_not_throw_away_the_paid_answer()
    {
        var jobId = Functions.Jobs.JobIds.New(DateTimeOffset.UtcNow, isPrivate: false);
        // The cancel table answers the Submit's own read before the call, then refuses (403: a credential that lapsed).
        var table = new Mock<Azure.Data.Tables.TableClient>();
        var absent = new Mock<Azure.NullableResponse<Functions.Jobs.CancelRow>>();
        absent.Setup(r => r.HasValue).Returns(false);
        table.SetupSequence(t => t.GetEntityIfExistsAsync<Functions.Jobs.CancelRow>(jobId, "cancel", It.IsAny<IEnumerable<string>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(absent.Object)
            .ThrowsAsync(new Azure.RequestFailedException(403, "AuthorizationFailure"));
        var cancels = new Functions.Jobs.CancelRequests(table.Object, app.Service<Functions.Storage.StorageBootstrap>(), TimeProvider.System);
        var durable = new Mock<Microsoft.DurableTask.Client.DurableTaskClient>("seam") { CallBase = true };
        durable.Setup(c => c.GetInstanceAsync(jobId, It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new Microsoft.DurableTask.Client.OrchestrationMetadata(Functions.Jobs.GenerationOrchestrator.Name, jobId)
                { RuntimeStatus = Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Running });
        var activities = ActivatorUtilities.CreateInstance<Functions.Jobs.GenerationActivities>(app.App.Services, cancels);
        var call = new Functions.Jobs.UpstreamCall(jobId, new GenerationRequest("paid", "none", "1:1", "grok", null, false, null, null), 0, "grok");

        var thrown = await Record.ExceptionAsync(() => activities.SubmitGeneration(call, durable.Object));

        // The upstream answered (and billed): a step that threw now would be run again by the orchestrator's retry policy.
        Assert.Null(thrown);
        Assert.Equal(1, app.Submits);
    }
}
