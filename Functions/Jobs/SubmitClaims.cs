using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Functions.Storage;

namespace Functions.Jobs;

/// <summary>
/// Which model's submit a job has sent, and what the upstream answered: one row per job (partition = job id). The
/// engine runs a Submit again when its process stopped or died during the upstream call (the answer never recorded),
/// and after a crash DurableTask.AzureStorage can deliver a step twice, each sending the activity: a probe saw 13 of
/// 120 jobs submitted twice across kill -9s, and every submit under way at a SIGTERM sent again. The upstreams take no
/// idempotency key and a geminigen submit is a billed task, so a Submit sends its call only when it claims the row; a
/// later run answers what the first recorded, or, once the first has stopped beating, that the submit was interrupted.
/// </summary>
public sealed class SubmitClaims([FromKeyedServices(StorageNames.SubmitsTable)] TableClient table, StorageBootstrap bootstrap, TimeProvider clock)
{
    const string RowKey = "submit";
    const string ModelIndex = nameof(ModelIndex), BeatAt = nameof(BeatAt), Answer = nameof(Answer);
    // A binary property holds at most 64 KiB, an entity 1 MiB: an answer with a large apiDebug takes several.
    const int AnswerPartBytes = 64 * 1024, MaxAnswerParts = 15;

    /// <summary>A claim that has not beaten for this long belongs to a run that stopped: its call's outcome is unknown.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(20);
    static readonly TimeSpan LookInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Claims the submit of the job's model at <paramref name="modelIndex"/>: the claim when this run is to send it;
    /// null when another run claimed it first (this model's, or a later model's: the job has moved on).
    /// </summary>
    public async Task<SubmitClaim?> TryClaimAsync(string jobId, int modelIndex, CancellationToken cancellationToken)
    {
        var claim = new TableEntity(jobId, RowKey) { [ModelIndex] = modelIndex, [BeatAt] = clock.GetUtcNow() };
        try
        {
            var added = await bootstrap.AgainIfLostAsync(() => table.AddEntityAsync(claim, cancellationToken), cancellationToken);
            return new SubmitClaim(jobId, added.Headers.ETag ?? ETag.All);
        }
        catch (RequestFailedException e) when (StorageFaults.IsAlreadyThere(e)) { }
        if (await ReadAsync(jobId, cancellationToken) is not { } earlier || earlier.GetInt32(ModelIndex) >= modelIndex) return null;
        try
        {
            var replaced = await table.UpdateEntityAsync(claim, earlier.ETag, TableUpdateMode.Replace, cancellationToken); // a fallback model's turn
            return new SubmitClaim(jobId, replaced.Headers.ETag ?? ETag.All);
        }
        catch (RequestFailedException e) when (e.Status == StatusCodes.Status412PreconditionFailed)
        {
            return null; // another run of this step claimed it meanwhile
        }
    }

    /// <summary>Says the run that claimed the submit still waits on its call; false once the claim is no longer its own.</summary>
    public Task<bool> BeatAsync(SubmitClaim claim, CancellationToken cancellationToken) =>
        WriteAsync(claim, new TableEntity(claim.JobId, RowKey) { [BeatAt] = clock.GetUtcNow() }, cancellationToken);

    /// <summary>How recording a call's outcome went.</summary>
    public enum Recording
    {
        Recorded,
        /// <summary>The claim is no longer this run's (it was frozen past <see cref="StaleAfter"/> and the job moved on: its answer is not the job's any more).</summary>
        ClaimLost,
        /// <summary>The answer is over what a row holds: a later run of the step finds none and ends the model as interrupted.</summary>
        TooLarge,
    }

    /// <summary>Records the call's outcome for a later run of the same step.</summary>
    public async Task<Recording> RecordAsync(SubmitClaim claim, UpstreamStep answer, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(answer);
        var row = new TableEntity(claim.JobId, RowKey);
        var parts = (json.Length + AnswerPartBytes - 1) / AnswerPartBytes;
        if (parts > MaxAnswerParts) return Recording.TooLarge;
        for (var part = 0; part < parts; part++)
            row[Answer + part] = json.AsSpan(part * AnswerPartBytes, Math.Min(AnswerPartBytes, json.Length - part * AnswerPartBytes)).ToArray();
        return await WriteAsync(claim, row, cancellationToken) ? Recording.Recorded : Recording.ClaimLost;
    }

    // Only over the claim's own last write: a later model's claim (or this model's taken over) is never written into.
    async Task<bool> WriteAsync(SubmitClaim claim, TableEntity row, CancellationToken cancellationToken)
    {
        if (claim.Lost) return false;
        try
        {
            claim.ETag = (await table.UpdateEntityAsync(row, claim.ETag, TableUpdateMode.Merge, cancellationToken)).Headers.ETag ?? ETag.All;
            return true;
        }
        catch (RequestFailedException e) when (e.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status404NotFound)
        {
            claim.Lost = true;
            return false;
        }
    }

    /// <summary>
    /// What the run that claimed this model's submit got, once it has it; null when that run stopped beating without
    /// an answer (its process stopped or died during the call), or the job has moved on to a later model.
    /// </summary>
    public async Task<UpstreamStep?> EarlierAnswerAsync(string jobId, int modelIndex, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await ReadAsync(jobId, cancellationToken) is not { } claim || claim.GetInt32(ModelIndex) != modelIndex) return null;
            if (AnswerOf(claim) is { } answer) return answer;
            if (clock.GetUtcNow() - claim.GetDateTimeOffset(BeatAt) > StaleAfter) return null;
            await Task.Delay(LookInterval, clock, cancellationToken);
        }
    }

    async Task<TableEntity?> ReadAsync(string jobId, CancellationToken cancellationToken) =>
        (await table.GetEntityIfExistsAsync<TableEntity>(jobId, RowKey, cancellationToken: cancellationToken)) is { HasValue: true } row ? row.Value : null;

    static UpstreamStep? AnswerOf(TableEntity claim)
    {
        var parts = Enumerable.Range(0, MaxAnswerParts).Select(part => claim.GetBinary(Answer + part)).TakeWhile(bytes => bytes is not null).ToList();
        return parts.Count == 0 ? null : JsonSerializer.Deserialize<UpstreamStep>(parts.SelectMany(bytes => bytes).ToArray());
    }

    public async Task ForgetAsync(string jobId, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(jobId, RowKey, ETag.All, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == StatusCodes.Status404NotFound) { } // never submitted, or its table lost
    }
}

/// <summary>A run's claim on a job's submit: the ETag of its last write, which its next write must match.</summary>
public sealed class SubmitClaim(string jobId, ETag etag)
{
    public string JobId { get; } = jobId;
    public ETag ETag { get; set; } = etag;
    /// <summary>Whether another run has taken the row over (or the job was forgotten): this run writes it no more.</summary>
    public bool Lost { get; set; }
}
