using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Functions.Tests.Fakes;

/// <summary>What a fake upstream does instead of its normal answer, on demand.</summary>
public enum Fault
{
    RateLimited, ServerError, Unavailable, Hang, MalformedJson, SlowBody, OversizedImage, NotAnImage, ExpiredUrl,
    ContentFiltered, BadCredentials, NoCredit, ConcurrencyLimit, BadRequest, TaskFails,
    /// <summary>JSON that is no object (an array), as an answer or as an error body.</summary>
    NotAnObject,
    /// <summary>A JSON object holding more values than any image API sends (an array of 20,000 zeros).</summary>
    TooManyValues,
    /// <summary>A 401 in the provider's error shape whose message runs to 100,000 characters.</summary>
    HugeErrorBody,
    /// <summary>The image URL announces more bytes than it sends, then drops the connection.</summary>
    CutOffImage,
    /// <summary>The answer's headers and part of its body, then the connection drops.</summary>
    BrokenAnswer,
    /// <summary>The upstream quotes the key it was sent in its error message.</summary>
    EchoesKey,
    /// <summary>The key may not use this model (a 403 that is no matter of credit).</summary>
    Forbidden,
    /// <summary>A 403 with an empty body, as a proxy in front of the API may answer.</summary>
    BareForbidden,
    /// <summary>A 307 to /elsewhere on the same fake, which records whatever follows it there.</summary>
    Redirect,
    /// <summary>geminigen's history answers 404 HISTORY_NOT_FOUND, as for a task it does not know.</summary>
    TaskGone,
    /// <summary>The usual answer, <see cref="FakeUpstream.SlowFor"/> late (a Bearer-keyed JSON API's call under way for that long).</summary>
    Slow,
    /// <summary>A 408: the upstream gave up waiting for the request (no spec lists it: the proxy in front of the service answers it, as nginx does).</summary>
    RequestTimeout,
    /// <summary>The connection closes before any answer, as when the upstream cannot be reached.</summary>
    NoAnswer,
    /// <summary>A 429 whose Retry-After asks for a minute: longer than any retry delay the tests allow.</summary>
    RateLimitedForAMinute,
    /// <summary>A 429 whose Retry-After is an HTTP date an hour from now: the other form of a wait too long to make.</summary>
    RateLimitedForAnHourByDate,
    /// <summary>A 429 whose Retry-After asks for 2 s: exactly the longest retry delay the provider fixture allows.</summary>
    RateLimitedForTheLongestWait,
    /// <summary>An OpenAI-compatible answer that carries the image both as b64_json and as a url.</summary>
    BothImageForms,
    /// <summary>The image URL serves the PNG as image/jpeg.</summary>
    MislabelledImage,
    /// <summary>A geminigen task that fails (status 3) with no error code, only a message.</summary>
    TaskFailsWithoutCode,
    /// <summary>The key's plan does not include the model (geminigen's PREMIUM_PLAN_REQUIRED, a 403).</summary>
    PremiumPlanRequired,
    /// <summary>OpenAI's moderation of GPT image models refused the prompt (a 400 moderation_blocked).</summary>
    ModerationBlocked,
    /// <summary>The account's spending limit is reached (OpenAI's 400 billing_hard_limit_reached).</summary>
    BillingHardLimit,
    /// <summary>A 502: the upstream's own model failed (AIImg's, auto-refunded); from geminigen or SiliconFlow, whose specs list no 502, the proxy in front of them.</summary>
    BadGateway,
    /// <summary>A 504: the upstream's gateway gave up waiting (SiliconFlow's "overloaded"; from geminigen or AIImg, whose specs list no 504, their proxy's).</summary>
    GatewayTimeout,
    /// <summary>A 402: no balance left (AIImg's "Insufficient T-coin balance").</summary>
    PaymentRequired,
    /// <summary>geminigen's own rate limit (429 GEMINI_RATE_LIMIT), apart from the gateway's RATE_LIMIT_ERROR.</summary>
    GeminiRateLimited,
    /// <summary>A 400 that quotes the whole prompt back (an upstream's "Your prompt was rejected: …").</summary>
    EchoesPrompt,
    /// <summary>A geminigen task whose finished record also carries 2 MB of prose (a description of the image, say).</summary>
    VerboseRecord,
    /// <summary>The same with 5 MB of prose: past the 4 MiB cap on a task's record.</summary>
    OversizedRecord,
    /// <summary>The usual answer with one field more, <see cref="FakeUpstream.NestingDepth"/> arrays deep (a reader takes 64 levels).</summary>
    DeeplyNested,
}

/// <summary>One request a fake received: method, path, headers, (form or JSON) fields, and when it arrived.</summary>
public sealed record FakeRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, IReadOnlyDictionary<string, string> Fields,
    DateTimeOffset ReceivedAt);

/// <summary>
/// A provider's API on loopback, speaking its documented protocol, with faults on demand: <see cref="Fail"/> makes the
/// next requests to a path (prefix) answer with a fault. It serves the images it hands out under /img/.
/// </summary>
public abstract class FakeUpstream : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly List<(string PathPrefix, Fault Fault, int Remaining)> _faults = [];
    public ConcurrentQueue<FakeRequest> Requests { get; } = new();

    /// <summary>The image every successful generation answers with: a real 8x6 PNG.</summary>
    public static readonly byte[] Image = TestImages.Png(8, 6);

    /// <summary>How long a hang or a slow body lasts: longer than any attempt timeout the tests set.</summary>
    public static readonly TimeSpan HangFor = TimeSpan.FromSeconds(30);

    /// <summary>How late a <see cref="Fault.Slow"/> answer comes: long enough to stop a process while the call is under way.</summary>
    public static readonly TimeSpan SlowFor = TimeSpan.FromSeconds(1);

    protected FakeUpstream()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapGet("/img/{name}", ServeImageAsync);
        _app.Map("/elsewhere/{**rest}", async context => { await RecordAsync(context.Request); context.Response.StatusCode = 404; });
        Map(_app);
        _app.StartAsync().GetAwaiter().GetResult();
        BaseUrl = _app.Urls.First();
    }

    public string BaseUrl { get; }

    /// <summary>How deep a <see cref="Fault.DeeplyNested"/> answer's extra field goes: deeper than apiDebug can show within 64 levels.</summary>
    public const int NestingDepth = 60;

    /// <summary>The answer, with a field <see cref="NestingDepth"/> arrays deep added under <see cref="Fault.DeeplyNested"/>.</summary>
    protected static object WithNesting(object answer, Fault? fault)
    {
        if (fault != Fault.DeeplyNested) return answer;
        var nested = new JsonArray();
        for (var level = 1; level < NestingDepth; level++) nested = new JsonArray(nested);
        var withField = JsonSerializer.SerializeToNode(answer)!.AsObject();
        withField["layers"] = nested;
        return withField;
    }

    protected abstract void Map(WebApplication app);

    public void Fail(string pathPrefix, Fault fault, int times = int.MaxValue)
    {
        lock (_faults) _faults.Add((pathPrefix, fault, times));
    }

    public void ClearFaults()
    {
        lock (_faults) _faults.Clear();
    }

    public int CountOf(string pathPrefix) => Requests.Count(r => r.Path.StartsWith(pathPrefix, StringComparison.Ordinal));

    /// <summary>How many times an image of this fake was fetched (fetches are not kept in <see cref="Requests"/>).</summary>
    public int ImagesServed => _imagesServed;
    int _imagesServed;

    protected Fault? NextFault(string path)
    {
        lock (_faults)
        {
            var index = _faults.FindIndex(f => path.StartsWith(f.PathPrefix, StringComparison.Ordinal) && f.Remaining > 0);
            if (index < 0) return null;
            var rule = _faults[index];
            _faults[index] = rule with { Remaining = rule.Remaining - 1 };
            return rule.Fault;
        }
    }

    protected async Task<FakeRequest> RecordAsync(HttpRequest request)
    {
        var fields = new Dictionary<string, string>();
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync();
            foreach (var (key, value) in form) fields[key] = value.ToString();
            foreach (var file in form.Files)
            {
                fields[file.Name] = $"<file {file.Length} bytes {file.ContentType}>";
                fields[file.Name + ".disposition"] = file.ContentDisposition;
            }
        }
        else if (await ReadJsonObjectAsync(request) is (JsonObject json, null))
        {
            foreach (var (name, value) in json)
                fields[name] = value?.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value?.ToJsonString() ?? "null";
        }
        var recorded = new FakeRequest(request.Method, request.Path, request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), fields,
            DateTimeOffset.UtcNow);
        Requests.Enqueue(recorded);
        return recorded;
    }

    /// <summary>
    /// The body of a JSON API's request: its object, or why there is none (not sent as application/json, not JSON, not
    /// an object). Reads from the start, so a request buffered by <see cref="BeginBearerCallAsync"/> can be read again.
    /// </summary>
    protected static async Task<(JsonObject? Body, string? Problem)> ReadJsonObjectAsync(HttpRequest request)
    {
        if (request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true)
            return (null, $"the body is sent as {request.ContentType ?? "no content type"}, not application/json");
        if (request.Body.CanSeek) request.Body.Position = 0;
        try
        {
            return await JsonNode.ParseAsync(request.Body, documentOptions: NoDuplicateMembers) is JsonObject body ? (body, null) : (null, "the body is not a JSON object");
        }
        catch (JsonException e)
        {
            return (null, $"the body is not JSON ({e.Message})");
        }
    }

    // A member named twice is no body the providers take (a JsonObject built of one threw on first use, and the fake answered 500).
    static readonly JsonDocumentOptions NoDuplicateMembers = new() { AllowDuplicateProperties = false };

    /// <summary>Writes a refusal in the provider's error shape: every error answer of every fake goes out here.</summary>
    protected static Task RejectAsync(HttpContext context, int status, object errorBody) =>
        Results.Json(errorBody, statusCode: status).ExecuteAsync(context);

    /// <summary>
    /// The start every Bearer-keyed JSON API shares: record the request, refuse a wrong key with 401, write the shared
    /// faults. Null when the answer is already written; else the request and the fault left for the provider to show.
    /// </summary>
    protected async Task<(FakeRequest Request, Fault? Fault)?> BeginBearerCallAsync(
        HttpContext context, string key, Func<int, string, string, object> errorBody, object unauthorizedBody)
    {
        context.Request.EnableBuffering(); // read twice: recorded, then checked against the contract
        var request = await RecordAsync(context.Request);
        if (context.Request.Headers.Authorization.ToString() != "Bearer " + key)
        {
            await RejectAsync(context, 401, unauthorizedBody);
            return null;
        }
        var fault = NextFault(context.Request.Path);
        if (fault == Fault.Slow)
        {
            await Task.Delay(SlowFor, context.RequestAborted);
            return (request, null);
        }
        if (fault is { } f && await TryWriteCommonFaultAsync(context, f, errorBody)) return null;
        return (request, fault);
    }

    /// <summary>The shared faults that are only a status and an error body.</summary>
    static readonly Dictionary<Fault, (int Status, string Code, string Message)> StatusFaults = new()
    {
        [Fault.ServerError] = (500, "SYSTEM_ERROR", "Internal error\nTraceback (most recent call last):\n  File \"server.py\", line 42, in generate\nRuntimeError: CUDA out of memory"),
        [Fault.RequestTimeout] = (408, "REQUEST_TIMEOUT", "Request timed out"),
        [Fault.BadGateway] = (502, "SYSTEM_ERROR", "Upstream model failure"),
        [Fault.Unavailable] = (503, "SYSTEM_ERROR", "Service overloaded"),
        [Fault.GatewayTimeout] = (504, "SYSTEM_ERROR", "Gateway timeout"),
    };

    /// <summary>The faults every provider shares, written in the provider's error shape; false when the fault is the provider's own.</summary>
    protected async Task<bool> TryWriteCommonFaultAsync(HttpContext context, Fault fault, Func<int, string, string, object> errorBody)
    {
        var response = context.Response;
        if (StatusFaults.TryGetValue(fault, out var plain))
        {
            await RejectAsync(context, plain.Status, errorBody(plain.Status, plain.Code, plain.Message));
            return true;
        }
        switch (fault)
        {
            case Fault.RateLimited or Fault.RateLimitedForAMinute or Fault.RateLimitedForTheLongestWait:
                response.Headers.RetryAfter = fault switch { Fault.RateLimited => "1", Fault.RateLimitedForTheLongestWait => "2", _ => "60" };
                await RejectAsync(context, 429, errorBody(429, "RATE_LIMIT_ERROR", "Too many requests"));
                return true;
            case Fault.RateLimitedForAnHourByDate:
                response.Headers.RetryAfter = DateTimeOffset.UtcNow.AddHours(1).ToString("R");
                await RejectAsync(context, 429, errorBody(429, "RATE_LIMIT_ERROR", "Too many requests"));
                return true;
            case Fault.NoAnswer:
                context.Abort();
                return true;
            case Fault.Hang:
                await Task.Delay(HangFor, context.RequestAborted).ContinueWith(_ => { });
                return true;
            case Fault.MalformedJson:
                response.ContentType = "application/json";
                await response.WriteAsync("{\"status\": 1, \"uuid\": ");
                return true;
            case Fault.NotAnObject:
                response.ContentType = "application/json";
                await response.WriteAsync("[1, 2]");
                return true;
            case Fault.BareForbidden:
                response.StatusCode = StatusCodes.Status403Forbidden;
                return true;
            case Fault.HugeErrorBody:
                await RejectAsync(context, 401, errorBody(401, "invalid_api_key", "Invalid key. " + new string('x', 100_000)));
                return true;
            case Fault.TooManyValues:
                response.ContentType = "application/json";
                await response.WriteAsync($"{{\"status\": 1, \"data\": [{string.Join(',', Enumerable.Repeat('0', 20_000))}]}}");
                return true;
            case Fault.BrokenAnswer:
                response.ContentType = "application/json";
                response.ContentLength = 1000;
                await response.WriteAsync("{\"status\": 1, ");
                await response.Body.FlushAsync();
                await Task.Delay(300); // the reader has the headers and the first bytes, and waits for the rest when the connection drops
                context.Abort();
                return true;
            case Fault.Redirect:
                response.StatusCode = StatusCodes.Status307TemporaryRedirect;
                response.Headers.Location = $"{BaseUrl}/elsewhere{context.Request.Path}";
                return true;
            case Fault.SlowBody:
                response.ContentType = "application/json";
                await response.WriteAsync("{\"padding\": \"");
                await response.Body.FlushAsync();
                await Task.Delay(HangFor, context.RequestAborted).ContinueWith(_ => { });
                return true;
            default:
                return false;
        }
    }

    /// <summary>A URL of this fake's image, carrying the fault the image route should show.</summary>
    protected string ImageUrl(Fault? fault) => $"{BaseUrl}/img/{Guid.NewGuid():N}.png" + (fault is { } f ? $"?fault={f}" : "");

    async Task ServeImageAsync(HttpContext context)
    {
        Interlocked.Increment(ref _imagesServed);
        var fault = Enum.TryParse<Fault>(context.Request.Query["fault"], out var f) ? f : (Fault?)null;
        var response = context.Response;
        response.ContentType = "image/png";
        switch (fault)
        {
            case Fault.NotAnImage:
                await response.WriteAsync("<html><body>Expired or missing</body></html>");
                break;
            case Fault.OversizedImage:
                await response.Body.WriteAsync(Image.AsMemory(0, 16));
                await response.Body.WriteAsync(new byte[3 * 1024 * 1024]);
                break;
            case Fault.CutOffImage:
                response.ContentLength = Image.Length + 5000;
                await response.Body.WriteAsync(Image);
                await response.Body.FlushAsync();
                await Task.Delay(300); // the reader has the headers and the bytes, and waits for the rest when the connection drops
                context.Abort();
                break;
            case Fault.MislabelledImage:
                response.ContentType = "image/jpeg";
                await response.Body.WriteAsync(Image);
                break;
            case Fault.ExpiredUrl:
                response.StatusCode = 403;
                response.ContentType = "application/xml";
                await response.WriteAsync("<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>");
                break;
            default:
                await response.Body.WriteAsync(Image);
                break;
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
