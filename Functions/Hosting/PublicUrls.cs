namespace Functions.Hosting;

/// <summary>Absolute links the API hands out: the configured public base URL, else the request's own scheme and host.</summary>
public sealed class PublicUrls(IOptions<ApiOptions> options)
{
    public string BaseOf(HttpRequest request) =>
        options.Value.ConfiguredBaseUrl ?? $"{request.Scheme}://{HostOf(request)}{request.PathBase}";

    // HTTP/1.0 may leave Host out: then the address the request came in on.
    static HostString HostOf(HttpRequest request)
    {
        if (request.Host.HasValue) return request.Host;
        var connection = request.HttpContext.Connection;
        if (connection.LocalIpAddress is not { } address) return new HostString("localhost");
        var host = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        return new HostString(host, connection.LocalPort);
    }

    public string FileDownload(HttpRequest request, string fileId) => BaseOf(request) + Routes.PathOf(Routes.FileDownload, fileId);

    public string Job(HttpRequest request, string jobId) => BaseOf(request) + Routes.PathOf(Routes.Job, jobId);
}
