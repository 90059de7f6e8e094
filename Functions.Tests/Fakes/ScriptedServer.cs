using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Functions.Tests.Fakes;

/// <summary>
/// A loopback HTTP server that answers each path as a test scripts it (a status, a media type and the body's bytes, or
/// no answer at all), for tests of the upstream call rules themselves rather than of a provider's protocol.
/// </summary>
public sealed class ScriptedServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly ConcurrentDictionary<string, Answer> _answers = new();

    /// <summary>What a path answers; a null body means the server never answers (until the client goes away).</summary>
    public sealed record Answer(int Status, string ContentType, byte[]? Body, string? Location = null, string? RetryAfter = null);

    public ScriptedServer()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Run(AnswerAsync);
        _app.StartAsync().GetAwaiter().GetResult();
        BaseUrl = _app.Urls.First();
    }

    public string BaseUrl { get; }

    /// <summary>Makes <paramref name="path"/> answer so from now on, and returns its URL.</summary>
    public string Serve(string path, int status, string contentType, byte[]? body, string? retryAfter = null)
    {
        _answers[path] = new Answer(status, contentType, body, RetryAfter: retryAfter);
        return BaseUrl + path;
    }

    /// <summary>Makes <paramref name="path"/> answer 302 to <paramref name="to"/> from now on, and returns its URL.</summary>
    public string Redirect(string path, string to)
    {
        _answers[path] = new Answer(StatusCodes.Status302Found, "text/plain", [], to);
        return BaseUrl + path;
    }

    async Task AnswerAsync(HttpContext context)
    {
        if (!_answers.TryGetValue(context.Request.Path, out var answer))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        if (answer.Body is null)
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, context.RequestAborted).ContinueWith(_ => { });
            return;
        }
        context.Response.StatusCode = answer.Status;
        context.Response.ContentType = answer.ContentType;
        if (answer.Location is { } location) context.Response.Headers.Location = location;
        if (answer.RetryAfter is { } retryAfter) context.Response.Headers.RetryAfter = retryAfter;
        await context.Response.Body.WriteAsync(answer.Body);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
