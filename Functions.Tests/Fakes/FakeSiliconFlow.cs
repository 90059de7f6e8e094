using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Functions.Tests.Fakes;

/// <summary>
/// SiliconFlow: POST /v1/images/generations (Bearer, JSON) answers images[].url at once, URLs that expire; errors are
/// {"code", "message", "data"} with 400 (bad parameters), 401 (key), 403 (balance), 429 and 503. A body that breaks
/// the request schema of specs/siliconflow-images.openapi.json (a required field missing, a value out of range) is a
/// 400, as the service answers bad parameters.
/// </summary>
public sealed class FakeSiliconFlow : FakeUpstream
{
    public const string Key = "sk-sf-test-4b8e2d1c90";

    /// <summary>The code this fake gives a parameter error; SiliconFlow documents the shape, not each code.</summary>
    public const int InvalidParameterCode = 20015;

    static readonly JsonNode RequestSchema =
        OpenApiContract.SiliconFlow.At("/paths/~1images~1generations/post/requestBody/content/application~1json/schema");

    protected override void Map(WebApplication app) => app.MapPost("/v1/images/generations", async context =>
    {
        context.Request.EnableBuffering(); // read twice: recorded, then checked against the contract
        if (await BeginBearerCallAsync(context, Key, Error, Error(401, "20001", "Invalid token")) is not { } call) return;
        var fault = call.Fault;
        switch (fault)
        {
            case Fault.NoCredit: await Results.Json(Error(403, "30001", "Sorry, your account balance is insufficient"), statusCode: 403).ExecuteAsync(context); return;
            case Fault.BadRequest: await Results.Json(Error(400, "20012", "Model does not exist. Please check it carefully."), statusCode: 400).ExecuteAsync(context); return;
            case Fault.BadCredentials: await Results.Json(Error(401, "20001", "Invalid token"), statusCode: 401).ExecuteAsync(context); return;
            case Fault.Forbidden: await Results.Json(Error(403, "30011", "The model is not available for your account"), statusCode: 403).ExecuteAsync(context); return;
        }
        if (await ParameterProblemAsync(context.Request) is { } problem)
        {
            await Results.Json(new { code = InvalidParameterCode, message = $"Parameter is invalid: {problem}", data = (object?)null }, statusCode: 400)
                .ExecuteAsync(context);
            return;
        }
        context.Response.Headers["x-siliconcloud-trace-id"] = Guid.NewGuid().ToString("N");
        var url = ImageUrl(fault is Fault.ExpiredUrl or Fault.NotAnImage or Fault.OversizedImage or Fault.CutOffImage ? fault : null);
        await Results.Json(new { images = new[] { new { url } }, timings = new { inference = 0.42 }, seed = 4242 }).ExecuteAsync(context);
    });

    // Enums are not checked: the spec lists Kolors and its sizes only, UPSTREAMS.md documents Qwen-Image's as well.
    static async Task<string?> ParameterProblemAsync(HttpRequest request)
    {
        request.Body.Position = 0;
        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(request.Body);
        }
        catch (System.Text.Json.JsonException e)
        {
            return $"the body is not JSON ({e.Message})";
        }
        return OpenApiContract.SiliconFlow.Check(body, RequestSchema, enums: false).FirstOrDefault();
    }

    static object Error(int status, string code, string message) => new { code = int.TryParse(code, out var number) ? number : 50000, message, data = (object?)null };
}
