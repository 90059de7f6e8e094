using Functions.Generation;
using Functions.Generation.Providers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;

namespace Functions.Tests.Unit;

/// <summary>The inline chain's bound counts from the request's arrival, not from the chain's start.</summary>
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
}
