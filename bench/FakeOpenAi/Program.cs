using System.Text;
using System.Text.Json;

// A zero-latency OpenAI images upstream on loopback: POST /v1/images/generations answers one small PNG as b64_json at
// once, so whatever a gateway adds on top of it is the gateway's own cost. Listens where --urls or ASPNETCORE_URLS say.
const string Token = "sk-bench-fake-upstream"; // the bench's callers must forward it, as they would a real key
const string PngBase64 = // a real 8x8 RGB PNG, 165 bytes
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAbElEQVR42hXNQRUAUQhCUaMYhShGeVGIQhSizB+XXA7ODDtouIHBQ4YOM8suWm5h8ZKl+0CskDiBsIioHhx76LiDw0eO3oN/4FVf+J8h0PduzBqZ8x/bxNQPwgaFy192SGgelC0q13/CJaXlA8Z7WAFXOTbyAAAAAElFTkSuQmCC";
var answer = Encoding.UTF8.GetBytes($$$"""{"created":1763600000,"data":[{"b64_json":"{{{PngBase64}}}"}],"usage":{"total_tokens":100}}""");
var unauthorized = Encoding.UTF8.GetBytes("""{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""");
long answered = 0;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
app.MapPost("/v1/images/generations", async context =>
{
    var authorized = context.Request.Headers.Authorization == "Bearer " + Token;
    // Checked as a real upstream checks it, so that a gateway that mangles the body fails the bench's count.
    var problem = authorized ? await ProblemOfAsync(context.Request) : null;
    context.Response.StatusCode = !authorized ? 401 : problem is null ? 200 : 400;
    context.Response.ContentType = "application/json";
    if (context.Response.StatusCode == 200) Interlocked.Increment(ref answered);
    await context.Response.Body.WriteAsync(!authorized ? unauthorized : problem ?? answer);
});
// How many generations were answered: the bench checks that each path really reached this upstream.
app.MapGet("/answered", () => Results.Text(Interlocked.Read(ref answered).ToString()));
app.Run();

// What OpenAI refuses that a forwarded bench request could get wrong: not JSON, no prompt, a model it does not serve.
static async Task<byte[]?> ProblemOfAsync(HttpRequest request)
{
    if (request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true) return Invalid("The body must be JSON.");
    try
    {
        using var body = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { AllowDuplicateProperties = false }); // as the test fakes: a member named twice is a 400
        var root = body.RootElement;
        if (root.ValueKind != JsonValueKind.Object) return Invalid("The body must be a JSON object.");
        if (!root.TryGetProperty("prompt", out var prompt) || prompt.ValueKind != JsonValueKind.String || prompt.GetString()!.Length == 0)
            return Invalid("Missing required parameter: 'prompt'.");
        if (root.TryGetProperty("model", out var model) && (model.ValueKind != JsonValueKind.String || model.GetString() is not ("gpt-image-1" or "dall-e-3" or "dall-e-2")))
            return Invalid("Invalid value for 'model'.");
        return null;
    }
    catch (JsonException)
    {
        return Invalid("We could not parse the JSON body of your request.");
    }
}

static byte[] Invalid(string message) => JsonSerializer.SerializeToUtf8Bytes(new { error = new { message, type = "invalid_request_error", param = (string?)null, code = (string?)null } });
