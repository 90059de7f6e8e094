using Functions.Jobs;
using Functions.Generation;
using Functions.Tests.Api;
using Grpc.Core.Interceptors;
using Microsoft.DurableTask.Client.Grpc;
using Microsoft.DurableTask.Worker.Grpc;
using Microsoft.Extensions.DependencyInjection;
using Moq;
using P = Microsoft.DurableTask.Protobuf;

namespace Functions.Tests.Jobs;

/// <summary>
/// The app whose job's Submit is held at the worker until a gate of the test opens (<see cref="Hold"/>), with a
/// synchronous provider that answers at once, and that says when a step's result has reached the engine.
/// </summary>
public abstract class HeldSubmitFixture : SeamProviderFixture
{
    /// <summary>Completes when a step's result has reached the engine (the first: the Submit's).</summary>
    protected TaskCompletionSource SubmitRan { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Generation:SyncWaitSeconds"] = "0" };

    protected HeldSubmitFixture() =>
        Provider.Setup(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>())).ReturnsAsync(ProviderStep.Done(Image()));

    /// <summary>What each work item the engine streams to the worker waits for.</summary>
    protected abstract Task Hold(P.WorkItem item);

    /// <summary>What the app's Durable client calls go through (the DELETE's terminate among them).</summary>
    protected abstract Interceptor ClientCalls { get; }

    protected override void ConfigureServices(IServiceCollection services)
    {
        base.ConfigureServices(services);
        services.ConfigureAll<GrpcDurableTaskClientOptions>(options => options.Interceptors.Add(ClientCalls));
        services.ConfigureAll<GrpcDurableTaskWorkerOptions>(options =>
        {
            options.Interceptors.Add(new AfterCalls("CompleteActivityTask", () => SubmitRan.TrySetResult()));
            options.Interceptors.Add(new HeldWorkItems(Hold));
        });
    }
}

/// <summary>
/// The app whose engine is caught between dispatching a job's Submit and applying its cancel, as a DELETE right after
/// the 202 finds it: the Submit waits until a DELETE has sent its terminate, and the job's next step (where the engine
/// would apply the terminate) waits until the Submit has run.
/// </summary>
public sealed class SubmitAfterTerminateFixture : HeldSubmitFixture
{
    readonly TaskCompletionSource _terminateSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
    int _orchestratorSteps;
    int _terminates;

    /// <summary>Completes when the job's Submit has been dispatched to the worker (and is held).</summary>
    public TaskCompletionSource SubmitHeld { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Terminates => Volatile.Read(ref _terminates);

    protected override Interceptor ClientCalls => new AfterCalls("TerminateInstance", () =>
    {
        Interlocked.Increment(ref _terminates);
        _terminateSent.TrySetResult();
    });

    protected override Task Hold(P.WorkItem item) => item.RequestCase switch
    {
        P.WorkItem.RequestOneofCase.ActivityRequest => HoldSubmit(),
        P.WorkItem.RequestOneofCase.OrchestratorRequest when Interlocked.Increment(ref _orchestratorSteps) > 1 => SubmitRan.Task,
        _ => Task.CompletedTask,
    };

    Task HoldSubmit()
    {
        SubmitHeld.TrySetResult();
        return _terminateSent.Task;
    }
}

public sealed class CancelBeforeSubmitTests(SubmitAfterTerminateFixture app) : IClassFixture<SubmitAfterTerminateFixture>
{
    [Fact]
    public async Task A_submit_dispatched_before_the_engine_applied_the_cancel_calls_no_upstream_and_a_forget_keeps_the_cancel_record_as_its_mark()
    {
        var path = (await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "canceled as its submit is dispatched" })).Headers.Location!.AbsolutePath;
        var jobId = path.Split('/')[^1];
        await app.SubmitHeld.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var canceled = await (await app.Client.DeleteAsync(path)).Content.ReadFromJsonAsync<JsonElement>();

        Assert.True(canceled.GetProperty("deleted").GetBoolean(), canceled.GetRawText());
        Assert.Equal("canceled", (await app.Client.GetFromJsonAsync<JsonElement>(path)).GetProperty("status").GetString());
        app.Provider.Verify(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>()), Times.Never());
        Assert.Equal(1, app.Terminates); // the DELETE's own: the Submit sent none of its own
        Assert.True(await app.HasCancelRecordAsync(jobId));

        Assert.Equal(HttpStatusCode.OK, (await app.Client.DeleteAsync(path)).StatusCode); // forgets the ended job

        // Kept, marked, until the daily purge removes it with the instance: a start the engine still held finds it.
        Assert.True(await app.Service<CancelRequests>().WasForgottenAsync(jobId, CancellationToken.None));
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync(path)).StatusCode);
    }
}

/// <summary>
/// The app whose engine cannot be reached for a terminate; everything else works. Its worker takes no work until a
/// terminate has failed, so the job is still queued when its cancel comes.
/// </summary>
public sealed class UnreachableTerminateFixture : AppFixture
{
    readonly UnreachableTerminates _terminates = new();

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Generation:SyncWaitSeconds"] = "0" };

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.ConfigureAll<GrpcDurableTaskClientOptions>(options => options.Interceptors.Add(_terminates));
        services.ConfigureAll<GrpcDurableTaskWorkerOptions>(options => options.Interceptors.Add(new HeldCalls("GetWorkItems", () => _terminates.Failed.Task)));
    }
}

public sealed class UnsentCancelTests(UnreachableTerminateFixture app) : IClassFixture<UnreachableTerminateFixture>
{
    [Fact]
    public async Task A_cancel_whose_terminate_could_not_be_sent_answers_503_and_leaves_the_job_to_run()
    {
        var (path, response) = await JobsApiTests.SubmitThenDeleteAsync(app.Client, "its cancel never reached the engine");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("The job engine is not reachable right now; try again shortly.",
            (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        // Its cancel record was taken back: the job's Submit runs, and the job ends with its image.
        await Eventually.HoldsAsync(async () =>
            (await app.Client.GetFromJsonAsync<JsonElement>(path)).GetProperty("status").GetString() == "succeeded");
        Assert.False(await app.HasCancelRecordAsync(path.Split('/')[^1]));
    }
}
