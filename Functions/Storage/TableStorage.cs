using Azure;
using System.Buffers;
using System.Text;
using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Functions.Storage;

public sealed record TablePage(IReadOnlyList<TableEntity> Entities, string? ContinuationToken);

public enum TableBatchKind { Insert, Replace, Merge, Delete }

/// <summary>One operation of an entity-group transaction; <see cref="IfMatch"/> null means unconditional.</summary>
public sealed record TableBatchOperation(TableBatchKind Kind, TableEntity Entity, string? IfMatch = null);

/// <summary>The Table REST operations the app uses, in OData JSON (minimal metadata, so that ETags and types come back).</summary>
public sealed class TableStorage(StoragePipelines pipelines)
{
    const string JsonMinimal = "application/json;odata=minimalmetadata";
    readonly HttpPipeline _pipeline = pipelines.Create(StorageService.Table);
    readonly Uri _endpoint = pipelines.Account.TableEndpoint;

    public async Task CreateTableIfNotExistsAsync(string table, CancellationToken cancellationToken = default)
    {
        try
        {
            using var _ = await SendAsync(RequestMethod.Post, Url("Tables"), request =>
                request.Content = JsonContent(writer =>
                {
                    writer.WriteStartObject();
                    writer.WriteString("TableName", table);
                    writer.WriteEndObject();
                }), cancellationToken, 201, 204).ConfigureAwait(false);
        }
        catch (StorageException e) when (e.ErrorCode == "TableAlreadyExists") { }
    }

    /// <summary>Inserts a new row; a <see cref="StorageException"/> with status 409 when it exists. Sets the entity's ETag.</summary>
    public async Task InsertAsync(string table, TableEntity entity, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(RequestMethod.Post, Url(Uri.EscapeDataString(table)), request =>
            request.Content = JsonContent(entity.WriteJson), cancellationToken, 204).ConfigureAwait(false);
        entity.ETag = StorageCalls.ETagOf(response);
    }

    /// <summary>Insert-or-replace, unconditionally.</summary>
    public Task UpsertAsync(string table, TableEntity entity, CancellationToken cancellationToken = default) =>
        WriteAsync(RequestMethod.Put, table, entity, ifMatch: null, cancellationToken);

    /// <summary>Replaces a row; with an ETag, only if nobody changed it since (412 otherwise).</summary>
    public Task ReplaceAsync(string table, TableEntity entity, string ifMatch = "*", CancellationToken cancellationToken = default) =>
        WriteAsync(RequestMethod.Put, table, entity, ifMatch, cancellationToken);

    /// <summary>Merges the given properties into a row; with an ETag, only if nobody changed it since.</summary>
    public Task MergeAsync(string table, TableEntity entity, string ifMatch = "*", CancellationToken cancellationToken = default) =>
        WriteAsync(RequestMethod.Patch, table, entity, ifMatch, cancellationToken);

    public async Task<TableEntity?> GetAsync(string table, string partitionKey, string rowKey, string? select = null,
        CancellationToken cancellationToken = default)
    {
        try
        {
            var query = select is null ? "" : "?$select=" + Uri.EscapeDataString(select);
            using var response = await SendAsync(RequestMethod.Get, Url(EntityPath(table, partitionKey, rowKey) + query), null,
                cancellationToken, 200).ConfigureAwait(false);
            using var json = JsonDocument.Parse(response.Content.ToMemory());
            var entity = TableEntity.ReadJson(json.RootElement);
            entity.ETag ??= StorageCalls.ETagOf(response);
            return entity;
        }
        catch (StorageException e) when (e.IsNotFound) { return null; }
    }

    /// <summary>One page of a query, in key order; pass the returned continuation token back for the next page.</summary>
    public async Task<TablePage> QueryAsync(string table, string? filter = null, string? select = null, int? top = null,
        string? continuationToken = null, CancellationToken cancellationToken = default)
    {
        var query = new List<string>();
        if (filter is not null) query.Add("$filter=" + Uri.EscapeDataString(filter));
        if (select is not null) query.Add("$select=" + Uri.EscapeDataString(select));
        if (top is not null) query.Add("$top=" + top.Value);
        if (continuationToken is not null)
        {
            var (nextPartition, nextRow) = ParseContinuation(continuationToken);
            query.Add("NextPartitionKey=" + Uri.EscapeDataString(nextPartition));
            if (nextRow is not null) query.Add("NextRowKey=" + Uri.EscapeDataString(nextRow));
        }

        var path = Uri.EscapeDataString(table) + "()" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
        using var response = await SendAsync(RequestMethod.Get, Url(path), null, cancellationToken, 200).ConfigureAwait(false);
        using var json = JsonDocument.Parse(response.Content.ToMemory());
        var entities = json.RootElement.GetProperty("value").EnumerateArray().Select(TableEntity.ReadJson).ToList();

        response.Headers.TryGetValue("x-ms-continuation-NextPartitionKey", out var partition);
        response.Headers.TryGetValue("x-ms-continuation-NextRowKey", out var row);
        return new TablePage(entities, partition is null ? null : FormatContinuation(partition, row));
    }

    public async Task<bool> DeleteAsync(string table, string partitionKey, string rowKey, string ifMatch = "*",
        CancellationToken cancellationToken = default)
    {
        try
        {
            using var _ = await SendAsync(RequestMethod.Delete, Url(EntityPath(table, partitionKey, rowKey)),
                request => request.Headers.SetValue("If-Match", ifMatch), cancellationToken, 204).ConfigureAwait(false);
            return true;
        }
        catch (StorageException e) when (e.IsNotFound) { return false; }
    }

    /// <summary>
    /// Runs operations on one partition as a single entity-group transaction: all apply or none.
    /// On failure throws with the failing operation's status; on success sets each written entity's new ETag.
    /// </summary>
    public async Task SubmitTransactionAsync(string table, IReadOnlyList<TableBatchOperation> operations,
        CancellationToken cancellationToken = default)
    {
        var batch = TableBatch.Build(_endpoint, table, operations);
        using var response = await SendAsync(RequestMethod.Post, Url("$batch"), request =>
        {
            request.Headers.SetValue("Content-Type", $"multipart/mixed; boundary={batch.Boundary}");
            request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(batch.Body));
        }, cancellationToken, 202).ConfigureAwait(false);

        var results = TableBatch.ParseResponse(response.Content.ToString());
        var failure = results.FirstOrDefault(r => r.Status >= 300);
        if (failure is not null)
            throw new StorageException(failure.Status, failure.ErrorCode, failure.Message ?? "The transaction failed.");
        for (var i = 0; i < operations.Count && i < results.Count; i++)
            if (operations[i].Kind != TableBatchKind.Delete) operations[i].Entity.ETag = results[i].ETag;
    }

    async Task WriteAsync(RequestMethod method, string table, TableEntity entity, string? ifMatch, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(method, Url(EntityPath(table, entity.PartitionKey, entity.RowKey)), request =>
        {
            if (ifMatch is not null) request.Headers.SetValue("If-Match", ifMatch);
            request.Content = JsonContent(entity.WriteJson);
        }, cancellationToken, 204).ConfigureAwait(false);
        entity.ETag = StorageCalls.ETagOf(response);
    }

    Task<Response> SendAsync(RequestMethod method, Uri uri, Action<Request>? configure, CancellationToken cancellationToken,
        params int[] expected) =>
        StorageCalls.SendAsync(_pipeline, method, uri, request =>
        {
            request.Headers.SetValue("Accept", JsonMinimal);
            request.Headers.SetValue("DataServiceVersion", "3.0");
            request.Headers.SetValue("MaxDataServiceVersion", "3.0;NetFx");
            request.Headers.SetValue("Prefer", "return-no-content");
            configure?.Invoke(request);
            if (request.Content is not null && !request.Headers.Contains("Content-Type"))
                request.Headers.SetValue("Content-Type", "application/json");
        }, cancellationToken, expected: expected);

    static RequestContent JsonContent(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer)) write(writer);
        return RequestContent.Create(buffer.WrittenMemory);
    }

    internal static string EntityPath(string table, string partitionKey, string rowKey) =>
        $"{Uri.EscapeDataString(table)}(PartitionKey='{EscapeKey(partitionKey)}',RowKey='{EscapeKey(rowKey)}')";

    // Keys go inside single quotes in the URL: quotes double, then the whole is percent-encoded.
    static string EscapeKey(string key) => Uri.EscapeDataString(key.Replace("'", "''"));

    /// <summary>Quotes a string literal for a $filter expression.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "''") + "'";

    static string FormatContinuation(string partition, string? row) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(partition + "\n" + row)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    static (string Partition, string? Row) ParseContinuation(string token)
    {
        var base64 = token.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');
        var text = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
        var parts = text.Split('\n', 2);
        return (parts[0], parts.Length > 1 && parts[1].Length > 0 ? parts[1] : null);
    }

    Uri Url(string pathAndQuery) => new(_endpoint, pathAndQuery);
}
