using Functions.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Functions.Tests.Unit;

public sealed class PublicUrlsTests
{
    static readonly PublicUrls Urls = new(Options.Create(new ApiOptions()));

    [Theory]
    [InlineData("127.0.0.1", "http://127.0.0.1:7071")]
    [InlineData("::1", "http://[::1]:7071")]
    public void A_request_without_Host_gets_links_to_the_address_it_came_in_on(string address, string expected)
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = "http";
        context.Connection.LocalIpAddress = IPAddress.Parse(address);
        context.Connection.LocalPort = 7071;

        Assert.Equal(expected, Urls.BaseOf(context.Request));
    }

    [Fact]
    public void A_request_with_Host_gets_links_to_it()
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("images.example", 8443);

        Assert.Equal("https://images.example:8443", Urls.BaseOf(context.Request));
    }

    [Fact]
    public void Links_are_made_from_the_routes_under_host_jsons_prefix()
    {
        var context = new DefaultHttpContext { Request = { Scheme = "http", Host = new HostString("localhost", 7071) } };

        Assert.Equal(Routes.Prefix, Functions.LocalHost.HostJson.Load(Path.Combine(RepositoryRoot.Path, "host.json")).RoutePrefix);
        Assert.Equal("http://localhost:7071/api/v1/jobs/job_0ab", Urls.Job(context.Request, "job_0ab"));
        Assert.Equal("http://localhost:7071/api/v1/files/file_0ab/download", Urls.FileDownload(context.Request, "file_0ab"));
    }
}
