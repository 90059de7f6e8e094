using Functions.LocalHost;

namespace Functions.Tests.Host;

/// <summary>The local host's Durable client never waits without bound: not for the sidecar to start, not for its answer.</summary>
public sealed class WaitForSidecarHandlerTests
{
    [Fact]
    public async Task A_sidecar_that_does_not_answer_fails_the_call_as_unreachable_within_the_bound()
    {
        var ready = new SidecarReadiness();
        ready.Started();
        using var client = new HttpClient(new WaitForSidecarHandler(ready, TimeSpan.FromMilliseconds(200)) { InnerHandler = new NeverAnswers() });

        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("http://127.0.0.1/durabletask").WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Contains("did not answer", failure.Message);
    }

    [Fact]
    public async Task A_sidecar_that_never_starts_fails_the_call_as_never_sent_within_the_bound()
    {
        var inner = new CountsCalls();
        using var client = new HttpClient(new WaitForSidecarHandler(new SidecarReadiness(), startWait: TimeSpan.FromMilliseconds(200)) { InnerHandler = inner });

        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("http://127.0.0.1/durabletask").WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(HttpRequestError.ConnectionError, failure.HttpRequestError); // JobSubmitter: a job that cannot exist, its key freed
        Assert.Contains("has not started", failure.Message);
        Assert.Equal(0, inner.Calls);
    }

    [Fact]
    public async Task A_call_made_before_the_sidecar_listens_goes_out_once_it_does()
    {
        var ready = new SidecarReadiness();
        var inner = new CountsCalls(ready);
        using var client = new HttpClient(new WaitForSidecarHandler(ready) { InnerHandler = inner });

        var call = client.GetAsync("http://127.0.0.1/durabletask");
        // The client runs the handler up to its first wait before it returns: a call that did not wait would have gone out.
        Assert.False(call.IsCompleted);
        Assert.Equal(0, inner.Calls);
        ready.Started();

        Assert.Equal(HttpStatusCode.OK, (await call.WaitAsync(TimeSpan.FromSeconds(10))).StatusCode);
        Assert.Equal(1, inner.Calls);
        Assert.False(inner.SentBeforeTheStart);
    }

    [Fact]
    public async Task A_caller_that_gives_up_is_told_so_not_that_the_sidecar_is_down()
    {
        var ready = new SidecarReadiness();
        ready.Started();
        // An invoker, as gRPC's channel sends through, not an HttpClient: that one reports any failure after its caller gave up as a cancellation.
        using var invoker = new HttpMessageInvoker(new WaitForSidecarHandler(ready) { InnerHandler = new NeverAnswers() });
        using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            invoker.SendAsync(new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1/durabletask"), giveUp.Token));
    }

    sealed class CountsCalls(SidecarReadiness? ready = null) : HttpMessageHandler
    {
        int _calls;
        public int Calls => Volatile.Read(ref _calls);
        /// <summary>A call came while <c>ready</c> had not started.</summary>
        public bool SentBeforeTheStart { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            if (ready is { WhenStarted.IsCompleted: false }) SentBeforeTheStart = true;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        }
    }

    sealed class NeverAnswers : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }
}
