using Functions.LocalHost;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Functions.Tests.Host;

/// <summary>Where the local host listens, as the server will read it (its other refusals: ShutdownTests, through a process).</summary>
public sealed class ListenAddressTests
{
    static string? ServerUrls(string? urls, string? ports = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration["urls"] = urls;
        builder.Configuration["http_ports"] = ports;
        builder.ConfigureListenAddress();
        return builder.WebHost.GetSetting(WebHostDefaults.ServerUrlsKey);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(" ")] // was: an abort with a stack trace
    [InlineData(";")] // was: listening on the server's own port 5000
    [InlineData(" ; ")]
    public void No_address_or_a_list_of_only_spaces_and_separators_listens_on_7071(string? urls) =>
        Assert.Equal("http://localhost:7071", ServerUrls(urls));

    [Fact]
    public void Spaces_around_each_address_are_left_out()
    {
        Assert.Equal("http://127.0.0.1:7890;http://127.0.0.1:7891", ServerUrls(" http://127.0.0.1:7890 ; http://127.0.0.1:7891 "));
    }

    [Theory]
    [InlineData("http://127.0.0.1:7890/path")]
    [InlineData("http://127.0.0.1:99999")]
    [InlineData("ftp://127.0.0.1:7890")]
    [InlineData("https://127.0.0.1:7890")] // was: an abort at Kestrel's start, 134 (no certificate set up: HTTPS is the platform's)
    public void An_address_the_server_cannot_use_is_refused_naming_it(string url)
    {
        var refused = Assert.Throws<InvalidOperationException>(() => ServerUrls(url));

        Assert.StartsWith($"ASPNETCORE_URLS (or --urls) has '{url}'", refused.Message);
    }
}
