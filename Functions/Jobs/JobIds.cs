using Functions.Contracts.Kiapi;
using System.Text.RegularExpressions;
using Functions.Files;

namespace Functions.Jobs;

/// <summary>
/// Job ids are orchestration instance ids: "job_", a visibility digit (0 public, 1 private, so that the public list is
/// one id-prefix query), then the digits of a file id (newest first in key order; see <see cref="FileIds.NewHex"/>).
/// </summary>
public static partial class JobIds
{
    public const string PublicPrefix = "job_0";
    const string PrivatePrefix = "job_1";

    public static string New(DateTimeOffset now, bool isPrivate) => (isPrivate ? PrivatePrefix : PublicPrefix) + FileIds.NewHex(now);

    /// <summary>The digits a job's image file shares with its job.</summary>
    public static string DigitsOf(string jobId) => jobId[PublicPrefix.Length..];

    public static bool IsJobId(string? id) => id?.Length <= FileIds.MaxLength && JobIdPattern().MatchesWhole(id);

    /// <summary>Has the contract's shape, whatever its length (the contract sets none).</summary>
    public static bool MatchesPattern(string id) => JobIdPattern().MatchesWhole(id);

    public const string Pattern = "^job_[0-9a-f]+$";

    [GeneratedRegex(Pattern)]
    private static partial Regex JobIdPattern();
}
