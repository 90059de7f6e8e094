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

    /// <summary>The code this fake gives a missing or unknown field; UPSTREAMS.md documents the shape, not a code for it.</summary>
    public const string InvalidFieldCode = "INVALID_PARAMETER";

    /// <summary>The longest prompt taken (TEXT_TOO_LONG beyond): UPSTREAMS.md names the code, not the limit, so none unless a test sets one.</summary>
    public int? MaxPromptLength { get; set; }

    /// <summary>The largest reference file taken (MAXIMUM_FILE_SIZE_EXCEED beyond): as undocumented as the prompt's limit.</summary>
    public long? MaxFileBytes { get; set; }

    static readonly string[] Orientations = ["landscape", "portrait", "square"];

    /// <summary>
    /// The submit endpoints (UPSTREAMS.md) and the values each allows for the fields it documents with values; other
    /// fields (ref_history, file_urls, ...) pass unchecked, the docs giving no rule for them.
    /// </summary>
    static readonly Dictionary<string, Dictionary<string, string[]>> Endpoints = new()
    {
        ["generate_image"] = new()
        {
            ["model"] = ["nano-banana-pro", "nano-banana-2", "imagen-4", "imagen-pro", "imagen-flash", "imagen-4-fast", "imagen-4-ultra"],
            ["aspect_ratio"] = ["1:1", "16:9", "9:16", "4:3", "3:4"],
            ["resolution"] = ["1K", "2K", "4K"],
            ["output_format"] = ["jpeg", "png"],
            ["style"] = ["None", "3D Render", "Acrylic", "Anime General", "Creative", "Dynamic", "Fashion", "Game Concept", "Graphic Design 3D",
                "Illustration", "Photorealistic", "Portrait", "Portrait Cinematic", "Portrait Fashion", "Ray Traced", "Stock Photo", "Watercolor"],
        },
        ["imagen/grok"] = new() { ["orientation"] = Orientations, ["num_result"] = Counts(8) },
        ["meta_ai/generate"] = new() { ["orientation"] = Orientations, ["num_result"] = Counts(4) },
    };

    static string[] Counts(int max) => [.. Enumerable.Range(1, max).Select(n => n.ToString())];

    /// <summary>geminigen's own refusals of a submit, by the fault that asks for one.</summary>
    static readonly Dictionary<Fault, Func<HttpContext, Task>> Refusals = new()
    {
        [Fault.BadCredentials] = context => Unauthorized(context, website: context.Request.Path.StartsWithSegments("/api")),
        [Fault.GeminiRateLimited] = context => RejectAsync(context, 429, Error(429, "GEMINI_RATE_LIMIT", "Gemini rate limit reached, try again later")),
        [Fault.NoCredit] = context => RejectAsync(context, 403, new { detail = new { error_code = "NOT_ENOUGH_CREDIT", error_message = "Not enough credit" } }),
        [Fault.PremiumPlanRequired] = context => RejectAsync(context, 403, Error(403, "PREMIUM_PLAN_REQUIRED", "This model requires a premium plan")),
        [Fault.ConcurrencyLimit] = context =>
            RejectAsync(context, 400, Error(400, "SYSTEM_ERROR", "You have reached the maximum of concurrent generations for your plan")),
        [Fault.BadRequest] = context => RejectAsync(context, 400, Error(400, "TEXT_TOO_LONG", "Prompt is too long")),
    };

    /// <summary>A submit's faults that its task shows at each check (besides the image URL's, <see cref="FakeUpstream.ImageFaults"/>).</summary>
    static readonly Fault[] TaskFaults = [Fault.ContentFiltered, Fault.TaskFails, Fault.TaskFailsWithoutCode, Fault.VerboseRecord, Fault.OversizedRecord, Fault.DeeplyNested];

    // The website API is documented only as mirroring generate_image and history; it is taken to mirror every endpoint (unconfirmed).
    protected override void Map(WebApplication app)
    {
        foreach (var endpoint in Endpoints.Keys)
            foreach (var (route, website) in new[] { ($"/uapi/v1/{endpoint}", false), ($"/api/{endpoint}", true) })
            {
                Shows(route, [.. CommonFaults.Keys, .. Refusals.Keys, .. TaskFaults, .. ImageFaults.Keys, Fault.NumericTaskId]);
                app.MapPost(route, context => SubmitAsync(context, endpoint, website));
            }
        foreach (var (route, website) in new[] { ("/uapi/v1/history/{uuid}", false), ("/api/history/{uuid}", true) })
        {
            Shows(route, [.. CommonFaults.Keys, Fault.TaskGone]);
            app.MapGet(route, context => CheckAsync(context, website));
        }
    }

    async Task SubmitAsync(HttpContext context, string endpoint, bool website)
    {
        await RecordAsync(context.Request);
        if (!Authorized(context.Request, website)) { await Unauthorized(context, website); return; }
        if (await ProblemOfAsync(context.Request, Endpoints[endpoint]) is { } problem)
        {
            await RejectAsync(context, 400, Error(400, problem.Code, problem.Message));
            return;
        }
        var fault = NextFault(context.Request.Path);
        if (fault is { } common && await TryWriteCommonFaultAsync(context, common, Error)) return;
        if (fault is { } own && Refusals.TryGetValue(own, out var refuse))
        {
            await refuse(context);
            return;
        }
        var uuid = fault == Fault.NumericTaskId ? Random.Shared.NextInt64(1, long.MaxValue).ToString() : Guid.NewGuid().ToString();
        _tasks[uuid] = new TaskState(fault);
        var record = Record(uuid, 1, 0);
        if (fault == Fault.NumericTaskId) record["uuid"] = long.Parse(uuid);
        await Results.Json(record).ExecuteAsync(context);
    }

    async Task CheckAsync(HttpContext context, bool website)
    {
        await RecordAsync(context.Request);
        if (!Authorized(context.Request, website)) { await Unauthorized(context, website); return; }
        var uuid = (string)context.Request.RouteValues["uuid"]!;
        if (!_tasks.TryGetValue(uuid, out var task))
        {
            await TaskNotFound(context);
            return;
        }
        var fault = NextFault(context.Request.Path);
        if (fault is { } common && await TryWriteCommonFaultAsync(context, common, Error)) return;
        if (fault == Fault.TaskGone)
        {
            await TaskNotFound(context);
            return;
        }
        var polls = Interlocked.Increment(ref task.Polls);
        object record = task.Fault switch
        {
            Fault.ContentFiltered => Failed(uuid, "GEMINI_RAI_MEDIA_FILTERED", "The prompt or image was blocked by the safety filter"),
            Fault.TaskFails => Failed(uuid, "SYSTEM_ERROR", "Generation failed upstream"),
            Fault.TaskFailsWithoutCode => Failed(uuid, null, "Generation failed upstream"),
            _ when Hold || polls < PollsToFinish => Record(uuid, 1, Math.Min(90, polls * 30)),
            _ => Completed(uuid, ImageUrl(task.Fault), proseBytes: task.Fault switch
            {
                Fault.VerboseRecord => 2_000_000,
                Fault.OversizedRecord => 5_000_000,
                _ => 0,
            }),
        };
        await Results.Json(WithNesting(record, task.Fault)).ExecuteAsync(context);
    }

    static Task TaskNotFound(HttpContext context) => RejectAsync(context, 404, Error(404, "HISTORY_NOT_FOUND", "No such generation"));

    static Dictionary<string, object?> Record(string uuid, int status, int percentage) => new()
    {
        ["id"] = Math.Abs(uuid.GetHashCode()), ["uuid"] = uuid, ["status"] = status, ["status_desc"] = status == 1 ? "processing" : "done",
        ["status_percentage"] = percentage, ["error_code"] = null, ["error_message"] = null, ["estimated_credit"] = 2,
        ["created_at"] = "2026-11-20T10:00:00",
    };

    static Dictionary<string, object?> Completed(string uuid, string imageUrl, int proseBytes = 0)
    {
        var record = Record(uuid, 2, 100);
        record["generated_image"] = new[] { new { image_url = imageUrl, thumbnail_url = imageUrl } };
        if (proseBytes > 0) record["description"] = string.Concat(Enumerable.Repeat("a lighthouse at dusk, painted in watercolor. ", proseBytes / 45));
        return record;
    }

    static Dictionary<string, object?> Failed(string uuid, string? code, string message)
    {
        var record = Record(uuid, 3, 0);
        record["error_code"] = code;
        record["error_message"] = message;
        return record;
    }

    static object Error(int status, string code, string message) => new { detail = new { error_code = code, message } };

    /// <summary>What geminigen refuses in a submit: no multipart form, no prompt, a value not documented, a reference that is no image or too large.</summary>
    async Task<(string Code, string Message)?> ProblemOfAsync(HttpRequest request, Dictionary<string, string[]> allowed)
    {
        if (request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) != true)
            return (InvalidFieldCode, $"The body must be multipart/form-data, not {request.ContentType ?? "nothing"}");
        var form = await request.ReadFormAsync();
        if (string.IsNullOrEmpty(form["prompt"])) return (InvalidFieldCode, "prompt: field required");
        if (form["prompt"].ToString().EnumerateRunes().Count() > MaxPromptLength) return ("TEXT_TOO_LONG", "Prompt is too long");
        foreach (var (field, values) in allowed)
            if (form.TryGetValue(field, out var value) && !values.Contains(value.ToString()))
                return (InvalidFieldCode, $"{field}: '{value}' is not one of {string.Join(", ", values)}");
        foreach (var file in form.Files.GetFiles("files"))
        {
            if (file.ContentType?.StartsWith("image/", StringComparison.OrdinalIgnoreCase) != true)
                return ("FILE_TYPE_NOT_ALLOWED", $"{file.Name}: {file.ContentType ?? "no type"} is not an image");
            if (file.Length > MaxFileBytes) return ("MAXIMUM_FILE_SIZE_EXCEED", $"{file.Name}: {file.Length} bytes is more than {MaxFileBytes}");
        }
        return null;
    }

    static bool Authorized(HttpRequest request, bool website) => website
        ? request.Headers.Authorization.ToString() == "Bearer " + Jwt
        : request.Headers["x-api-key"].ToString() == ApiKey;

    // No key at all is API_KEY_REQUIRED; a key it does not know, API_KEY_NOT_FOUND (UPSTREAMS.md's codes).
    static Task Unauthorized(HttpContext context, bool website) => string.IsNullOrEmpty(context.Request.Headers[website ? "Authorization" : "x-api-key"])
        ? RejectAsync(context, 401, Error(401, "API_KEY_REQUIRED", "An API key is required"))
        : RejectAsync(context, 401, Error(401, "API_KEY_NOT_FOUND", "Invalid API key"));

    sealed class TaskState(Fault? fault)
    {
        public int Polls;
        public Fault? Fault { get; } = fault;
    }
}
