using Functions.Storage;

namespace Functions.History;

/// <summary>An image row of the history partition (<c>pub-</c> or <c>prv-</c> and the inverted id).</summary>
public sealed record ImageRow : TableRow
{
    public long Id { get; set; }
    public string FileId { get; set; } = "";
    public string Prompt { get; set; } = "";
    public string Style { get; set; } = "";
    public string AspectRatio { get; set; } = "";
    public string Model { get; set; } = "";
    public bool IsPrivate { get; set; }
    public long? UserId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string JobId { get; set; } = "";

    public static ImageRow Of(ImageEntry entry, string partition, string rowKey) => new()
    {
        PartitionKey = partition, RowKey = rowKey, Id = entry.Id, FileId = entry.FileId, Prompt = entry.Prompt, Style = entry.Style,
        AspectRatio = entry.AspectRatio, Model = entry.Model, IsPrivate = entry.IsPrivate, UserId = entry.UserId,
        CreatedAt = entry.CreatedAt, JobId = entry.JobId,
    };

    public ImageEntry ToEntry() => new(Id, FileId, Prompt, Style, AspectRatio, Model, IsPrivate, UserId, CreatedAt, JobId);
}

/// <summary>The history's <c>counter</c> row: the next id and the counts, rewritten by every history write.</summary>
public sealed record CounterRow : TableRow
{
    public long NextId { get; set; } = 1;
    public long PublicCount { get; set; }
    public long PrivateCount { get; set; }
    /// <summary>
    /// The first image this counter counted: before it, the history may have been lost (and made again empty), so its rows
    /// do not tell which older files are orphans. Null on a counter from before it was recorded: the history holds all.
    /// </summary>
    public DateTimeOffset? KeptSince { get; set; }
    /// <summary>
    /// A mark of the last write, new with each: a delete sent again after its answer was lost finds the image gone, and
    /// this tells its own write from another instance's.
    /// </summary>
    public string? LastWrite { get; set; }
}

/// <summary>A <c>job-{job id}</c> marker: which image a job produced, so that a retried job never adds a second row.</summary>
public sealed record MarkerRow : TableRow
{
    public long ImageId { get; set; }
}
