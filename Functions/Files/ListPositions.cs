using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Functions.Storage;

namespace Functions.Files;

/// <summary>
/// The files list's position as a client holds it: the blob listing's marker, sealed (AES-GCM). A marker names a blob
/// (Azurite's the last one listed, Azure's the next), and the list reads past private files, so a plain one could hand
/// a private file's id, and with it its bytes, to whoever pages the list. The key (256 bits) is made on first use and
/// kept in the settings table, row <c>lists/key</c>, so that every instance opens what another sealed.
/// </summary>
public sealed class ListPositions([FromKeyedServices(StorageNames.SettingsTable)] TableClient settings, StorageBootstrap bootstrap)
{
    const string Partition = "lists";
    const string Row = "key";
    const int NonceBytes = 12, TagBytes = 16;
    byte[]? _key;

    public async Task<string> SealAsync(string marker, CancellationToken cancellationToken) =>
        Seal(await KeyAsync(cancellationToken), Encoding.UTF8.GetBytes(marker));

    /// <summary>The marker, or null for a position this service did not seal (made up, edited, or sealed under another key).</summary>
    public async Task<string?> OpenAsync(string position, CancellationToken cancellationToken)
    {
        byte[] sealedBytes;
        try { sealedBytes = Base64Url.DecodeFromChars(position); }
        catch (FormatException) { return null; }
        return sealedBytes.Length > NonceBytes + TagBytes ? Open(await KeyAsync(cancellationToken), sealedBytes) : null;
    }

    // Laid out as nonce, tag, then the sealed marker.
    static string Seal(byte[] key, byte[] plain)
    {
        var sealedBytes = new byte[NonceBytes + TagBytes + plain.Length];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagBytes);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceBytes + TagBytes), sealedBytes.AsSpan(NonceBytes, TagBytes));
        return Base64Url.EncodeToString(sealedBytes);
    }

    static string? Open(byte[] key, byte[] sealedBytes)
    {
        var plain = new byte[sealedBytes.Length - NonceBytes - TagBytes];
        using var aes = new AesGcm(key, TagBytes);
        try { aes.Decrypt(sealedBytes.AsSpan(0, NonceBytes), sealedBytes.AsSpan(NonceBytes + TagBytes), sealedBytes.AsSpan(NonceBytes, TagBytes), plain); }
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
            catch (RequestFailedException e) when (e.Status == StatusCodes.Status409Conflict) { } // another instance made it first
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

/// <summary>The files list's sealing key: row <c>lists/key</c> of the settings table.</summary>
public sealed record ListKeyRow : TableRow
{
    public string? Key { get; set; }
}
