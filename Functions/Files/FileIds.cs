using Functions.Contracts.Kiapi;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Functions.Files;

/// <summary>
/// Ids of the form prefix + 28 hex digits: 12 of inverted milliseconds (so that key order is newest first)
/// and 16 random (64 bits: a private file or job is read by whoever holds its id). A job's output file shares its job's digits, which makes storing it idempotent.
/// </summary>
public static partial class FileIds
{
    public static string NewHex(DateTimeOffset now)
    {
        var inverted = 0xFFFF_FFFF_FFFFL - now.ToUnixTimeMilliseconds();
        return inverted.ToString("x12") + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
    }

    public static string New(DateTimeOffset now) => "file_" + NewHex(now);

    public static string FileIdForJob(string jobId) => "file_" + Jobs.JobIds.DigitsOf(jobId);

    public static bool IsFileId(string? id) => id?.Length <= MaxLength && FileIdPattern().MatchesWhole(id);

    /// <summary>Has the contract's shape, whatever its length (the contract sets none).</summary>
    public static bool MatchesPattern(string id) => FileIdPattern().MatchesWhole(id);

    public const string Pattern = "^file_[0-9a-f]+$";

    /// <summary>
    /// Longer than any file or job id the service makes (33): an id past it cannot exist, and is answered so before
    /// storage sees it, which refuses names past its own limits with a 400.
    /// </summary>
    public const int MaxLength = 64;

    [GeneratedRegex(Pattern)]
    private static partial Regex FileIdPattern();
}
