using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Functions.Tests.Infrastructure;

/// <summary>One storage request as the proxy saw it, when it arrived, and (a request passed on) what storage answered.</summary>
public sealed record ProxiedRequest(string Method, string Target, string Body, DateTime At, HttpStatusCode? Answered = null);

/// <summary>
/// A loopback HTTP proxy in front of one Azurite service that passes every request through unchanged (SharedKey
/// signatures cover the path, not the host), except one it is told to hold: that request never reaches storage, so a
/// test can kill the app at an exact point of its work, knowing what was written and what was not; or one it is told to
/// watch for, passed on, so that a test knows when the app got that far.
/// </summary>
public sealed class StorageProxy : IAsyncDisposable
{
    static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase) { "Transfer-Encoding", "Connection", "Keep-Alive", "Host" };

    readonly WebApplication _app;
    readonly HttpClient _client = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
    readonly Uri _target;
    Func<ProxiedRequest, bool>? _hold;
    bool _holdsAll; // every request that matches, not only the first
    bool _passes; // the request that matches goes on to storage: it is only seen
    HttpStatusCode? _answer; // what the request held is answered with; none: it is held for ever
    TaskCompletionSource<ProxiedRequest> _held = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Port { get; }

    public StorageProxy(int targetPort)
    {
        _target = new Uri($"http://127.0.0.1:{targetPort}");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Run(ForwardAsync);
        _app.StartAsync().GetAwaiter().GetResult();
        Port = new Uri(_app.Urls.First()).Port;
    }

    /// <summary>Holds the first request that matches, for ever; the returned task completes when it arrives.</summary>
    public Task<ProxiedRequest> HoldFirst(Func<ProxiedRequest, bool> match) => Intercept(match, answer: null);

    /// <summary>Answers the first request that matches with <paramref name="status"/> at once, as storage that refused it; the returned task completes when it arrives.</summary>
    public Task<ProxiedRequest> RefuseFirst(Func<ProxiedRequest, bool> match, HttpStatusCode status) => Intercept(match, status);

    /// <summary>Passes the first request that matches on to storage; the returned task completes when storage has answered it.</summary>
    public Task<ProxiedRequest> SeeFirst(Func<ProxiedRequest, bool> match) => Intercept(match, answer: null, passes: true);

    /// <summary>Answers every request with <paramref name="status"/> at once, as storage that is down, until <see cref="PassAll"/>.</summary>
    public void RefuseAll(HttpStatusCode status) => Intercept(_ => true, status, all: true);

    Task<ProxiedRequest> Intercept(Func<ProxiedRequest, bool> match, HttpStatusCode? answer, bool all = false, bool passes = false)
    {
        _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _answer = answer;
        _holdsAll = all;
        _passes = passes;
        _hold = match;
        return _held.Task;
    }

    public void PassAll() => _hold = null;

    async Task ForwardAsync(HttpContext context)
    {
        var arrived = DateTime.UtcNow;
        var request = context.Request;
        var target = context.Features.Get<IHttpRequestFeature>()!.RawTarget; // undecoded, exactly as signed
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        var seen = new ProxiedRequest(request.Method, target, System.Text.Encoding.UTF8.GetString(body), arrived);

        var watched = _hold is { } hold && hold(seen);
        if (watched)
        {
            if (!_holdsAll) _hold = null;
            if (!_passes)
            {
                _held.TrySetResult(seen);
                if (_answer is { } status) context.Response.StatusCode = (int)status;
                else await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { });
                return; // never forwarded
            }
        }

        using var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(_target, target));
        if (body.Length > 0 || request.ContentLength is not null) message.Content = new ByteArrayContent(body);
        foreach (var (name, values) in request.Headers)
        {
            if (HopByHop.Contains(name) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) continue;
            if (!message.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values)) message.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values);
        }
        using var response = await _client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        if (watched) _held.TrySetResult(seen with { Answered = response.StatusCode }); // storage has taken it: what follows comes after
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            if (!HopByHop.Contains(name)) context.Response.Headers[name] = values.ToArray();
        if (request.Method != "HEAD" && response.StatusCode != HttpStatusCode.NoContent && response.StatusCode != HttpStatusCode.NotModified)
            await response.Content.CopyToAsync(context.Response.Body);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _client.Dispose();
    }
}
