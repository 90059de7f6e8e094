using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Functions.Storage;

namespace Functions.Jobs;

/// <summary>A key's use: the job it created and a hash of the body it came with.</summary>
public sealed record KeyUse(string JobId, string BodyHash, DateTimeOffset CreatedAt);

/// <summary>
/// Idempotency-Key bindings: one row per key (partition = SHA-256 of the key, so any key is a valid table key), bound
/// to one job for <see cref="Lifetime"/>. The row is inserted, never blindly written, so of concurrent requests with
/// one key exactly one binds it; an expired binding is replaced under its ETag.
/// </summary>
public sealed class IdempotencyKeys([FromKeyedServices(StorageNames.IdempotencyTable)] TableClient table, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);
    public const int MaxKeyLength = 255;
    const string RowKey = "key";

    /// <summary>1 to 255 printable ASCII characters, as Stripe and the IETF draft allow.</summary>
    public static bool IsValid(string key) => key.Length is >= 1 and <= MaxKeyLength && HeaderText.IsPrintableAscii(key);

    public static string HashOf(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The key's live binding; null when the key is new or its binding expired.</summary>
    public async Task<KeyUse?> FindAsync(string key, CancellationToken cancellationToken)
    {
        var row = await table.GetEntityIfExistsAsync<KeyRow>(HashOfKey(key), RowKey, cancellationToken: cancellationToken);
        return row.HasValue ? Live(row.Value!) : null;
    }

    /// <summary>
    /// Binds the key to <paramref name="use"/> unless it is bound to a job that still exists; returns the binding
    /// that holds, ours or the earlier one.
    /// </summary>
    public async Task<KeyUse> BindAsync(string key, KeyUse use, Func<KeyUse, Task<bool>> jobExists, CancellationToken cancellationToken)
    {
        var binding = new KeyRow { PartitionKey = HashOfKey(key), RowKey = RowKey, JobId = use.JobId, BodyHash = use.BodyHash, CreatedAt = use.CreatedAt };
        while (true)
        {
            try
            {
                await table.AddEntityAsync(binding, cancellationToken);
                return use;
            }
            catch (RequestFailedException e) when (StorageFaults.IsAlreadyThere(e)) { }

            var row = await table.GetEntityIfExistsAsync<KeyRow>(binding.PartitionKey, RowKey, cancellationToken: cancellationToken);
            if (!row.HasValue) continue; // removed meanwhile: insert again
            // This request's own write, which landed though its answer was lost (the storage client's retry then met it).
            if (row.Value!.JobId == use.JobId) return use;
            if (Live(row.Value!) is { } earlier && await jobExists(earlier)) return earlier;
            try
            {
                // Expired, or its job was deleted: the key is free again.
                await table.UpdateEntityAsync(binding, row.Value!.ETag, TableUpdateMode.Replace, cancellationToken);
                return use;
            }
            // Another request took it, or its job's deletion freed it (404): look again.
            catch (RequestFailedException e) when (e.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status404NotFound) { }
        }
    }

    /// <summary>Frees a key bound to <paramref name="jobId"/> (its job was deleted), so that the key's next use makes a new job at once.</summary>
    public async Task ReleaseAsync(string keyHash, string jobId, CancellationToken cancellationToken)
    {
        var row = await table.GetEntityIfExistsAsync<KeyRow>(keyHash, RowKey, cancellationToken: cancellationToken);
        if (!row.HasValue || row.Value!.JobId != jobId) return; // bound to another job since
        try
        {
            await table.DeleteEntityAsync(keyHash, RowKey, row.Value.ETag, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is StatusCodes.Status404NotFound or StatusCodes.Status412PreconditionFailed) { }
    }

    /// <summary>
    /// Removes the bindings made before <paramref name="expiredBefore"/> (a <see cref="Lifetime"/> ago at most: they bind
    /// nothing any more). A job's forget removes its own; one whose request died between binding the key and scheduling
    /// the job has no job to be forgotten with. Answers how many went.
    /// </summary>
    public async Task<int> SweepAsync(DateTimeOffset expiredBefore, CancellationToken cancellationToken)
    {
        var removed = 0;
        await foreach (var row in table.QueryAsync<KeyRow>(r => r.CreatedAt < expiredBefore, cancellationToken: cancellationToken))
        {
            try
            {
                await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken);
                removed++;
            }
            catch (RequestFailedException e) when (e.Status is StatusCodes.Status404NotFound or StatusCodes.Status412PreconditionFailed) { } // freed or bound again meanwhile
        }
        return removed;
    }

    KeyUse? Live(KeyRow row) => clock.GetUtcNow() - row.CreatedAt > Lifetime ? null : new KeyUse(row.JobId, row.BodyHash, row.CreatedAt);

    /// <summary>The key's hash, which is also its row's partition.</summary>
    public static string HashOfKey(string key) => HashOf(Encoding.UTF8.GetBytes(key));

}

/// <summary>A key's binding as stored: partition = SHA-256 of the key, row <c>key</c>.</summary>
public sealed record KeyRow : TableRow
{
    public string JobId { get; set; } = "";
    public string BodyHash { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}
