namespace Functions.Hosting;

/// <summary>
/// A base URL a setting gives (the service's public address, an upstream's): absolute http or https, with no
/// credentials (they would show in every link, or in apiDebug), query or fragment (lost from each path joined to it).
/// </summary>
public static class PlainHttpUrl
{
    public const string Rule = "an absolute http or https URL without credentials, query or fragment";

    public static bool IsValid(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
        && uri.UserInfo.Length == 0 && uri.Query.Length == 0 && uri.Fragment.Length == 0;
}
