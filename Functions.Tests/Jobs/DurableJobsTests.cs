using Functions.Generation;
using Functions.Jobs;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Converters;
using Moq;

namespace Functions.Tests.Jobs;

/// <summary>The jobs API's queries of the engine, against pages an engine might answer (a mocked client: the seam is the engine's paging).</summary>
public sealed class DurableJobsTests
{
    readonly Mock<DurableTaskClient> _durable = new("test");

    // Never read: only a canceled job's cancel record is looked up, and these pages hold none.
    internal static readonly CancelRequests NoCancels = null!;

    void EngineAnswers(params Page<OrchestrationMetadata>[] pages) =>
        _durable.Setup(d => d.GetAllInstancesAsync(It.IsAny<OrchestrationQuery>()))
            .Returns(Pageable.Create((string? token, CancellationToken _) => Task.FromResult(pages[token is null ? 0 : int.Parse(token)])));

    static OrchestrationMetadata[] Pending(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new OrchestrationMetadata(GenerationOrchestrator.Name, $"job_0{i:x28}") { RuntimeStatus = OrchestrationRuntimeStatus.Pending })];

    [Theory]
    [InlineData(OrchestrationRuntimeStatus.Pending)]
    [InlineData(OrchestrationRuntimeStatus.Running)]
    public void A_job_the_engine_runs_after_its_cancel_reads_canceled_not_queued_or_running(OrchestrationRuntimeStatus status)
    {
        // DurableTask.AzureStorage marks a job it had not started Terminated, with the cancel's reason as its output; a
        // start it still held then runs it (Running, the output kept) until the terminate its Submit sends lands.
        var job = new OrchestrationMetadata(GenerationOrchestrator.Name, "job_0123456789abcdef0123456789abc")
        {
            RuntimeStatus = status,
            SerializedInput = JsonDataConverter.Default.Serialize(new GenerationJob(
                new GenerationRequest("canceled, then started", "none", "1:1", "grok", null, false, null, null), ["grok"], new JobTimings(600, 2, 10))),
            SerializedOutput = JsonDataConverter.Default.Serialize(JobRecord.CanceledMessage),
            DataConverter = JsonDataConverter.Default,
        };

        var record = JobRecord.From(job);

        Assert.Equal((JobStatus.Canceled, "canceled"), (record.Status, record.ProgressLabel));
        Assert.NotNull(record.FinishedAt);
    }

    [Fact]
    public async Task Queued_jobs_are_counted_up_to_the_bound_and_no_further()
    {
        EngineAnswers(new Page<OrchestrationMetadata>(Pending(2), "1"), new Page<OrchestrationMetadata>(Pending(2)));

        Assert.Equal(3, await _durable.Object.CountQueuedAsync(upTo: 3, default));
        Assert.Equal(4, await _durable.Object.CountQueuedAsync(upTo: 10, default));
    }

    [Fact]
    public async Task A_list_request_asks_the_engine_at_most_ten_times_then_answers_with_where_it_stopped()
    {
        // A filter that matches nothing in a large task hub: every page empty, each with a token to the next.
        var pages = Enumerable.Range(0, 100).Select(i => new Page<OrchestrationMetadata>([], (i + 1).ToString())).ToArray();
        EngineAnswers(pages);

        var (jobs, next) = await _durable.Object.ListJobsAsync(NoCancels, JobStatus.Succeeded, continuationToken: null, pageSize: 20, default);

        Assert.Empty(jobs);
        Assert.Equal("10", next); // has_more, so the client goes on from there
    }

    [Fact]
    public async Task A_last_page_whose_continuation_token_is_empty_has_no_next_page()
    {
        EngineAnswers(new Page<OrchestrationMetadata>([], ""));

        var (jobs, next) = await _durable.Object.ListJobsAsync(NoCancels, status: null, continuationToken: null, pageSize: 10, default);

        Assert.Empty(jobs);
        Assert.Null(next);
    }
}
