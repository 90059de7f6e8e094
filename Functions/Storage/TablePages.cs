using Azure.Data.Tables;

namespace Functions.Storage;

public static class TablePages
{
    /// <summary>
    /// One page of a query, of at most <paramref name="size"/> rows, from <paramref name="continuationToken"/> on, and the
    /// token for the next page (null after the last): for callers that ask for only as many rows as they still need.
    /// </summary>
    public static async Task<(IReadOnlyList<T> Rows, string? ContinuationToken)> PageAsync<T>(this TableClient table, string? filter, int size,
        string? continuationToken, IEnumerable<string>? select, CancellationToken cancellationToken) where T : class, ITableEntity
    {
        await foreach (var page in table.QueryAsync<T>(filter, size, select, cancellationToken).AsPages(continuationToken, size))
            return (page.Values, string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken);
        return ([], null);
    }
}
