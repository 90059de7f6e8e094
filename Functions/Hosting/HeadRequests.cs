namespace Functions.Hosting;

public static class HeadRequests
{
    /// <summary>A HEAD answer keeps its status and headers and sends no body, whichever server carries it.</summary>
    public static void OmitBodyOfHead(this HttpRequest request)
    {
        if (request.Method == HttpMethods.Head) request.HttpContext.Response.Body = Stream.Null; // "head" is no HEAD (below)
    }

    /// <summary>
    /// A known method spelled in another case ("head", "delete"): RFC 9110 §9.1 makes a method case-sensitive, so it is
    /// none of a route's. Both hosts' routing, and ASP.NET Core's file results, match methods ignoring case: a "head"
    /// answered as HEAD (headers, no body) was failed by Kestrel, which saw no HEAD, as an empty 500.
    /// </summary>
    public static bool HasMethodInAnotherCase(this HttpRequest request) =>
        !string.Equals(HttpMethods.GetCanonicalizedValue(request.Method), request.Method, StringComparison.Ordinal);
}
