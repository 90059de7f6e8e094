using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Functions.Tests.Fakes;

/// <summary>
/// geminigen.ai: the public API under /uapi/v1 (x-api-key) and the website API under /api (Bearer JWT). A submit
/// answers a history record in status 1; GET /history/{uuid} rises in percentage and then answers status 2 with
/// generated_image[].image_url, or status 3 with an error code. Error bodies use both spellings of the message.
/// </summary>
public sealed class FakeGeminigen : FakeUpstream
{
    public const string ApiKey = "gg-test-key-7c1f0a9e55";
    public const string Jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0LXVzZXIifQ.c2lnbmF0dXJlLWZvci10ZXN0cw";

    readonly ConcurrentDictionary<string, TaskState> _tasks = new();

    /// <summary>Checks a task answers in status 1 before it completes.</summary>
    public int PollsToFinish { get; set; } = 2;

    /// <summary>While set, every task stays in status 1 (a long generation).</summary>
    public bool Hold { get; set; }

    public int Submits => Requests.Count(r => r.Method == "POST");

    protected override void Map(WebApplication app)
    {
        app.MapPost("/uapi/v1/{**endpoint}", context => SubmitAsync(context, website: false));
        app.MapPost("/api/{**endpoint}", context => SubmitAsync(context, website: true));
        app.MapGet("/uapi/v1/history/{uuid}", context => CheckAsync(context, website: false));
        app.MapGet("/api/history/{uuid}", context => CheckAsync(context, website: true));
    }

    async Task SubmitAsync(HttpContext context, bool website)
    {
        await RecordAsync(context.Request);
        if (!Authorized(context.Request, website)) { await Unauthorized(context); return; }
        var fault = NextFault(context.Request.Path);
        if (fault is { } f && await TryWriteCommonFaultAsync(context, f, Error)) return;
        switch (fault)
        {
            case Fault.BadCredentials: await Unauthorized(context); return;
            case Fault.NoCredit:
                await Results.Json(new { detail = new { error_code = "NOT_ENOUGH_CREDIT", error_message = "Not enough credit" } }, statusCode: 403).ExecuteAsync(context);
                return;
            case Fault.ConcurrencyLimit:
                await Results.Json(new { detail = new { error_code = "SYSTEM_ERROR", message = "You have reached the maximum of concurrent generations for your plan" } },
                    statusCode: 400).ExecuteAsync(context);
                return;
            case Fault.BadRequest:
                await Results.Json(new { detail = new { error_code = "TEXT_TOO_LONG", message = "Prompt is too long" } }, statusCode: 400).ExecuteAsync(context);
                return;
        }
        var uuid = Guid.NewGuid().ToString();
        _tasks[uuid] = new TaskState(fault);
        await Results.Json(Record(uuid, 1, 0)).ExecuteAsync(context);
    }

    async Task CheckAsync(HttpContext context, bool website)
    {
        await RecordAsync(context.Request);
        if (!Authorized(context.Request, website)) { await Unauthorized(context); return; }
        if (NextFault(context.Request.Path) is { } fault && await TryWriteCommonFaultAsync(context, fault, Error)) return;
        var uuid = (string)context.Request.RouteValues["uuid"]!;
        if (!_tasks.TryGetValue(uuid, out var task))
        {
            await Results.Json(new { detail = new { error_code = "HISTORY_NOT_FOUND", message = "No such generation" } }, statusCode: 404).ExecuteAsync(context);
            return;
        }
        var polls = Interlocked.Increment(ref task.Polls);
        object record = task.Fault switch
        {
            Fault.ContentFiltered => Failed(uuid, "GEMINI_RAI_MEDIA_FILTERED", "The prompt or image was blocked by the safety filter"),
            Fault.TaskFails => Failed(uuid, "SYSTEM_ERROR", "Generation failed upstream"),
            _ when Hold || polls < PollsToFinish => Record(uuid, 1, Math.Min(90, polls * 30)),
            _ => Completed(uuid, ImageUrl(task.Fault is Fault.OversizedImage or Fault.NotAnImage ? task.Fault : null)),
        };
        await Results.Json(record).ExecuteAsync(context);
    }

    static Dictionary<string, object?> Record(string uuid, int status, int percentage) => new()
    {
        ["id"] = Math.Abs(uuid.GetHashCode()), ["uuid"] = uuid, ["status"] = status, ["status_desc"] = status == 1 ? "processing" : "done",
        ["status_percentage"] = percentage, ["error_code"] = null, ["error_message"] = null, ["estimated_credit"] = 2,
        ["created_at"] = "2026-11-20T10:00:00",
    };

    static Dictionary<string, object?> Completed(string uuid, string imageUrl)
    {
        var record = Record(uuid, 2, 100);
        record["generated_image"] = new[] { new { image_url = imageUrl, thumbnail_url = imageUrl } };
        return record;
    }

    static Dictionary<string, object?> Failed(string uuid, string code, string message)
    {
        var record = Record(uuid, 3, 0);
        record["error_code"] = code;
        record["error_message"] = message;
        return record;
    }

    static object Error(int status, string code, string message) => new { detail = new { error_code = code, message } };

    static bool Authorized(HttpRequest request, bool website) => website
        ? request.Headers.Authorization.ToString() == "Bearer " + Jwt
        : request.Headers["x-api-key"].ToString() == ApiKey;

    static Task Unauthorized(HttpContext context) =>
        Results.Json(new { detail = new { error_code = "API_KEY_NOT_FOUND", message = "Invalid API key" } }, statusCode: 401).ExecuteAsync(context);

    sealed class TaskState(Fault? fault)
    {
        public int Polls;
        public Fault? Fault { get; } = fault;
    }
}
