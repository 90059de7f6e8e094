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
    /// Claims the submit of the job's model at <paramref name="modelIndex"/>: true when this run is to send it; false
    /// when another run claimed it first (this model's, or a later model's: the job has moved on).
    /// </summary>
    public async Task<bool> TryClaimAsync(string jobId, int modelIndex, CancellationToken cancellationToken)
    {
        var claim = new TableEntity(jobId, RowKey) { [ModelIndex] = modelIndex, [BeatAt] = clock.GetUtcNow() };
        try
        {
            await bootstrap.AgainIfLostAsync(() => table.AddEntityAsync(claim, cancellationToken), cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == StatusCodes.Status409Conflict) { }
        if (await ReadAsync(jobId, cancellationToken) is not { } earlier || earlier.GetInt32(ModelIndex) >= modelIndex) return false;
        try
        {
            await table.UpdateEntityAsync(claim, earlier.ETag, TableUpdateMode.Replace, cancellationToken); // a fallback model's turn
            return true;
        }
        catch (RequestFailedException e) when (e.Status == StatusCodes.Status412PreconditionFailed)
        {
            return false; // another run of this step claimed it meanwhile
        }
    }

    /// <summary>Says the run that claimed the submit still waits on its call.</summary>
    public Task BeatAsync(string jobId, CancellationToken cancellationToken) =>
        table.UpdateEntityAsync(new TableEntity(jobId, RowKey) { [BeatAt] = clock.GetUtcNow() }, ETag.All, TableUpdateMode.Merge, cancellationToken);

    /// <summary>Records the call's outcome for a later run of the same step.</summary>
    public Task RecordAsync(string jobId, UpstreamStep answer, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(answer);
        var row = new TableEntity(jobId, RowKey);
        var parts = (json.Length + AnswerPartBytes - 1) / AnswerPartBytes;
        if (parts > MaxAnswerParts) return Task.CompletedTask; // a later run then finds no answer and ends the model as interrupted
        for (var part = 0; part < parts; part++)
            row[Answer + part] = json.AsSpan(part * AnswerPartBytes, Math.Min(AnswerPartBytes, json.Length - part * AnswerPartBytes)).ToArray();
        return table.UpdateEntityAsync(row, ETag.All, TableUpdateMode.Merge, cancellationToken);
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
