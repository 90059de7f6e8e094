using Functions.Contracts.Kiapi;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Functions.Files;

/// <summary>
/// Ids of the form prefix + 20 hex digits: 12 of inverted milliseconds (so that key order is newest first)
/// and 8 random. A job's output file shares its job's digits, which makes storing it idempotent.
/// </summary>
public static partial class FileIds
{
    public static string NewHex(DateTimeOffset now)
    {
        var inverted = 0xFFFF_FFFF_FFFFL - now.ToUnixTimeMilliseconds();
        return inverted.ToString("x12") + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
    }

    public static string New(DateTimeOffset now) => "file_" + NewHex(now);

    public static string FileIdForJob(string jobId) => "file_" + Jobs.JobIds.DigitsOf(jobId);

    public static bool IsFileId(string? id) => FileIdPattern().MatchesWhole(id);

    public const string Pattern = "^file_[0-9a-f]+$";

    [GeneratedRegex(Pattern)]
    private static partial Regex FileIdPattern();
}
