using System.Buffers.Text;
using System.Text;

namespace Functions.Contracts.Kiapi;

/// <summary>The engine's continuation tokens travel Base64url-encoded: safe in a query string, and a malformed one is caught before the engine sees it.</summary>
public static class ContinuationTokens
{
    public static string Encode(string token) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(token));

    public static string? Decode(string token)
    {
        try
        {
            var bytes = Base64Url.DecodeFromChars(token);
            var text = Encoding.UTF8.GetString(bytes);
            return text.Length > 0 && !text.Contains('\uFFFD') ? text : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
