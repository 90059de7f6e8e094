using System.Text.RegularExpressions;

namespace Functions.Contracts.Kiapi;

/// <summary>
/// An id kiapi takes in a path (file_id, job_id), and the one rule for it, applied before any storage read: an id
/// without the contract's pattern is a 422 naming it; one with the pattern but longer than any id the service makes
/// cannot exist, and its resource answers its own 404 (storage would refuse such a name with a 400).
/// </summary>
public sealed class KiapiPathId(string name, string pattern, Regex regex)
{
    /// <summary>Longer than any file or job id the service makes (33); the contract's pattern sets no length.</summary>
    public const int MaxLength = 64;

    /// <summary>Has the contract's pattern and is no longer than <see cref="MaxLength"/>: an id the service could have made.</summary>
    public bool MayExist(string id) => id.Length <= MaxLength && MatchesWhole(id);

    /// <summary>
    /// Whether storage is to be asked for <paramref name="id"/>. When not, <paramref name="malformed"/> is the 422 for an
    /// id without the pattern, or null for one that cannot exist: the caller answers its resource's 404.
    /// </summary>
    public bool MayExist(string id, out JsonHttpResult<KiapiValidationError>? malformed)
    {
        malformed = MatchesWhole(id) ? null : KiapiErrors.InvalidPath(name, pattern, id);
        return malformed is null && id.Length <= MaxLength;
    }

    // The whole value, as JSON Schema reads a pattern such as "^job_[0-9a-f]+$": in .NET, "$" also matches before a
    // final newline, so "job_0a\n" would pass.
    bool MatchesWhole(string value) => regex.Match(value) is { Success: true } match && match.Length == value.Length;
}
