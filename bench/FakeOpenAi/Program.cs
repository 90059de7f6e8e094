using System.Text;

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
    await context.Request.Body.CopyToAsync(Stream.Null); // read the request as a real upstream would
    var authorized = context.Request.Headers.Authorization == "Bearer " + Token;
    context.Response.StatusCode = authorized ? 200 : 401;
    context.Response.ContentType = "application/json";
    if (authorized) Interlocked.Increment(ref answered);
    await context.Response.Body.WriteAsync(authorized ? answer : unauthorized);
});
// How many generations were answered: the bench checks that each path really reached this upstream.
app.MapGet("/answered", () => Results.Text(Interlocked.Read(ref answered).ToString()));
app.Run();
