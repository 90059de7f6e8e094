using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;

namespace Functions.Storage;

/// <summary>
/// A list's continuation token: the storage's position (a blob listing's marker, the Durable engine's query token)
/// sealed with AES-GCM, the list's name bound to it. Sealed, because a blob marker names a blob and the files list
/// reads past private files, so a plain one could hand a private file's id (and its bytes) to whoever pages the list;
/// and because a position nobody can make up is one the storage never has to refuse, so a failure on a page is a
/// fault, not a client's mistake. The key (256 bits) is made on first use and kept in the settings table, row
/// <c>lists/key</c>, so that every instance opens what another sealed.
/// </summary>
public sealed class ListPositions([FromKeyedServices(StorageNames.SettingsTable)] TableClient settings, StorageBootstrap bootstrap)
{
    const string Partition = "lists";
    const string Row = "key";
    const int NonceBytes = 12, TagBytes = 16;
    byte[]? _key;

    /// <summary>The token a client gets for <paramref name="position"/> in <paramref name="list"/>; null for no position.</summary>
    public async Task<string?> SealAsync(string list, string? position, CancellationToken cancellationToken) =>
        position is null ? null : Seal(await KeyAsync(cancellationToken), list, Encoding.UTF8.GetBytes(position));

    /// <summary>
    /// The position a token holds: (true, null) for no token; (false, null) for one this service did not seal for
    /// <paramref name="list"/> (made up, edited, of another list, or sealed under another key).
    /// </summary>
    public async Task<(bool Valid, string? Position)> OpenAsync(string list, string? token, CancellationToken cancellationToken)
    {
        if (token is null) return (true, null);
        byte[] sealedBytes;
        try { sealedBytes = Base64Url.DecodeFromChars(token); }
        catch (FormatException) { return (false, null); }
        if (sealedBytes.Length <= NonceBytes + TagBytes) return (false, null);
        var position = Open(await KeyAsync(cancellationToken), list, sealedBytes);
        return (position is not null, position);
    }

    // Laid out as nonce, tag, then the sealed position.
    static string Seal(byte[] key, string list, byte[] plain)
    {
        var sealedBytes = new byte[NonceBytes + TagBytes + plain.Length];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagBytes);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceBytes + TagBytes), sealedBytes.AsSpan(NonceBytes, TagBytes), Encoding.UTF8.GetBytes(list));
        return Base64Url.EncodeToString(sealedBytes);
    }

    static string? Open(byte[] key, string list, byte[] sealedBytes)
    {
        var plain = new byte[sealedBytes.Length - NonceBytes - TagBytes];
        using var aes = new AesGcm(key, TagBytes);
        try
        {
            aes.Decrypt(sealedBytes.AsSpan(0, NonceBytes), sealedBytes.AsSpan(NonceBytes + TagBytes), sealedBytes.AsSpan(NonceBytes, TagBytes), plain,
                Encoding.UTF8.GetBytes(list));
        }
        catch (AuthenticationTagMismatchException) { return null; }
        return Encoding.UTF8.GetString(plain);
    }

    async Task<byte[]> KeyAsync(CancellationToken cancellationToken)
    {
        if (_key is { } key) return key;
        await bootstrap.EnsureCreatedAsync(cancellationToken);
        if (await ReadAsync(cancellationToken) is not { } stored)
        {
            try
            {
                await settings.AddEntityAsync(new ListKeyRow { PartitionKey = Partition, RowKey = Row, Key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) },
                    cancellationToken);
            }
            catch (RequestFailedException e) when (StorageFaults.IsAlreadyThere(e)) { } // another instance made it first
            stored = await ReadAsync(cancellationToken) ?? throw new InvalidOperationException("The list key was not kept.");
        }
        return _key = stored;
    }

    async Task<byte[]?> ReadAsync(CancellationToken cancellationToken)
    {
        var row = await settings.GetEntityIfExistsAsync<ListKeyRow>(Partition, Row, cancellationToken: cancellationToken);
        return row.HasValue && row.Value!.Key is { } key ? Convert.FromBase64String(key) : null;
    }
}

/// <summary>The lists' sealing key: row <c>lists/key</c> of the settings table.</summary>
public sealed record ListKeyRow : TableRow
{
    public string? Key { get; set; }
}
