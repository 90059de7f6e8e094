namespace Functions.LocalHost;

public static class ListenAddress
{
    /// <summary>http://localhost:7071, the Functions host's own default, unless --urls, ASPNETCORE_URLS or ASPNETCORE_HTTP_PORTS says otherwise.</summary>
    public static WebApplicationBuilder ConfigureListenAddress(this WebApplicationBuilder builder)
    {
        var configured = builder.Configuration["urls"] ?? builder.Configuration["http_ports"];
        if (string.IsNullOrEmpty(configured)) builder.WebHost.UseUrls("http://localhost:7071");
        builder.Host.ConfigureHostOptions(o => o.ShutdownTimeout = TimeSpan.FromSeconds(4));
        return builder;
    }
}
