using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ErrorBody = System.Func<int, string, string, object>; // (status, code, message) to the provider's error shape
using FaultWriter = System.Func<Microsoft.AspNetCore.Http.HttpContext, System.Func<int, string, string, object>, System.Threading.Tasks.Task>;

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
    /// <summary>A JSON object one of whose strings holds a byte that is no UTF-8 (as a Latin-1 proxy might pass on).</summary>
    NotUtf8,
    /// <summary>A 400 in the provider's error shape whose message holds a byte that is no UTF-8.</summary>
    RefusalNotUtf8,
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
    /// <summary>A 429 whose Retry-After asks for more seconds than an Int32 holds (about 3,000 years): a wait, if not one .NET parses.</summary>
    RateLimitedForMillennia,
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
    /// <summary>An OpenAI-compatible gateway's 400 whose error is a plain string (<c>{"error": "…"}</c>), not OpenAI's object.</summary>
    ErrorAsText,
    /// <summary>geminigen's submit answers the task's uuid as a JSON number, not the string its docs show (its id's kind).</summary>
    NumericTaskId,
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
/// next requests to a path (prefix) that the fake takes (its key and body checked) answer with a fault. It serves the
/// images it hands out under /img/.
/// </summary>
public abstract class FakeUpstream : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly List<(string PathPrefix, Fault Fault, int Remaining)> _faults = [];
    readonly Dictionary<string, IReadOnlySet<Fault>> _faultsByRoute = [];
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

    /// <summary>Maps the provider's routes, each declared with <see cref="Shows"/>.</summary>
    protected abstract void Map(WebApplication app);

    /// <summary>Declares the faults a request to <paramref name="route"/> (a route template, as mapped) shows: the only ones <see cref="Fail"/> takes for it.</summary>
    protected void Shows(string route, IEnumerable<Fault> faults) => _faultsByRoute[route] = faults.ToHashSet();

    /// <summary>
    /// Makes the next <paramref name="times"/> requests under <paramref name="pathPrefix"/> show <paramref name="fault"/>;
    /// refuses a fault that some route under the prefix would take and answer as usual, so that no test passes without its fault.
    /// </summary>
    public void Fail(string pathPrefix, Fault fault, int times = int.MaxValue)
    {
        var routes = _faultsByRoute.Where(route => Reaches(pathPrefix, route.Key)).ToList();
        if (routes.Count == 0) throw new ArgumentException($"{GetType().Name} has no route under {pathPrefix} to show {fault} at", nameof(pathPrefix));
        if (routes.Where(route => !route.Value.Contains(fault)).Select(route => route.Key).ToList() is [_, ..] blind)
            throw new ArgumentException($"{GetType().Name} does not show {fault} at {string.Join(", ", blind)}", nameof(fault));
        lock (_faults) _faults.Add((pathPrefix, fault, times));
    }

    // A request path under the prefix can reach the route: the prefix begins the route, or runs into its first parameter.
    static bool Reaches(string pathPrefix, string route)
    {
        var literal = route.Split('{')[0];
        return literal.StartsWith(pathPrefix, StringComparison.Ordinal) || literal != route && pathPrefix.StartsWith(literal, StringComparison.Ordinal);
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

    /// <summary>The faults <see cref="BeginBearerCallAsync"/> shows itself.</summary>
    protected static IEnumerable<Fault> BearerCallFaults => CommonFaults.Keys.Append(Fault.Slow);

    /// <summary>
    /// The start every Bearer-keyed JSON API shares: record the request, refuse a wrong key with 401, let the provider
    /// refuse its body (<paramref name="refuseBodyAsync"/> writes the refusal and answers true), then write the shared
    /// faults. Null when the answer is already written; else the request and the fault left for the provider to show.
    /// </summary>
    protected async Task<(FakeRequest Request, Fault? Fault)?> BeginBearerCallAsync(HttpContext context, string key,
        ErrorBody errorBody, object unauthorizedBody, Func<HttpContext, Task<bool>> refuseBodyAsync)
    {
        context.Request.EnableBuffering(); // read twice: recorded, then checked against the contract
        var request = await RecordAsync(context.Request);
        if (context.Request.Headers.Authorization.ToString() != "Bearer " + key)
        {
            await RejectAsync(context, 401, unauthorizedBody);
            return null;
        }
        if (await refuseBodyAsync(context)) return null;
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

    /// <summary>The faults every provider shares, each written in the provider's error shape (the second argument).</summary>
    protected static readonly IReadOnlyDictionary<Fault, FaultWriter> CommonFaults =
        StatusFaults.ToDictionary(plain => plain.Key, plain => (FaultWriter)((context, errorBody) =>
            RejectAsync(context, plain.Value.Status, errorBody(plain.Value.Status, plain.Value.Code, plain.Value.Message))))
        .Concat(new Dictionary<Fault, FaultWriter>
        {
            [Fault.RateLimited] = (context, errorBody) => RateLimitedAsync(context, errorBody, "1"),
            [Fault.RateLimitedForTheLongestWait] = (context, errorBody) => RateLimitedAsync(context, errorBody, "2"),
            [Fault.RateLimitedForAMinute] = (context, errorBody) => RateLimitedAsync(context, errorBody, "60"),
            [Fault.RateLimitedForMillennia] = (context, errorBody) => RateLimitedAsync(context, errorBody, "99999999999"),
            [Fault.RateLimitedForAnHourByDate] = (context, errorBody) => RateLimitedAsync(context, errorBody, DateTimeOffset.UtcNow.AddHours(1).ToString("R")),
            [Fault.NoAnswer] = (context, _) => { context.Abort(); return Task.CompletedTask; },
            [Fault.Hang] = (context, _) => Task.Delay(HangFor, context.RequestAborted).ContinueWith(_ => { }),
            [Fault.MalformedJson] = (context, _) => WriteJsonAsync(context, "{\"status\": 1, \"uuid\": "),
            [Fault.NotAnObject] = (context, _) => WriteJsonAsync(context, "[1, 2]"),
            [Fault.BareForbidden] = (context, _) => { context.Response.StatusCode = StatusCodes.Status403Forbidden; return Task.CompletedTask; },
            [Fault.HugeErrorBody] = (context, errorBody) => RejectAsync(context, 401, errorBody(401, "invalid_api_key", "Invalid key. " + new string('x', 100_000))),
            [Fault.TooManyValues] = (context, _) => WriteJsonAsync(context, $"{{\"status\": 1, \"data\": [{string.Join(',', Enumerable.Repeat('0', 20_000))}]}}"),
            [Fault.NotUtf8] = (context, _) => WriteWithAByteNoUtf8Async(context, 200, new { status = 1, note = "#" }),
            [Fault.RefusalNotUtf8] = (context, errorBody) => WriteWithAByteNoUtf8Async(context, 400, errorBody(400, "INVALID_REQUEST", "Bad prompt: #")),
            [Fault.BrokenAnswer] = async (context, _) =>
            {
                context.Response.ContentLength = 1000;
                await WriteJsonAsync(context, "{\"status\": 1, ");
                await context.Response.Body.FlushAsync();
                await Task.Delay(300); // the reader has the headers and the first bytes, and waits for the rest when the connection drops
                context.Abort();
            },
            [Fault.Redirect] = (context, _) =>
            {
                var request = context.Request;
                context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
                context.Response.Headers.Location = $"{request.Scheme}://{request.Host}/elsewhere{request.Path}";
                return Task.CompletedTask;
            },
            [Fault.SlowBody] = async (context, _) =>
            {
                await WriteJsonAsync(context, "{\"padding\": \"");
                await context.Response.Body.FlushAsync();
                await Task.Delay(HangFor, context.RequestAborted).ContinueWith(_ => { });
            },
        }).ToDictionary();

    static Task RateLimitedAsync(HttpContext context, ErrorBody errorBody, string retryAfter)
    {
        context.Response.Headers.RetryAfter = retryAfter;
        return RejectAsync(context, 429, errorBody(429, "RATE_LIMIT_ERROR", "Too many requests"));
    }

    /// <summary>The body as JSON, its last '#' written as the byte 0xFF, which no UTF-8 text holds.</summary>
    static async Task WriteWithAByteNoUtf8Async(HttpContext context, int status, object body)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(body, JsonSerializerOptions.Web);
        json[Array.LastIndexOf(json, (byte)'#')] = 0xFF;
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(json);
    }

    static Task WriteJsonAsync(HttpContext context, string json)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(json);
    }

    /// <summary>Writes <paramref name="fault"/> if it is one every provider shares; false when it is the provider's own.</summary>
    protected static async Task<bool> TryWriteCommonFaultAsync(HttpContext context, Fault fault, ErrorBody errorBody)
    {
        if (!CommonFaults.TryGetValue(fault, out var write)) return false;
        await write(context, errorBody);
        return true;
    }

    /// <summary>A URL of this fake's image, carrying <paramref name="fault"/> when it is one the image route shows.</summary>
    protected string ImageUrl(Fault? fault) =>
        $"{BaseUrl}/img/{Guid.NewGuid():N}.png" + (fault is { } f && ImageFaults.ContainsKey(f) ? $"?fault={f}" : "");

    /// <summary>A PNG's first 16 bytes and 3 MiB of zeros: an image past every cap the tests set.</summary>
    protected static readonly byte[] OversizedImageBytes = [.. Image.AsSpan(0, 16), .. new byte[3 * 1024 * 1024]];

    /// <summary>The faults an image URL of a fake shows, when the answer that handed it out carried one.</summary>
    protected static readonly IReadOnlyDictionary<Fault, Func<HttpResponse, Task>> ImageFaults = new Dictionary<Fault, Func<HttpResponse, Task>>
    {
        [Fault.NotAnImage] = response => response.WriteAsync("<html><body>Expired or missing</body></html>"),
        [Fault.OversizedImage] = response => response.Body.WriteAsync(OversizedImageBytes).AsTask(),
        [Fault.CutOffImage] = async response =>
        {
            response.ContentLength = Image.Length + 5000;
            await response.Body.WriteAsync(Image);
            await response.Body.FlushAsync();
            await Task.Delay(300); // the reader has the headers and the bytes, and waits for the rest when the connection drops
            response.HttpContext.Abort();
        },
        [Fault.MislabelledImage] = response =>
        {
            response.ContentType = "image/jpeg";
            return response.Body.WriteAsync(Image).AsTask();
        },
        [Fault.ExpiredUrl] = response =>
        {
            response.StatusCode = 403;
            response.ContentType = "application/xml";
            return response.WriteAsync("<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>");
        },
    };

    async Task ServeImageAsync(HttpContext context)
    {
        Interlocked.Increment(ref _imagesServed);
        context.Response.ContentType = "image/png";
        if (Enum.TryParse<Fault>(context.Request.Query["fault"], out var fault) && ImageFaults.TryGetValue(fault, out var write)) await write(context.Response);
        else await context.Response.Body.WriteAsync(Image);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
