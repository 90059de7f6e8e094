using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Functions.Tests.Fakes;

/// <summary>
/// An OpenAI-compatible image API: POST /v1/images/generations answers data[] with b64_json, or with url when the
/// request asks response_format=url; errors are {"error": {"message", "type", "param", "code"}}.
/// </summary>
public sealed class FakeOpenAi : FakeUpstream
{
    public const string Key = "sk-oa-test-93ab71c2e4";

    protected override void Map(WebApplication app) => app.MapPost("/v1/images/generations", async context =>
    {
        if (await BeginBearerCallAsync(context, Key, Error, Error(401, "invalid_api_key", "Incorrect API key provided")) is not { } call) return;
        var (request, fault) = call;
        switch (fault)
        {
            case Fault.ContentFiltered:
                await Results.Json(Error(400, "content_policy_violation", "Your request was rejected by the safety system"), statusCode: 400).ExecuteAsync(context);
                return;
            case Fault.NoCredit:
                await Results.Json(Error(429, "insufficient_quota", "You exceeded your current quota"), statusCode: 429).ExecuteAsync(context);
                return;
            case Fault.BadRequest:
                await Results.Json(Error(400, "invalid_size", "Invalid size"), statusCode: 400).ExecuteAsync(context);
                return;
            case Fault.EchoesKey:
                await Results.Json(Error(400, "invalid_request", $"Key {Key} may not use this model"), statusCode: 400).ExecuteAsync(context);
                return;
        }
        object data = request.Fields.GetValueOrDefault("response_format") == "url"
            ? new { url = ImageUrl(fault is Fault.NotAnImage or Fault.OversizedImage ? fault : null), revised_prompt = request.Fields["prompt"] }
            : new { b64_json = Convert.ToBase64String(fault == Fault.NotAnImage ? "not an image at all"u8.ToArray() : Image), revised_prompt = request.Fields["prompt"] };
        await Results.Json(new { created = 1763600000, data = new[] { data }, usage = new { total_tokens = 100 } }).ExecuteAsync(context);
    });

    static object Error(int status, string code, string message) => new { error = new { message, type = status >= 500 ? "server_error" : "invalid_request_error", param = (string?)null, code } };
}
