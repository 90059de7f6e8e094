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

    /// <summary>What every file id, and so every file's blob name, begins with.</summary>
    public const string Prefix = "file_";

    public static string New(DateTimeOffset now) => Prefix + NewHex(now);

    public static string FileIdForJob(string jobId) => Prefix + Jobs.JobIds.DigitsOf(jobId);

    /// <summary>The <c>file_id</c> of a route, and what a malformed one answers.</summary>
    public static readonly KiapiPathId InPath = new("file_id", Pattern, FileIdPattern());

    public static bool IsFileId(string id) => InPath.MayExist(id);

    const string Pattern = "^file_[0-9a-f]+$";

    [GeneratedRegex(Pattern)]
    private static partial Regex FileIdPattern();
}
