using System.Diagnostics;
using Functions.Generation;
using Functions.Hosting;
using Microsoft.Extensions.Options;

namespace Functions.Tests.Unit;

/// <summary>The decode budget with a tiny budget: grants, a first-come queue, the bounded wait; and the image check drawing on it.</summary>
public sealed class DecodeBudgetTests
{
    static DecodeBudget Budget(int megapixels, double waitSeconds = 30) =>
        new(Options.Create(new GenerationOptions { DecodeBudgetMegapixels = megapixels, DecodeWaitSeconds = waitSeconds }));

    /// <summary>The share of an image of this many megapixels whose decode holds its bitmap alone (as a header tells).</summary>
    static Task<System.Threading.RateLimiting.RateLimitLease> Take(DecodeBudget budget, int megapixels, DecodeWait how, CancellationToken cancellationToken) =>
        budget.AcquireAsync(new ImageInfo(ImageFormats.Png, 1000, 1000 * megapixels), megapixels * DecodeBudget.BytesPerPermit, how, cancellationToken);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4_000_000, 1)]
    [InlineData(4_000_001, 2)]
    [InlineData(4 * 49_999_999, 50)]
    [InlineData(4 * ImageInspector.MaxPixels, 50)] // the largest image's bitmap alone
    [InlineData(ImageInspector.MaxDecodeBytes, 150)]
    public void A_decode_holds_a_permit_per_4_MB_rounded_up_and_at_least_one(long decodeBytes, int permits)
    {
        Assert.Equal(permits, DecodeBudget.PermitsFor(decodeBytes));
    }

    [Fact]
    public async Task Decodes_within_the_budget_are_granted_at_once_and_the_rest_wait_first_come_first_served()
    {
        using var budget = Budget(3);

        var first = Take(budget, 2, DecodeWait.Bounded, CancellationToken.None);
        var second = Take(budget, 2, DecodeWait.Bounded, CancellationToken.None);
        var third = Take(budget, 1, DecodeWait.Bounded, CancellationToken.None); // fits in what is left, but comes after the second

        Assert.True(first.IsCompletedSuccessfully);
        Assert.Equal(3, budget.Waiting); // both queued as they were asked: the limiter grants a queued wait only at a release
        Assert.False(second.IsCompleted);
        Assert.False(third.IsCompleted);

        (await first).Dispose();
        using var secondShare = await second.WaitAsync(TimeSpan.FromSeconds(5));
        using var thirdShare = await third.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(secondShare.IsAcquired && thirdShare.IsAcquired);
        await Eventually.HoldsAsync(() => Task.FromResult(budget.Waiting == 0)); // the limiter counts a wait out just after ending it
    }

    [Fact]
    public async Task A_decode_that_does_not_get_its_share_within_the_wait_is_refused_as_busy_and_leaves_the_queue()
    {
        using var budget = Budget(3, waitSeconds: 0.3);
        using var held = await Take(budget, 3, DecodeWait.Bounded, CancellationToken.None);
        var clock = Stopwatch.StartNew();

        var busy = await Assert.ThrowsAsync<BudgetBusyException>(() => Take(budget, 1, DecodeWait.Bounded, CancellationToken.None));

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.25), TimeSpan.FromSeconds(5));
        Assert.Contains("1000 x 1000 pixels", busy.Message);
        await Eventually.HoldsAsync(() => Task.FromResult(budget.Waiting == 0)); // the limiter counts a wait out just after ending it
    }

    [Fact]
    public async Task A_caller_that_gives_up_first_is_canceled_not_busy()
    {
        using var budget = Budget(3);
        using var held = await Take(budget, 3, DecodeWait.Bounded, CancellationToken.None);
        using var gone = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Take(budget, 1, DecodeWait.Bounded, gone.Token));
        await Eventually.HoldsAsync(() => Task.FromResult(budget.Waiting == 0)); // the limiter counts a wait out just after ending it
    }

    [Fact]
    public async Task A_paid_image_waits_past_the_bounded_wait_for_as_long_as_its_caller_does()
    {
        using var budget = Budget(3, waitSeconds: 0.2);
        var held = await Take(budget, 3, DecodeWait.Bounded, CancellationToken.None);

        var freedLater = Take(budget, 1, DecodeWait.AsLongAsCaller, CancellationToken.None);
        using var gone = new CancellationTokenSource(TimeSpan.FromSeconds(0.6));
        var givenUp = Take(budget, 1, DecodeWait.AsLongAsCaller, gone.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => givenUp); // its caller's end, never busy
        Assert.False(freedLater.IsCompleted); // queued first, it is still waiting at 0.6 s, three times the bounded wait
        held.Dispose();
        using var share = await freedLater.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(share.IsAcquired);
    }

    [Fact]
    public async Task An_image_check_gives_its_share_back_once_decoded()
    {
        using var budget = Budget(3, waitSeconds: 0.3);
        var inspector = new ImageInspector(budget);

        var check = await inspector.InspectAsync(TestImages.Encode(2000, 1000), ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);

        Assert.Equal(new ImageInfo(ImageFormats.Png, 2000, 1000), check.Image);
        using var whole = await Take(budget, 3, DecodeWait.Bounded, CancellationToken.None); // would be refused as busy if a share were kept
    }

    [Fact]
    public async Task With_the_budget_taken_an_image_whose_header_is_refused_answers_at_once_and_one_that_would_decode_is_busy()
    {
        using var budget = Budget(3, waitSeconds: 2);
        var inspector = new ImageInspector(budget);
        using var held = await Take(budget, 3, DecodeWait.Bounded, CancellationToken.None);
        var clock = Stopwatch.StartNew();

        var bomb = await inspector.InspectAsync(TestImages.PngDeclaring(100_000, 100_000), ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);
        var gif = await inspector.InspectAsync(TestImages.Gif, ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}"); // not the 2 s wait for the budget
        Assert.Equal((ImageProblem.TooLarge, ImageProblem.UnsupportedType), (bomb.Problem, gif.Problem));
        await Assert.ThrowsAsync<BudgetBusyException>(() => inspector.InspectAsync(TestImages.Encode(16, 16), ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None));
    }

    [Fact]
    public async Task An_interlaced_16_bit_png_takes_three_times_its_megapixels_from_the_budget()
    {
        using var budget = Budget(3, waitSeconds: 0.3);
        var inspector = new ImageInspector(budget);
        var png = TestImages.RgbaPng(1000, 1000, 16, interlaced: true); // 4 MB of bitmap, 8 MB of interlaced rows

        using (await Take(budget, 1, DecodeWait.Bounded, CancellationToken.None))
            await Assert.ThrowsAsync<BudgetBusyException>(() => inspector.InspectAsync(png, ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None));
        Assert.NotNull((await inspector.InspectAsync(png, ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None)).Image);
    }
}
