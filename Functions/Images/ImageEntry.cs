using Functions.Storage;

namespace Functions.Images;

/// <summary>One image in the history, as stored (the kioai ImageRecord, with the file that holds its bytes).</summary>
public sealed record ImageEntry(
    long Id, string FileId, string Prompt, string Style, string AspectRatio, string Model,
    bool IsPrivate, long? UserId, DateTimeOffset CreatedAt, string JobId)
{
    internal TableEntity ToEntity(string partition, string rowKey) => new(partition, rowKey)
    {
        ["Id"] = Id, ["FileId"] = FileId, ["Prompt"] = Prompt, ["Style"] = Style, ["AspectRatio"] = AspectRatio,
        ["Model"] = Model, ["IsPrivate"] = IsPrivate, ["UserId"] = UserId, ["CreatedAt"] = CreatedAt, ["JobId"] = JobId,
    };

    internal static ImageEntry FromEntity(TableEntity e) => new(
        e.GetInt64("Id") ?? 0, e.GetString("FileId") ?? "", e.GetString("Prompt") ?? "", e.GetString("Style") ?? "",
        e.GetString("AspectRatio") ?? "", e.GetString("Model") ?? "", e.GetBool("IsPrivate"), e.GetInt64("UserId"),
        e.GetDateTime("CreatedAt") ?? DateTimeOffset.UnixEpoch, e.GetString("JobId") ?? "");
}
