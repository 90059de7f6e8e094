using Functions.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Functions.Tests.Unit;

/// <summary>Links are absolute: on the configured base, or when none is configured (blank counts as none) on the request's own.</summary>
public sealed class PublicUrlsTests
{
    [Theory]
    [InlineData(null, "http://app.local:7071/api/v1/files/file_ab/download")]
    [InlineData("", "http://app.local:7071/api/v1/files/file_ab/download")] // Core Tools sets an empty local setting as an empty variable
    [InlineData("  ", "http://app.local:7071/api/v1/files/file_ab/download")]
    [InlineData("https://images.example.com/", "https://images.example.com/api/v1/files/file_ab/download")]
    [InlineData(" https://images.example.com/base ", "https://images.example.com/base/api/v1/files/file_ab/download")]
    public void A_link_is_absolute_on_the_configured_base_or_else_the_requests(string? configured, string expected)
    {
        var request = new DefaultHttpContext().Request;
        (request.Scheme, request.Host) = ("http", new HostString("app.local", 7071));

        var link = new PublicUrls(Options.Create(new ApiOptions { PublicBaseUrl = configured })).FileDownload(request, "file_ab");

        Assert.Equal(expected, link);
    }
}
