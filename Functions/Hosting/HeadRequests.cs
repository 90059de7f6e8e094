namespace Functions.Hosting;

public static class HeadRequests
{
    /// <summary>A HEAD answer keeps its status and headers and sends no body, whichever server carries it.</summary>
    public static void OmitBodyOfHead(this HttpRequest request)
    {
        if (HttpMethods.IsHead(request.Method)) request.HttpContext.Response.Body = Stream.Null;
    }
}
