using Functions.Generation;
using Functions.Generation.Providers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;

namespace Functions.Tests.Unit;

/// <summary>The inline chain's bound: it counts from the request's arrival, and its failure still says what each model did.</summary>
public sealed class InlineGenerationTests
{
    [Fact]
    public async Task Time_spent_before_the_chain_reading_and_checking_the_request_comes_off_its_bound()
    {
        var provider = new Mock<IImageProvider>();
        provider.Setup(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>()))
            .Returns(async (ProviderCall _, CancellationToken token) =>
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, token); // an upstream that never answers
                return ProviderStep.Done(null!);
            });
        var inline = new InlineGeneration(null!, Options.Create(new UpstreamOptions { DeadlineSeconds = 30 }), NullLogger<InlineGeneration>.Instance);
        var request = new GenerationRequest("never answered", "none", "1:1", "hanging", null, false, null, null);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var failed = await Assert.ThrowsAsync<GenerationFailedException>(() =>
            inline.RunAsync(request, [new PlannedModel("hanging", new ModelEntry(), provider.Object, "token")], null, TimeSpan.FromSeconds(29.5), CancellationToken.None)
                .WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(GenerationErrors.UpstreamTimeout, failed.Code);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.3), TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData(600)] // the default
    [InlineData(3600)]
    public async Task A_longer_job_deadline_still_ends_an_inline_chain_at_the_platform_s_bound(int deadlineSeconds)
    {
        // Azure cuts an HTTP answer at 230 s: past the inline bound the client would get the platform's cut, not a 504.
        var provider = new Mock<IImageProvider>();
        provider.Setup(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>()))
            .Returns(async (ProviderCall _, CancellationToken token) =>
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, token);
                return ProviderStep.Done(null!);
            });
        var inline = new InlineGeneration(null!, Options.Create(new UpstreamOptions { DeadlineSeconds = deadlineSeconds }), NullLogger<InlineGeneration>.Instance);
        var request = new GenerationRequest("never answered", "none", "1:1", "hanging", null, false, null, null);

        var failed = await Assert.ThrowsAsync<GenerationFailedException>(() => inline.RunAsync(request,
            [new PlannedModel("hanging", new ModelEntry(), provider.Object, "token")], null, InlineGeneration.MaxChainBound - TimeSpan.FromSeconds(0.5),
            CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(GenerationErrors.UpstreamTimeout, failed.Code);
        Assert.StartsWith("The generation did not finish within 185 s (Upstream:DeadlineSeconds, at most 185 inline)", failed.Message);
    }

    [Fact]
    public async Task A_chain_cut_by_the_deadline_names_each_model_and_why_it_was_left()
    {
        var failing = new Mock<IImageProvider>();
        failing.Setup(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new GenerationFailedException(GenerationErrors.UpstreamError, "siliconflow answered 500 SYSTEM_ERROR", retryable: true));
        var hanging = new Mock<IImageProvider>();
        hanging.Setup(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>()))
            .Returns(async (ProviderCall _, CancellationToken token) =>
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, token);
                return ProviderStep.Done(null!);
            });
        var inline = new InlineGeneration(null!, Options.Create(new UpstreamOptions { DeadlineSeconds = 1 }), NullLogger<InlineGeneration>.Instance);
        var request = new GenerationRequest("cut short", "none", "1:1", "first", null, false, null, null);

        var failed = await Assert.ThrowsAsync<GenerationFailedException>(() => inline.RunAsync(request,
            [new PlannedModel("first", new ModelEntry(), failing.Object, "token"), new PlannedModel("second", new ModelEntry(), hanging.Object, "token")],
            null, TimeSpan.Zero, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(GenerationErrors.UpstreamTimeout, failed.Code);
        Assert.Equal("The generation did not finish within 1 s (Upstream:DeadlineSeconds, at most 185 inline): "
            + "first: siliconflow answered 500 SYSTEM_ERROR; second: unfinished at the deadline.", failed.Message);
    }

    [Fact]
    public void A_trail_names_the_models_left_and_the_one_under_way_and_no_other()
    {
        var trail = new FallbackTrail();
        Assert.Equal("Too late.", trail.PastDeadline("Too late"));

        trail.Trying("grok");
        trail.Left("geminigen answered 503");
        Assert.Equal("Too late: grok: geminigen answered 503.", trail.PastDeadline("Too late"));

        trail.Trying("meta");
        Assert.Equal("Too late: grok: geminigen answered 503; meta: unfinished at the deadline.", trail.PastDeadline("Too late"));
    }
}
