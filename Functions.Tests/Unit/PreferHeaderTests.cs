using Functions.Hosting;
using Microsoft.AspNetCore.Http;

namespace Functions.Tests.Unit;

public sealed class PreferHeaderTests
{
    [Theory]
    [InlineData("wait=5", false, 5)]
    [InlineData("wait = 5", false, 5)] // RFC 7240: BWS around "="
    [InlineData("WAIT=\"7\"", false, 7)]
    [InlineData("respond-async, wait=3", true, 3)]
    [InlineData("respond-async;foo=bar", true, null)]
    [InlineData("Respond-Async", true, null)] // RFC 7240: preference names are case-insensitive
    [InlineData("wait=0, wait=30", false, 0)] // RFC 7240: only the first instance counts
    [InlineData("wait=abc, wait=30", false, null)]
    [InlineData("wait=-1", false, null)]
    [InlineData("wait=abc", false, null)]
    [InlineData("waiting=5", false, null)]
    [InlineData("respond-async=1", false, null)]
    [InlineData("wait=4\nrespond-async, wait=9", true, 4)] // two Prefer fields read as one list
    [InlineData("foo=\"a, respond-async\"", false, null)] // RFC 7240: a quoted string's commas are its own
    [InlineData("foo=\"x,wait=0\", wait=30", false, 30)]
    [InlineData("foo=\"x;y\"; p=\"q,r\", respond-async", true, null)]
    [InlineData("respond-async=\"\"", true, null)] // RFC 7240 (2): an empty value is no value
    [InlineData("respond-async=", true, null)]
    [InlineData("wait=\"\", wait=5", false, null)] // the first wait, which says nothing, counts
    [InlineData("wait=\"1\\2\"", false, 12)] // a quoted pair stands for its character
    [InlineData("\"respond-async\", wait=\"3", false, 3)] // a quoted name, an unclosed quote: no fault
    public void Reads_respond_async_and_wait(string header, bool respondAsync, int? wait)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["Prefer"] = header.Split('\n');

        Assert.Equal(new PreferHeader(respondAsync, wait), PreferHeader.Of(context.Request));
    }
}
