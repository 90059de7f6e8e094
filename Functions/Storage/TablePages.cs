using Azure;
using Azure.Data.Tables;

namespace Functions.Storage;

public static class TablePages
{
    /// <summary>
    /// One page of a query, of at most <paramref name="size"/> rows, from <paramref name="continuationToken"/> on: for
    /// callers that ask for only as many rows as they still need, so that a page never reads past what they use.
    /// </summary>
    public static async Task<Page<T>> PageAsync<T>(this TableClient table, string? filter, int size, string? continuationToken,
        IEnumerable<string>? select, CancellationToken cancellationToken) where T : class, ITableEntity
    {
        await foreach (var page in table.QueryAsync<T>(filter, size, select, cancellationToken).AsPages(continuationToken, size))
            return page;
        return Page<T>.FromValues([], null, null!);
    }
}
