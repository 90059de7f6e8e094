namespace Functions.Generation;

/// <summary>How generations run and how long what they make is kept (section <c>Generation</c>).</summary>
public sealed class GenerationOptions
{
    public const string Section = "Generation";

    /// <summary>The longest an HTTP answer may be held back: Azure cuts HTTP responses at 230 s.</summary>
    public const int MaxAnswerSeconds = 220;

    /// <summary>How long a generate request waits for its job before answering 202 (at most <see cref="MaxAnswerSeconds"/>).</summary>
    public int SyncWaitSeconds { get; set; } = 50;

    /// <summary>Use the built-in offline renderer when no upstream token is configured. On in Development, off otherwise.</summary>
    public bool OfflineRenderer { get; set; }

    /// <summary>
    /// Megapixels the process decodes at once, every image check together, in 4 MB (<see cref="DecodeBudget"/>: 150 is
    /// 600 MB); at least what the largest decode accepted holds (<see cref="ImageInspector.MaxDecodeBytes"/>), which must be able to run.
    /// </summary>
    public int DecodeBudgetMegapixels { get; set; } = DecodeBudget.PermitsFor(ImageInspector.MaxDecodeBytes);

    /// <summary>
    /// MiB that uploads and generate bodies with an inline reference image hold at once, all together
    /// (<see cref="Files.UploadBudget"/>); at least what the largest of them accepted holds.
    /// </summary>
    public int UploadBudgetMegabytes { get; set; } = 160;

    /// <summary>How long the check of a client's image (an upload, a reference) waits for its share of the decode budget (an upload or a large generate body: of the upload budget too) before its request answers 503 server_busy.</summary>
    public double DecodeWaitSeconds { get; set; } = 30;

    /// <summary>How long an ended job is kept (readable, listed) before the daily purge forgets it, as a DELETE would; 0 keeps jobs until deleted.</summary>
    public double JobRetentionDays { get; set; } = 30;

    /// <summary>The longest retention (a century): past it, the cutoff would fall before the calendar's first day.</summary>
    public const double MaxJobRetentionDays = 36_500;

    /// <summary>Bound from its section once; a value out of range stops the app at start, with the reason.</summary>
    public static void AddTo(IServiceCollection services) =>
        services.AddOptions<GenerationOptions>().BindConfiguration(Section).RefuseEmpty(Section, nameof(OfflineRenderer))
            .Validate(o => o.SyncWaitSeconds >= 0 && o.SyncWaitSeconds <= MaxAnswerSeconds,
                $"Generation:SyncWaitSeconds must be 0 to {MaxAnswerSeconds} (Azure cuts responses at 230 s).")
            .Validate(o => o.DecodeBudgetMegapixels >= DecodeBudget.PermitsFor(ImageInspector.MaxDecodeBytes),
                $"Generation:DecodeBudgetMegapixels must be at least {DecodeBudget.PermitsFor(ImageInspector.MaxDecodeBytes)}: the largest decode accepted must fit in it.")
            .Validate(o => o.UploadBudgetMegabytes >= Files.UploadBudget.MinimumMegabytes,
                $"Generation:UploadBudgetMegabytes must be at least {Files.UploadBudget.MinimumMegabytes}: the largest upload or generate body accepted must fit in it.")
            .Validate(o => o.DecodeWaitSeconds > 0 && o.DecodeWaitSeconds <= MaxAnswerSeconds,
                $"Generation:DecodeWaitSeconds must be above 0 and at most {MaxAnswerSeconds} (Azure cuts responses at 230 s).")
            .Validate(o => o.JobRetentionDays == 0 || o.JobRetentionDays is >= 1 and <= MaxJobRetentionDays,
                $"Generation:JobRetentionDays must be 0 (keep jobs until deleted) or 1 to {MaxJobRetentionDays} days: a shorter one would forget jobs their clients still poll.")
            .ValidateOnStart();
}
