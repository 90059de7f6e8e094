namespace Functions.Tests.Infrastructure;

/// <summary>Generate requests a test sends with a header of its own (written as given, an empty value included).</summary>
public static class GenerateRequests
{
    public static HttpRequestMessage With(object body, string header, string value)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/images/generate") { Content = JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation(header, value);
        return request;
    }
}
