namespace Functions.Storage;

/// <summary>Every container and table the app uses, in one place (see DESIGN.md, "Data"); each is also its client's DI key.</summary>
public static class StorageNames
{
    public const string FilesContainer = "images";
    public const string HistoryTable = "images";
    public const string SettingsTable = "settings";
    public const string IdempotencyTable = "idempotency";
    public const string CancelsTable = "cancels";
    public const string SubmitsTable = "submits";

    public static readonly IReadOnlyList<string> Tables = [HistoryTable, SettingsTable, IdempotencyTable, CancelsTable, SubmitsTable];
}
