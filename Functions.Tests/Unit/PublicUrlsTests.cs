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
}
