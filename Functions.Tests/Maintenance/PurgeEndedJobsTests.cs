using Functions.Generation;
using Functions.Files;
using Functions.Hosting;
using Functions.Jobs;
using Functions.LocalHost;
using Functions.Maintenance;
using Functions.Tests.Api;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Functions.Tests.Maintenance;

/// <summary>
/// The purge of ended jobs past the retention, on the real app and its Durable backend: each is forgotten as its DELETE
/// would forget it (the instance, its reference copy, its idempotency key), its image stays, and younger jobs stay.
/// </summary>
public sealed class PurgeEndedJobsTests(AppFixture app) : IClassFixture<AppFixture>
{
    DurableTaskClient Durable => app.Service<DurableTaskClient>();

    [Fact]
    public async Task An_ended_job_created_before_the_cutoff_is_forgotten_as_its_delete_would_and_its_image_stays()
    {
        var key = Guid.NewGuid().ToString();
        var body = new { prompt = "purged in time", model = "nano-banana-pro", referenceImageMime = "image/png",
            referenceImageBase64 = Convert.ToBase64String(TestImages.Png(8, 8)) };
        var submitted = await JobsApiTests.SubmitAsyncAsync(app.Client, body, key);
        var job = await JobsApiTests.PollAsync(app.Client, submitted.Headers.Location!.AbsolutePath);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        var jobId = job.GetProperty("id").GetString()!;
        var instance = (await Durable.GetInstanceAsync(jobId, getInputsAndOutputs: true))!;
        var referenceCopy = instance.ReadInputAs<GenerationJob>()!.Request.ReferenceFileId!;
        var image = job.GetProperty("artifacts")[0].GetString()!;
        var kept = await JobsApiTests.SubmitAndFinishAsync(app.Client, new { prompt = "created after the cutoff" });

        var (notYet, _) = await app.Service<EndedJobs>().ForgetEndedBeforeAsync(Durable, DateTimeOffset.UtcNow.AddDays(-1), default);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync($"/api/v1/jobs/{jobId}")).StatusCode);
        // Just after the engine made the first job's instance; the second was made once the first had ended, later.
        var (forgotten, failed) = await app.Service<EndedJobs>().ForgetEndedBeforeAsync(Durable, instance.CreatedAt.AddMilliseconds(1), default);

        Assert.Equal(0, notYet);
        Assert.True(forgotten >= 1);
        Assert.Equal(0, failed);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync($"/api/v1/jobs/{jobId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync($"/api/v1/jobs/{kept}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync($"/api/v1/files/{image}/download")).StatusCode); // the image stays
        Assert.Null(await app.Service<FileStore>().GetAsync(referenceCopy, default)); // what only the job needed goes
        var again = await JobsApiTests.SubmitAsyncAsync(app.Client, body, key); // the key makes a new job
        Assert.False(again.Headers.Contains("Idempotent-Replayed"));
        Assert.NotEqual(submitted.Headers.Location, again.Headers.Location);
    }

    [Theory]
    [InlineData(1, 2, true)] // ended a day past the retention: forgotten
    [InlineData(30, 2, false)] // within it: kept
    [InlineData(0, 40_000, false)] // 0 keeps jobs until deleted
    public async Task The_timer_forgets_the_jobs_past_the_retention_counted_from_today(double retentionDays, int daysLater, bool forgotten)
    {
        var jobId = await JobsApiTests.SubmitAndFinishAsync(app.Client, new { prompt = $"retained {retentionDays} days" });
        var timer = new PurgeEndedJobs(app.Service<EndedJobs>(), app.Service<IdempotencyKeys>(), Options.Create(new GenerationOptions { JobRetentionDays = retentionDays }),
            new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(daysLater)), NullLogger<PurgeEndedJobs>.Instance);

        await timer.RunAsync(new TimerInfo(), Durable, default);

        var status = (await app.Client.GetAsync($"/api/v1/jobs/{jobId}")).StatusCode;
        Assert.Equal(forgotten ? HttpStatusCode.NotFound : HttpStatusCode.OK, status);
    }

    [Theory]
    [InlineData(0)] // jobs kept until deleted
    [InlineData(30)] // within the retention
    public async Task A_canceled_job_a_delete_forgot_is_purged_by_the_timer_a_day_later_whatever_the_retention(double retentionDays)
    {
        // Scheduled for later, so that the engine takes its cancel before its start, as it may under load.
        var jobId = JobIds.New(DateTimeOffset.UtcNow, isPrivate: false);
        await Durable.ScheduleNewOrchestrationInstanceAsync(GenerationOrchestrator.Name, new GenerationJob(
                new GenerationRequest("forgotten, then purged", "none", "1:1", "grok", null, false, null, null), ["grok"], new JobTimings(600, 2, 10)),
            new Microsoft.DurableTask.StartOrchestrationOptions(jobId, StartAt: DateTimeOffset.UtcNow.AddHours(1)));
        Assert.True((await (await app.Client.DeleteAsync($"/api/v1/jobs/{jobId}")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deleted").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await app.Client.DeleteAsync($"/api/v1/jobs/{jobId}")).StatusCode); // forgotten, its instance kept
        Assert.NotNull(await Durable.GetInstanceAsync(jobId));
        PurgeEndedJobs Timer(int daysLater) => new(app.Service<EndedJobs>(), app.Service<IdempotencyKeys>(), Options.Create(new GenerationOptions { JobRetentionDays = retentionDays }),
            new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(daysLater)), NullLogger<PurgeEndedJobs>.Instance);

        await Timer(daysLater: 0).RunAsync(new TimerInfo(), Durable, default);
        Assert.NotNull(await Durable.GetInstanceAsync(jobId)); // the same day: kept for a start the engine may still hold
        await Timer(daysLater: 2).RunAsync(new TimerInfo(), Durable, default);

        Assert.Null(await Durable.GetInstanceAsync(jobId));
        Assert.False(await app.HasCancelRecordAsync(jobId));
    }

    [Fact]
    public async Task The_timer_removes_lapsed_idempotency_keys_even_of_a_job_never_scheduled_and_keeps_live_ones()
    {
        // A request killed between binding its key and scheduling its job left a binding that no job's forget removes.
        var keys = app.Service<IdempotencyKeys>();
        await app.Service<Functions.Storage.StorageBootstrap>().EnsureCreatedAsync(default); // as a request does first, when this test runs first
        var (lapsed, live) = (Guid.NewGuid().ToString(), Guid.NewGuid().ToString());
        var now = DateTimeOffset.UtcNow;
        await keys.BindAsync(lapsed, new KeyUse(JobIds.New(now, false), "body", now - IdempotencyKeys.Lifetime - TimeSpan.FromHours(1)), _ => Task.FromResult(false), default);
        await keys.BindAsync(live, new KeyUse(JobIds.New(now, false), "body", now), _ => Task.FromResult(false), default);
        var timer = new PurgeEndedJobs(app.Service<EndedJobs>(), keys, Options.Create(new GenerationOptions { JobRetentionDays = 0 }),
            TimeProvider.System, NullLogger<PurgeEndedJobs>.Instance);

        await timer.RunAsync(new TimerInfo(), Durable, default);

        var table = app.Service<Azure.Data.Tables.TableServiceClient>().GetTableClient(Functions.Storage.StorageNames.IdempotencyTable);
        Assert.False((await table.GetEntityIfExistsAsync<KeyRow>(IdempotencyKeys.HashOfKey(lapsed), "key")).HasValue);
        Assert.NotNull(await keys.FindAsync(live, default));
    }

    [Fact]
    public void The_purge_runs_once_a_day_at_03_43_UTC()
    {
        var purge = FunctionCatalog.Of(typeof(PurgeEndedJobs).Assembly, new HostJson("api", "Hub", 1)).Timers.Single(t => t.Name == nameof(PurgeEndedJobs));
        var from = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

        var first = purge.Schedule!.Next(from);

        Assert.Equal(new DateTimeOffset(2026, 12, 1, 3, 43, 0, TimeSpan.Zero), first);
        Assert.Equal(first.AddDays(1), purge.Schedule.Next(first));
    }

    [Fact]
    public async Task A_forget_that_finds_the_job_already_purged_says_so_and_its_delete_answers_404()
    {
        var jobId = await JobsApiTests.SubmitAndFinishAsync(app.Client, new { prompt = "forgotten twice" });
        var seen = (await Durable.GetInstanceAsync(jobId, getInputsAndOutputs: true))!; // as a second DELETE read it, before the first purged it

        Assert.True(await app.Service<EndedJobs>().ForgetAsync(Durable, seen, default));
        Assert.False(await app.Service<EndedJobs>().ForgetAsync(Durable, seen, default));
        var again = await app.Client.DeleteAsync($"/api/v1/jobs/{jobId}");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task Of_two_concurrent_deletes_of_an_ended_job_one_deletes_it_and_the_other_answers_404()
    {
        var jobId = await JobsApiTests.SubmitAndFinishAsync(app.Client, new { prompt = "deleted twice at once" });

        var answers = await Task.WhenAll(app.Client.DeleteAsync($"/api/v1/jobs/{jobId}"), app.Client.DeleteAsync($"/api/v1/jobs/{jobId}"));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.NotFound], answers.Select(a => a.StatusCode).Order());
    }
}
