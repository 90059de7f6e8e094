using System.Net.Http.Headers;
using System.Net;
using System.Text.Json.Nodes;
using Functions.Contracts.Kioai;

namespace Functions.Generation.Providers;

/// <summary>
/// geminigen.ai, asynchronous: a multipart POST answers with a history record (processing), and
/// <c>GET /history/{uuid}</c> is checked until it is completed (image URLs) or failed (an error code). A saved token that is a JWT
/// goes to the website API as Bearer; any other to the public API as x-api-key (setting <c>Providers:Geminigen:Auth</c>).
/// </summary>
public sealed class GeminigenProvider(UpstreamHttp http, IOptions<ProviderOptions> providers)
    : IImageProvider
{
    public const string ProviderName = "geminigen";
    const string ImagenEndpoint = "generate_image";
    // A history record's status, as ../shared/specs/UPSTREAMS.md ("geminigen.ai") lists them.
    const int Processing = 1, Completed = 2, Failed = 3;
    // Not listed there: taken for a task still queued, pending as Processing is.
    const int Queued = 0;
    readonly GeminigenOptions _options = providers.Value.Geminigen;

    public string Name => ProviderName;

    public bool Asynchronous => true;

    public async Task<ProviderStep> SubmitAsync(ProviderCall call, CancellationToken cancellationToken)
    {
        var (url, fields) = (SubmitUrl(call), FieldsOf(call));
        var response = await http.SendAsync(Name, () =>
        {
            var form = new MultipartFormDataContent();
            foreach (var (name, value) in fields) form.Add(new StringContent(value), name);
            if (call.Input.ReferenceImage is { } reference)
            {
                var type = ImageInspector.ReadHeader(reference.Span)?.ContentType ?? ImageFormats.Png;
                var file = new ReadOnlyMemoryContent(reference);
                file.Headers.ContentType = new MediaTypeHeaderValue(type);
                // Quoted name and filename, with the type's extension; no filename* (RFC 7578, 4.2), which .NET adds by itself.
                file.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data")
                    { Name = "\"files\"", FileName = $"\"reference.{ImageFormats.ExtensionOf(type)}\"" };
                form.Add(file);
            }
            return Authorized(new HttpRequestMessage(HttpMethod.Post, url) { Content = form }, call.Token);
        }, cancellationToken, UpstreamCallKind.StartTask);
        return Step(call, response);
    }

    public async Task<ProviderStep> CheckAsync(ProviderCall call, string taskId, CancellationToken cancellationToken)
    {
        var url = $"{BaseOf(call.Token)}/history/{Uri.EscapeDataString(taskId)}";
        UpstreamResponse response;
        try
        {
            response = await http.SendAsync(Name, () => Authorized(new HttpRequestMessage(HttpMethod.Get, url), call.Token), cancellationToken,
                UpstreamCallKind.Check);
        }
        // A failed check is not a failed task: check again, until the deadline. But a record past the answer cap (it carries
        // the image's URL, not the image) will be as large at every check: the task's answer cannot be read, now or later.
        catch (GenerationFailedException e) when (e.Retryable && e.Code != GenerationErrors.InvalidUpstreamImage)
        {
            return ProviderStep.Unknown(taskId, e.Message);
        }
        if (response.Status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or >= HttpStatusCode.InternalServerError)
            return ProviderStep.Unknown(taskId, $"geminigen answered {(int)response.Status}");
        // The task is gone upstream: nothing the client did, and another model may still make the image.
        if (response.Status == HttpStatusCode.NotFound)
            throw new GenerationFailedException(GenerationErrors.UpstreamError, $"geminigen no longer knows the task {taskId} (404).", retryable: true);
        return Step(call, response, checkedTask: taskId);
    }

    /// <summary>
    /// A history record to the next step. An answer that cannot be read fails a submit (another model may do better),
    /// but counts as "still pending" for a check, as a failed check does: the task, already paid for, is checked again
    /// until the job's deadline.
    /// </summary>
    ProviderStep Step(ProviderCall call, UpstreamResponse response, string? checkedTask = null)
    {
        var json = response.Json(call.Token);
        if (!response.IsSuccess) throw Failure((int)response.Status, json?["detail"]);
        ProviderStep Unreadable(string what) => checkedTask is not null
            ? ProviderStep.Unknown(checkedTask, $"geminigen's answer could not be read ({what})")
            : throw UpstreamFailures.Malformed(Name, what);
        if (json is not { } record) return Unreadable(UpstreamResponse.Unreadable);
        // UPSTREAMS.md's errors come with 4xx and 5xx statuses; one under a 200 (a proxy's, a new release's) is still that error.
        if (record["status"] is null && UpstreamJson.StringMember(record["detail"], "error_code") is not null)
        {
            // At a check, a passing one (a rate limit, the upstream's own fault) is a failed check, as under a 429 or 5xx.
            var failure = Failure(200, record["detail"]);
            return checkedTask is not null && failure.Retryable ? ProviderStep.Unknown(checkedTask, failure.Message) : throw failure;
        }
        // A check's answer about another task (a cache or proxy mix-up) is none: followed, it would hand this job another's image.
        var uuid = UpstreamJson.CodeMember(record, "uuid"); // a number too, as written: read as none, its paid task was left
        if (checkedTask is not null && uuid is not null && !uuid.Equals(checkedTask, StringComparison.OrdinalIgnoreCase))
            return Unreadable($"a record of another task ({uuid})");

        var debug = Debug(call, response, record);
        var status = UpstreamJson.WholeNumberMember(record, "status") ?? -1;
        switch (status)
        {
            case Completed:
                // Completed is final: a record without its URL will not get one, so another model is tried.
                var imageUrl = UpstreamJson.StringMember((record["generated_image"] as JsonArray)?.FirstOrDefault(), "image_url")
                    ?? throw UpstreamFailures.Malformed(Name, "a completed record without generated_image[].image_url");
                return ProviderStep.Ready(imageUrl, debug);
            case Failed:
                throw Failure(200, record);
            case Queued or Processing:
                var percent = UpstreamJson.NumberMember(record, "status_percentage") ?? 0;
                return (checkedTask ?? uuid) is { } task ? ProviderStep.Pending(task, Math.Clamp(percent / 100, 0, 0.99), debug) : Unreadable("a record without a uuid");
            default:
                return Unreadable($"a record in an unknown status ({record["status"]?.ToJsonString() ?? "none"})");
        }
    }

    /// <summary>An error body ({"detail": {"error_code", "message" | "error_message"}}) or a failed record, to a failure.</summary>
    GenerationFailedException Failure(int httpStatus, JsonNode? detail)
    {
        var code = UpstreamJson.StringMember(detail, "error_code");
        var message = UpstreamJson.StringMember(detail, "message") ?? UpstreamJson.StringMember(detail, "error_message")
            ?? UpstreamJson.TextOf(detail);
        var reason = $"geminigen: {code ?? (httpStatus == 200 ? "the task failed" : httpStatus.ToString())}" + (message is null ? "" : $": {message}");
        return code switch
        {
            "GEMINI_RAI_MEDIA_FILTERED" => new(GenerationErrors.ContentFiltered, reason),
            "API_KEY_REQUIRED" or "API_KEY_NOT_FOUND" => new(GenerationErrors.UpstreamUnauthorized, reason),
            "NOT_ENOUGH_CREDIT" or "PREMIUM_PLAN_REQUIRED" => new(GenerationErrors.UpstreamNoCredit, reason),
            "GEMINI_RATE_LIMIT" or "RATE_LIMIT_ERROR" => new(GenerationErrors.UpstreamRateLimited, reason, retryable: true),
            "TEXT_TOO_LONG" or "MAXIMUM_FILE_SIZE_EXCEED" or "FILE_TYPE_NOT_ALLOWED" => new(GenerationErrors.UpstreamRejected, reason),
            // The plan's limit of concurrent generations: busy now, fine later.
            _ when httpStatus == 400 && message?.Contains("concurrent", StringComparison.OrdinalIgnoreCase) == true =>
                new(GenerationErrors.UpstreamRateLimited, reason, retryable: true),
            _ when httpStatus is 200 or >= 500 || code == "SYSTEM_ERROR" => new(GenerationErrors.UpstreamError, reason, retryable: true),
            _ => UpstreamFailures.FromStatus(Name, (HttpStatusCode)httpStatus, code, message),
        };
    }

    List<(string Name, string Value)> FieldsOf(ProviderCall call)
    {
        var request = call.Input.Request;
        var shape = UpstreamMapping.NearestShape(call.Entry.Shapes, request.AspectRatio);
        // grok and meta take no style field: there, as on SiliconFlow and OpenAI, the style's words go in the prompt.
        var imagen = EndpointOf(call) == ImagenEndpoint;
        List<(string, string)> fields = [("prompt", imagen ? request.Prompt : UpstreamMapping.StyledPrompt(request))];
        if (imagen)
        {
            fields.Add(("model", call.UpstreamModel));
            fields.Add(("aspect_ratio", shape));
            fields.Add(("style", UpstreamMapping.GeminigenStyles.GetValueOrDefault(request.Style, "None")));
            fields.Add(("output_format", "png"));
            // None asked for (or a fallback that takes none): the upstream's default, 1K.
            if (request.Resolution is { } resolution && call.Entry.Resolutions.Contains(resolution)) fields.Add(("resolution", resolution));
        }
        else
        {
            fields.Add(("orientation", shape));
            fields.Add(("num_result", "1"));
        }
        return fields;
    }

    // The request is the submit's (what was asked for), the response the record just read: the submit's own answer, or
    // the check that found the task done, with that check's status and duration (README, "Providers and the model catalog").
    ApiDebugInfo Debug(ProviderCall call, UpstreamResponse response, JsonObject record)
    {
        var body = new JsonObject();
        foreach (var (name, value) in FieldsOf(call)) body[name] = value;
        if (call.Input.ReferenceImage is { } reference) body["files"] = $"<file: {reference.Length} bytes>";
        return ApiDebugRedaction.Create(SubmitUrl(call), "POST",
            [KeyValuePair.Create(UsesBearer(call.Token) ? "Authorization" : "x-api-key", call.Token)], body,
            (int)response.Status, record, response.Duration);
    }

    HttpRequestMessage Authorized(HttpRequestMessage message, string token)
    {
        if (UsesBearer(token)) message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        else message.Headers.Add("x-api-key", token);
        return message;
    }

    string SubmitUrl(ProviderCall call) => $"{BaseOf(call.Token)}/{EndpointOf(call)}";

    static string EndpointOf(ProviderCall call) => (call.Entry.Endpoint ?? ImagenEndpoint).Trim('/');

    string BaseOf(string token) => (UsesBearer(token) ? _options.WebBaseUrl : _options.BaseUrl).TrimEnd('/');

    bool UsesBearer(string token) => _options.Auth.ToLowerInvariant() switch
    {
        "bearer" => true,
        "apikey" => false,
        _ => IsJwt(token),
    };

    /// <summary>Three non-empty Base64url parts separated by dots.</summary>
    public static bool IsJwt(string token) =>
        token.Split('.') is [var a, var b, var c] && new[] { a, b, c }.All(part =>
            part.Length > 0 && part.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '='));
}
