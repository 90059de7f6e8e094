namespace Functions.History;

/// <summary>
/// One image in the history, as stored (the kioai ImageRecord, with the file that holds its bytes). <see cref="JobId"/>
/// is its history key: the id of the job that made it, or for an inline generation its file's id (stored under that
/// name, so it keeps it).
/// </summary>
public sealed record ImageEntry(
    long Id, string FileId, string Prompt, string Style, string AspectRatio, string Model,
    bool IsPrivate, long? UserId, DateTimeOffset CreatedAt, string JobId);
