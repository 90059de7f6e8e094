using Azure;
using Azure.Data.Tables;

namespace Functions.Storage;

/// <summary>What every stored row has: its keys, the service's timestamp and the ETag its conditional writes pass back.</summary>
public abstract record TableRow : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }
}
