using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Functions.Contracts.Kiapi;

/// <summary>
/// The storage's list positions travel Base64url-encoded, tagged with the list they page (files, jobs) and a check
/// value: safe in a query string, and a token that is malformed, of the other list, edited or made up is caught before
/// the storage sees it (a made-up position once reached Azurite, which answered 500). The check value guards against
/// mistakes, not forgery: a position only says where a list resumes, and each list still applies its own filter.
/// </summary>
public static class ContinuationTokens
{
    const int CheckHexDigits = 8;

    public static string Encode(string list, string position) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{list}:{Check(list, position)}:{position}"));

    /// <summary>The position a token of <paramref name="list"/> wraps; null for anything else.</summary>
    public static string? Decode(string list, string token)
    {
        string text;
        try
        {
            text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
        }
        catch (FormatException)
        {
            return null;
        }
        var prefix = list + ":";
        if (!text.StartsWith(prefix, StringComparison.Ordinal) || text.Length <= prefix.Length + CheckHexDigits + 1 || text[prefix.Length + CheckHexDigits] != ':')
            return null;
        var position = text[(prefix.Length + CheckHexDigits + 1)..];
        // Storage positions are printable ASCII (Azure's list markers, DTFx's table continuation tokens).
        if (!HeaderText.IsPrintableAscii(position)) return null;
        return text.AsSpan(prefix.Length, CheckHexDigits).SequenceEqual(Check(list, position)) ? position : null;
    }

    static string Check(string list, string position) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{list}:{position}")))[..CheckHexDigits];
}
