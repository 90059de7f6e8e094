namespace Functions.History;

/// <summary>One image in the history, as stored (the kioai ImageRecord, with the file that holds its bytes).</summary>
public sealed record ImageEntry(
    long Id, string FileId, string Prompt, string Style, string AspectRatio, string Model,
    bool IsPrivate, long? UserId, DateTimeOffset CreatedAt, string JobId);
