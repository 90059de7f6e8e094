using Functions.Contracts.Kioai;
using Functions.Generation;
using Functions.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Moq;

namespace Functions.Tests.Jobs;

/// <summary>
/// The app with a provider seam in place of the offline renderer (same name, so every plan uses it). Subclasses say
/// what it does with a call.
/// </summary>
public abstract class SeamProviderFixture : AppFixture
{
    public Mock<IImageProvider> Provider { get; } = new();

    protected override void ConfigureServices(IServiceCollection services)
    {
        Provider.Setup(p => p.Name).Returns(OfflineRenderer.ProviderName);
        services.RemoveAll<IImageProvider>();
        services.AddSingleton(Provider.Object);
    }

    /// <summary>Submits wait until their call is canceled; <paramref name="entered"/> says one began, <paramref name="canceled"/> that one was canceled.</summary>
    protected void SubmitsHangUntilCanceled(TaskCompletionSource canceled, TaskCompletionSource? entered = null) =>
        Provider.Setup(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>()))
            .Returns(async (ProviderCall _, CancellationToken cancellationToken) =>
            {
                entered?.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    canceled.TrySetResult();
                    throw;
                }
                return ProviderStep.Done(Image());
            });

    protected static GeneratedImage Image() => new(FakeImage, "image/png", 8, 6,
        new ApiDebugInfo("offline://seam", "POST", new Dictionary<string, string>(), [], 200, [], 1, false, null));

    static readonly byte[] FakeImage = Fakes.FakeUpstream.Image;
}

/// <summary>Calls wait at a gate the test opens, so a job can be caught while it runs.</summary>
public class GatedProviderFixture : SeamProviderFixture
{
    public TaskCompletionSource Gate { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource Entered { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override bool KeepsLogs => true;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Generation:SyncWaitSeconds"] = "0" };

    public GatedProviderFixture() =>
        Provider.Setup(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>())).Returns(async () =>
        {
            Entered.TrySetResult();
            await Gate.Task;
            return ProviderStep.Done(Image());
        });

    public void Reset()
    {
        Gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
