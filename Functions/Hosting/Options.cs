namespace Functions.Hosting;

// Settings, bound once from configuration (appsettings*.json, environment "Section__Key", command line). README lists them.

public sealed class GenerationOptions
{
    public const string Section = "Generation";

    /// <summary>How long a generate request waits for its job before answering 202 (Azure cuts HTTP responses at 230 s).</summary>
    public int SyncWaitSeconds { get; set; } = 50;

    /// <summary>Use the built-in offline renderer when no upstream token is configured. On in Development, off otherwise.</summary>
    public bool OfflineRenderer { get; set; }
}

public sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>Whether this process runs its own queue listener; off under the Functions host, whose queue trigger does it.</summary>
    public bool ListenerEnabled { get; set; } = true;

    public int Concurrency { get; set; } = 4;
    public int VisibilityTimeoutSeconds { get; set; } = 60;
    public int MaxDequeueCount { get; set; } = 5;
    public int MaxPollIntervalMilliseconds { get; set; } = 2000;

    /// <summary>A job not ended this long after it was created fails as deadline_exceeded (queue wait included).</summary>
    public int JobDeadlineSeconds { get; set; } = 1800;

    /// <summary>How often each instance looks for jobs past their deadline whose messages are gone.</summary>
    public int SweepIntervalSeconds { get; set; } = 60;
}

public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>The admin key for token and key management (header X-Admin-Key).</summary>
    public string? AdminKey { get; set; }

    /// <summary>With no AdminKey set, generate one on first start, keep its hash, print it once. On in Development.</summary>
    public bool GenerateLocalAdminKey { get; set; }
}

public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>The public base URL for links (imageUrl, Location); by default the request's own scheme and host.</summary>
    public string? PublicBaseUrl { get; set; }
}
