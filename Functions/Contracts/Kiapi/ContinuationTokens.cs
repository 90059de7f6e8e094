using System.Buffers.Text;
using System.Text;

namespace Functions.Contracts.Kiapi;

/// <summary>
/// The storage's list positions travel Base64url-encoded and tagged with the list they page (files, jobs): safe in a
/// query string, and a malformed token, or one of the other list, is caught before the storage sees it.
/// </summary>
public static class ContinuationTokens
{
    public static string Encode(string list, string position) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{list}:{position}"));

    /// <summary>The position a token of <paramref name="list"/> wraps; null for anything else.</summary>
    public static string? Decode(string list, string token)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            var prefix = list + ":";
            return text.StartsWith(prefix, StringComparison.Ordinal) && text.Length > prefix.Length && !text.Contains('\uFFFD')
                ? text[prefix.Length..]
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
