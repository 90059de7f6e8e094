using System.Text.RegularExpressions;
using Functions.Files;

namespace Functions.Jobs;

public static partial class JobIds
{
    /// <summary>A new job id: newest first in key order (see <see cref="FileIds.NewHex"/>).</summary>
    public static string New(DateTimeOffset now) => "job_" + FileIds.NewHex(now);

    public static bool IsJobId(string? id) => id is not null && JobIdPattern().IsMatch(id);

    public const string Pattern = "^job_[0-9a-f]+$";

    [GeneratedRegex(Pattern)]
    private static partial Regex JobIdPattern();
}
