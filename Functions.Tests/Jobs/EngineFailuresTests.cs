using DurableTask.Core;
using DurableTask.Core.Exceptions;
using Functions.Generation;
using Functions.Jobs;
using Functions.LocalHost;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Converters;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Moq;

namespace Functions.Tests.Jobs;

/// <summary>
/// A job the engine failed, not one of its steps: most often a deployment that changed the orchestrator's steps while
/// it ran (its replay then no longer matches its history). Built from what the engine records (the seam: a full
/// reproduction needs two builds of the app, which the closing note of the change did by hand).
/// </summary>
public sealed class EngineFailuresTests
{
    const string JobId = "job_0123456789abcdef0123456789abc";
    const string NonDeterministic = "Non-Deterministic workflow detected: A previous execution of this orchestration scheduled an activity task " +
        "with sequence number 3 named 'CheckGeneration', but the current orchestration replay instead scheduled an activity task named 'CheckUpstreamTask'";
    static readonly string StepFailureStatus = JsonDataConverter.Default.Serialize(new JobProgress("failed", null, DateTimeOffset.UtcNow, "upstream_rejected", "refused"))!;

    static OrchestrationMetadata FailedJob(TaskFailureDetails? details, string? output, string? customStatus = null) =>
        new(GenerationOrchestrator.Name, JobId)
        {
            RuntimeStatus = OrchestrationRuntimeStatus.Failed,
            SerializedInput = JsonDataConverter.Default.Serialize(new GenerationJob(
                new GenerationRequest("a heron", "none", "1:1", "grok", null, false, null, null), ["grok"], new JobTimings(600, 2, 10))),
            SerializedOutput = output,
            SerializedCustomStatus = customStatus ?? JsonDataConverter.Default.Serialize(new JobProgress("generating", 0, DateTimeOffset.UtcNow)),
            FailureDetails = details,
            DataConverter = JsonDataConverter.Default,
        };

    public static TheoryData<string?, string?, string> Failures => new()
    {
        { typeof(NonDeterministicOrchestrationException).FullName, null, EngineFailures.StepsChangedMessage },
        { null, NonDeterministic, EngineFailures.StepsChangedMessage }, // a store that keeps only the text
        { null, "Orchestrator function 'GenerationOrchestrator' failed: " + NonDeterministic, EngineFailures.StepsChangedMessage }, // with a host's words before it
        { typeof(InvalidOperationException).FullName, null, GenerationErrors.GenerationFailedMessage },
        { null, "something else", GenerationErrors.GenerationFailedMessage },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void A_job_failed_by_the_engine_says_whether_a_deployment_changed_its_steps_never_the_engine_s_text(string? errorType, string? output, string error)
    {
        var details = errorType is null ? null : new TaskFailureDetails(errorType, output ?? "engine text", null, null, null);

        var record = JobRecord.From(FailedJob(details, output));

        Assert.Equal((JobStatus.Failed, GenerationErrors.GenerationFailed, error), (record.Status, record.ErrorCode, record.Error));
    }

    public static TheoryData<string?, string> RowsWrittenAgainFromTheHistory => new()
    {
        { null, "{0}" }, // the local host's engine: the failure's text is the output
        { "null", "{0}" },
        { JsonDataConverter.Default.Serialize(new JobProgress("generating", 0.3, DateTimeOffset.UtcNow)), "{0}" }, // an earlier status
        { null, "Functions.Jobs.JobFailedException: {0}" }, // with a host's words before it
        { null, "quoted" }, // as a JSON string
    };

    [Theory]
    [MemberData(nameof(RowsWrittenAgainFromTheHistory))]
    public void A_failed_job_whose_row_lost_its_custom_status_reads_its_code_reason_and_start_from_the_failure(string? customStatus, string output)
    {
        var started = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var thrown = new JobFailedException(new JobProgress("failed", null, started, "upstream_timeout", "imagen-4: unfinished at the deadline \"x\" é"));
        var instance = FailedJob(null, output == "quoted" ? JsonDataConverter.Default.Serialize(thrown.Message) : output.Replace("{0}", thrown.Message));
        instance = new OrchestrationMetadata(instance.Name, instance.InstanceId)
        {
            RuntimeStatus = instance.RuntimeStatus, SerializedInput = instance.SerializedInput, SerializedOutput = instance.SerializedOutput,
            SerializedCustomStatus = customStatus, DataConverter = JsonDataConverter.Default,
        };

        var record = JobRecord.From(instance);

        Assert.Equal((JobStatus.Failed, "upstream_timeout", "imagen-4: unfinished at the deadline \"x\" é", started),
            (record.Status, record.ErrorCode, record.Error, record.StartedAt));
    }

    [Fact]
    public void A_failure_text_without_a_failed_status_is_none()
    {
        Assert.Null(JobFailedException.StatusIn(null));
        Assert.Null(JobFailedException.StatusIn("imagen-4: geminigen: TEXT_TOO_LONG"));
        Assert.Null(JobFailedException.StatusIn("{\"Label\":\"failed\",\"Progress\":"));
        Assert.Null(JobFailedException.StatusIn(NonDeterministic));
    }

    [Fact]
    public void A_job_a_step_failed_keeps_its_own_code_and_reason()
    {
        var record = JobRecord.From(FailedJob(null, NonDeterministic, StepFailureStatus));

        Assert.Equal(("upstream_rejected", "refused"), (record.ErrorCode, record.Error));
    }

    static OrchestrationState Ended(OrchestrationStatus status, string? customStatus, FailureDetails? details, string? output) => new()
    {
        OrchestrationInstance = new OrchestrationInstance { InstanceId = JobId, ExecutionId = "e1" },
        OrchestrationStatus = status,
        Status = customStatus,
        FailureDetails = details,
        Output = output,
    };

    static async Task<FakeLogCollector> CompleteAsync(OrchestrationState state)
    {
        var logger = new FakeLogger();
        var service = new SidecarOrchestrationService(new Mock<IOrchestrationService>().Object, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), logger);
        await service.CompleteTaskOrchestrationWorkItemAsync(new TaskOrchestrationWorkItem { InstanceId = JobId }, null!, [], [], [], null!, state);
        return logger.Collector;
    }

    [Fact]
    public async Task The_local_host_logs_a_job_failed_by_a_change_of_its_steps_as_a_warning_naming_the_job()
    {
        var logs = await CompleteAsync(Ended(OrchestrationStatus.Failed, null,
            new FailureDetails(typeof(NonDeterministicOrchestrationException).FullName!, NonDeterministic, null, null, false), NonDeterministic));

        var line = Assert.Single(logs.GetSnapshot());
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains($"Job {JobId} failed: its history no longer matches the orchestrator's steps", line.Message);
        Assert.Contains("'CheckUpstreamTask'", line.Message);
    }

    [Fact]
    public async Task The_local_host_logs_any_other_engine_failure_as_an_error_with_its_type()
    {
        var logs = await CompleteAsync(Ended(OrchestrationStatus.Failed, "{\"Label\":\"generating\"}",
            new FailureDetails("System.InvalidOperationException", "broken\nsecond line", null, null, false), "broken"));

        var line = Assert.Single(logs.GetSnapshot());
        Assert.Equal(LogLevel.Error, line.Level);
        Assert.Contains($"Job {JobId} failed outside its steps (in the job engine, or in the orchestrator's own code): System.InvalidOperationException: broken second line",
            line.Message);
    }

    [Fact]
    public async Task A_job_a_step_failed_or_that_completed_adds_no_line_of_the_local_host()
    {
        Assert.Empty((await CompleteAsync(Ended(OrchestrationStatus.Failed, StepFailureStatus, null, "refused"))).GetSnapshot());
        Assert.Empty((await CompleteAsync(Ended(OrchestrationStatus.Completed, null, null, "{}"))).GetSnapshot());
    }
}
