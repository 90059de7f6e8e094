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

    /// <summary>The <c>job_id</c> of a route, and what a malformed one answers.</summary>
    public static readonly KiapiPathId InPath = new("job_id", Pattern, JobIdPattern());

    const string Pattern = "^job_[0-9a-f]+$";

    [GeneratedRegex(Pattern)]
    private static partial Regex JobIdPattern();
}
