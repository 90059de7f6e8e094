using Microsoft.Extensions.Options;

namespace Functions.Hosting;

/// <summary>Absolute links the API hands out: the configured public base URL, else the request's own scheme and host.</summary>
public sealed class PublicUrls(IOptions<ApiOptions> options)
{
    public string BaseOf(HttpRequest request) =>
        options.Value.PublicBaseUrl?.TrimEnd('/') ?? $"{request.Scheme}://{request.Host}{request.PathBase}";

    public string FileDownload(HttpRequest request, string fileId) => $"{BaseOf(request)}/api/v1/files/{fileId}/download";

    public string Job(HttpRequest request, string jobId) => $"{BaseOf(request)}/api/v1/jobs/{jobId}";
}
