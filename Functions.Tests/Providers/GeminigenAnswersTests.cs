using System.Text;
using Functions.Generation;
using Functions.Generation.Providers;
using Functions.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Functions.Tests.Providers;

/// <summary>
/// How <see cref="GeminigenProvider"/> reads each history record and error code of UPSTREAMS.md, one answer at a time
/// from a scripted server: rules a whole generation through the fake would show only as a fallback reason.
/// </summary>
public sealed class GeminigenAnswersTests : IAsyncDisposable
{
    const string TaskId = "task-1";
    readonly ScriptedServer _server = new();
    readonly UpstreamHttp _http = new(Options.Create(new UpstreamOptions { MaxRetries = 0, AttemptTimeoutSeconds = 2, AllowPrivateAddresses = true }),
        NullLogger<UpstreamHttp>.Instance);

    GeminigenProvider Provider() => new(_http, Options.Create(new ProviderOptions { Geminigen = { BaseUrl = _server.BaseUrl } }));

    static readonly ProviderCall Call = new(
        new ProviderRequest(new GenerationRequest("a lighthouse", "None", "1:1", "grok", null, false, null, null), new ImageDimensions(1024, 1024), null),
        "grok", ShippedCatalog.Load().Find("grok")!, "gg-api-key");

    Task<ProviderStep> CheckAnsweredAsync(string record)
    {
        _server.Serve($"/history/{TaskId}", 200, "application/json", Encoding.UTF8.GetBytes(record));
        return Provider().CheckAsync(Call, TaskId, CancellationToken.None);
    }

    [Theory]
    [InlineData("GEMINI_RAI_MEDIA_FILTERED", GenerationErrors.ContentFiltered, false)]
    [InlineData("API_KEY_REQUIRED", GenerationErrors.UpstreamUnauthorized, false)]
    [InlineData("API_KEY_NOT_FOUND", GenerationErrors.UpstreamUnauthorized, false)]
    [InlineData("NOT_ENOUGH_CREDIT", GenerationErrors.UpstreamNoCredit, false)]
    [InlineData("PREMIUM_PLAN_REQUIRED", GenerationErrors.UpstreamNoCredit, false)]
    [InlineData("GEMINI_RATE_LIMIT", GenerationErrors.UpstreamRateLimited, true)]
    [InlineData("RATE_LIMIT_ERROR", GenerationErrors.UpstreamRateLimited, true)]
    [InlineData("TEXT_TOO_LONG", GenerationErrors.UpstreamRejected, false)]
    [InlineData("MAXIMUM_FILE_SIZE_EXCEED", GenerationErrors.UpstreamRejected, false)]
    [InlineData("FILE_TYPE_NOT_ALLOWED", GenerationErrors.UpstreamRejected, false)]
    [InlineData("SYSTEM_ERROR", GenerationErrors.UpstreamError, true)]
    [InlineData("SOMETHING_NEW", GenerationErrors.UpstreamError, true)] // a failed task of unknown cause: another model may do it
    public async Task A_failed_task_ends_with_the_code_its_error_code_means(string errorCode, string code, bool retryable)
    {
        var failed = await Assert.ThrowsAsync<GenerationFailedException>(() => CheckAnsweredAsync(
            $$"""{"uuid": "{{TaskId}}", "status": 3, "error_code": "{{errorCode}}", "error_message": "it failed"}"""));

        Assert.Equal((code, retryable), (failed.Code, failed.Retryable));
        Assert.Equal($"geminigen: {errorCode}: it failed", failed.Message);
    }

    [Theory]
    [InlineData(0, 0, 0)] // queued
    [InlineData(1, 45, 0.45)]
    [InlineData(1, 100, 0.99)] // not 1 until the image is there
    [InlineData(1, 250, 0.99)]
    [InlineData(1, -20, 0)]
    public async Task A_running_task_is_pending_with_its_progress_kept_below_done(int status, int percentage, double progress)
    {
        var step = await CheckAnsweredAsync($$"""{"uuid": "{{TaskId}}", "status": {{status}}, "status_percentage": {{percentage}}}""");

        Assert.Equal((TaskId, progress, (string?)null), (step.TaskId, step.Progress, step.ImageUrl));
    }

    [Fact]
    public async Task A_record_whose_numbers_come_as_strings_is_read_as_the_same_record()
    {
        var running = await CheckAnsweredAsync($$"""{"uuid": "{{TaskId}}", "status": "1", "status_percentage": "45"}""");
        var done = await CheckAnsweredAsync("""{"status": "2", "generated_image": [{"image_url": "https://cdn.example/a.png"}]}""");

        Assert.Equal((TaskId, 0.45), (running.TaskId, running.Progress));
        Assert.Equal("https://cdn.example/a.png", done.ImageUrl);
    }

    [Theory]
    [InlineData("\"NaN\"")]
    [InlineData("\"Infinity\"")]
    [InlineData("\"lots\"")]
    [InlineData("[45]")]
    public async Task A_percentage_that_is_no_finite_number_reads_as_no_progress(string percentage)
    {
        var step = await CheckAnsweredAsync($$"""{"uuid": "{{TaskId}}", "status": 1, "status_percentage": {{percentage}}}""");

        Assert.Equal(0.0, step.Progress);
    }

    [Fact]
    public async Task A_running_record_without_a_percentage_or_a_uuid_is_the_checked_task_at_no_progress()
    {
        var step = await CheckAnsweredAsync("""{"status": 1}""");

        Assert.Equal((TaskId, 0.0), (step.TaskId, step.Progress));
    }

    [Theory]
    [InlineData(1)] // running: the job would check the other task from then on
    [InlineData(2)] // done: the job would store the other task's image, another client's, private or not
    public async Task A_check_answered_with_another_tasks_record_is_no_answer_and_the_checked_task_stays(int status)
    {
        var step = await CheckAnsweredAsync($$"""
            {"uuid": "someone-elses-task", "status": {{status}}, "status_percentage": 50,
             "generated_image": [{"image_url": "https://cdn.example/someone-elses.png"}]}
            """);

        Assert.Equal((TaskId, -1.0, null), (step.TaskId, step.Progress, step.ImageUrl)); // as an unreadable answer: checked again
    }

    // UPSTREAMS.md gives errors with 4xx and 5xx statuses; an error body under a 200 (as a proxy or a new release may send)
    // is that error, not a record in an unknown status.
    [Fact]
    public async Task An_error_body_answered_with_200_is_that_error_at_submit_and_at_check()
    {
        const string credit = """{"detail": {"error_code": "NOT_ENOUGH_CREDIT", "error_message": "Not enough credit"}}""";
        _server.Serve("/imagen/grok", 200, "application/json", Encoding.UTF8.GetBytes(credit));

        var atSubmit = await Assert.ThrowsAsync<GenerationFailedException>(() => Provider().SubmitAsync(Call, CancellationToken.None));
        var atCheck = await Assert.ThrowsAsync<GenerationFailedException>(() => CheckAnsweredAsync(credit));

        foreach (var failed in new[] { atSubmit, atCheck })
            Assert.Equal((GenerationErrors.UpstreamNoCredit, false, "geminigen: NOT_ENOUGH_CREDIT: Not enough credit"),
                (failed.Code, failed.Retryable, failed.Message));
    }

    [Theory]
    [InlineData("SYSTEM_ERROR")]
    [InlineData("GEMINI_RATE_LIMIT")]
    public async Task A_passing_error_answered_with_200_at_a_check_is_a_failed_check_as_under_a_429_or_5xx(string code)
    {
        // Was thrown: the job fell back to another model (paid again) while its paid task might still finish.
        var step = await CheckAnsweredAsync($$$"""{"detail": {"error_code": "{{{code}}}", "error_message": "try later"}}""");

        Assert.Equal((TaskId, -1.0, null), (step.TaskId, step.Progress, step.ImageUrl)); // checked again
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }
}
