namespace Functions.Storage;

/// <summary>Every container, table and queue the app uses, in one place (see DESIGN.md, "Data"); each is also its client's DI key.</summary>
public static class StorageNames
{
    public const string FilesContainer = "images";
    public const string HistoryTable = "images";
    public const string JobsTable = "jobs";
    public const string SettingsTable = "settings";
    public const string IdempotencyTable = "idempotency";
    public const string JobsQueue = "generation-jobs";
    // The Functions queue trigger's own convention for messages that keep failing.
    public const string JobsPoisonQueue = "generation-jobs-poison";

    public static readonly IReadOnlyList<string> Tables = [HistoryTable, JobsTable, SettingsTable, IdempotencyTable];
    public static readonly IReadOnlyList<string> Queues = [JobsQueue, JobsPoisonQueue];
}
