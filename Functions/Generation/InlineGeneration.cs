using Functions.Generation.Providers;

namespace Functions.Generation;

/// <summary>
/// A short generation inside its HTTP request: the plan's synchronous providers in turn (a retryable failure moves to
/// the next), then the image and its history row. Storage requests: the file and the history transaction.
/// </summary>
public sealed class InlineGeneration(ImageKeeper keeper, IOptions<UpstreamOptions> options, ILogger<InlineGeneration> logger)
{
    /// <summary>The longest the upstream calls may take inline: what the platform lets an answer take, less the store's bound and its cleanup's.</summary>
    public static readonly TimeSpan MaxChainBound =
        TimeSpan.FromSeconds(GenerationOptions.MaxAnswerSeconds) - ImageKeeper.InlineStoreBound - ImageKeeper.CleanupBound;

    /// <summary>The whole chain's bound: the job deadline, and never so long that storing its image would pass the platform's bound.</summary>
    TimeSpan Bound => TimeSpan.FromSeconds(Math.Min(options.Value.DeadlineSeconds, MaxChainBound.TotalSeconds));

    /// <summary>Whether the plan can run inline: every model answers at once, none needs a task to be checked.</summary>
    public static bool CanRun(IReadOnlyList<PlannedModel> plan) => plan.All(p => !p.Provider.Asynchronous);

    /// <summary>
    /// The stored image, or a <see cref="GenerationFailedException"/> naming the model that failed and why earlier ones
    /// were left. The bound counts from the request's arrival: <paramref name="spent"/> ago.
    /// </summary>
    public async Task<JobResult> RunAsync(GenerationRequest request, IReadOnlyList<PlannedModel> plan, ReadOnlyMemory<byte>? reference,
        TimeSpan spent, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Bound - spent > TimeSpan.Zero ? Bound - spent : TimeSpan.Zero);
        var trail = new FallbackTrail();
        try
        {
            return await RunPlanAsync(request, plan, reference, trail, deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new GenerationFailedException(GenerationErrors.UpstreamTimeout, trail.PastDeadline(
                $"The generation did not finish within {Bound.TotalSeconds:0} s (Upstream:DeadlineSeconds, at most {MaxChainBound.TotalSeconds:0} inline)"));
        }
    }

    // The deadline cuts the upstream calls; an image that arrived in time is stored, whatever the deadline does meanwhile.
    async Task<JobResult> RunPlanAsync(GenerationRequest request, IReadOnlyList<PlannedModel> plan, ReadOnlyMemory<byte>? reference,
        FallbackTrail trail, CancellationToken upstreamDeadline)
    {
        var input = ProviderRequest.For(request, reference);
        for (var index = 0; ; index++)
        {
            var planned = plan[index];
            upstreamDeadline.ThrowIfCancellationRequested(); // past the deadline no model starts, so none is named as under way
            trail.Trying(planned.Model);
            ProviderStep step;
            try
            {
                step = await planned.Provider.SubmitAsync(new ProviderCall(input, planned.Model, planned.Entry, planned.Token), upstreamDeadline);
            }
            catch (GenerationFailedException e) when (e.Retryable && index + 1 < plan.Count)
            {
                logger.LogWarning("{Model} failed ({Code}: {Reason}); falling back to {Next}", planned.Model, e.Code, PromptsInLogs.Hide(e.Message, request.Prompt),
                    plan[index + 1].Model);
                trail.Left(e.Message);
                continue;
            }
            catch (GenerationFailedException e) when (planned.Provider is not OfflineRenderer)
            {
                throw new GenerationFailedException(e.Code, trail.Ended(e.Message)) { RetryAfter = e.RetryAfter };
            }
            var image = step.Image ?? throw new InvalidOperationException($"{planned.Provider.Name} did not answer at once.");
            return await keeper.StoreAsync(request, planned.Provider.Name, image.AfterFallbacks(index, trail.Reasons));
        }
    }
}
