using System.Security.Cryptography;
using System.Text;
using Functions.Storage;

namespace Functions.Jobs;

/// <summary>A key's use: the job it created and a hash of the body it came with.</summary>
public sealed record KeyUse(string JobId, string BodyHash, DateTimeOffset CreatedAt);

/// <summary>
/// Idempotency-Key bindings: one row per key (partition = SHA-256 of the key, so any key is a valid table key), bound
/// to one job for <see cref="Lifetime"/>. The row is inserted, never blindly written, so of concurrent requests with
/// one key exactly one binds it; an expired binding is replaced under its ETag.
/// </summary>
public sealed class IdempotencyKeys(TableStorage tables, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);
    public const int MaxKeyLength = 255;
    const string RowKey = "key";

    /// <summary>1 to 255 printable ASCII characters, as Stripe and the IETF draft allow.</summary>
    public static bool IsValid(string key) => key.Length is >= 1 and <= MaxKeyLength && key.All(c => c is >= ' ' and <= '~');

    public static string HashOf(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The key's live binding; null when the key is new or its binding expired.</summary>
    public async Task<KeyUse?> FindAsync(string key, CancellationToken cancellationToken)
    {
        var row = await tables.GetAsync(StorageNames.IdempotencyTable, Partition(key), RowKey, cancellationToken: cancellationToken);
        return row is null ? null : Live(row);
    }

    /// <summary>
    /// Binds the key to <paramref name="use"/> unless it is bound to a job that still exists; returns the binding
    /// that holds, ours or the earlier one.
    /// </summary>
    public async Task<KeyUse> BindAsync(string key, KeyUse use, Func<string, Task<bool>> jobExists, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(Partition(key), RowKey) { ["JobId"] = use.JobId, ["BodyHash"] = use.BodyHash, ["CreatedAt"] = use.CreatedAt };
        while (true)
        {
            try
            {
                await tables.InsertAsync(StorageNames.IdempotencyTable, entity, cancellationToken);
                return use;
            }
            catch (StorageException e) when (e.IsConflict) { }

            var row = await tables.GetAsync(StorageNames.IdempotencyTable, entity.PartitionKey, RowKey, cancellationToken: cancellationToken);
            if (row is null) continue; // removed meanwhile: insert again
            if (Live(row) is { } earlier && await jobExists(earlier.JobId)) return earlier;
            try
            {
                // Expired, or its job was deleted: the key is free again.
                await tables.ReplaceAsync(StorageNames.IdempotencyTable, entity, row.ETag!, cancellationToken);
                return use;
            }
            catch (StorageException e) when (e.IsPreconditionFailed) { } // another request took it: look again
        }
    }

    KeyUse? Live(TableEntity row)
    {
        var created = row.GetDateTime("CreatedAt") ?? DateTimeOffset.UnixEpoch;
        return clock.GetUtcNow() - created > Lifetime ? null : new KeyUse(row.GetString("JobId") ?? "", row.GetString("BodyHash") ?? "", created);
    }

    static string Partition(string key) => HashOf(Encoding.UTF8.GetBytes(key));
}
