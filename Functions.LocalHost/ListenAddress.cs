namespace Functions.LocalHost;

public static class ListenAddress
{
    /// <summary>How long a stop of the local host may take in all: the issue asks it to stop within 5 s of SIGTERM.</summary>
    public static readonly TimeSpan ShutdownBound = TimeSpan.FromSeconds(4);

    /// <summary>http://localhost:7071, the Functions host's own default, unless --urls, ASPNETCORE_URLS or ASPNETCORE_HTTP_PORTS says otherwise.</summary>
    public static WebApplicationBuilder ConfigureListenAddress(this WebApplicationBuilder builder)
    {
        var configured = builder.Configuration["urls"] ?? builder.Configuration["http_ports"];
        if (string.IsNullOrEmpty(configured)) builder.WebHost.UseUrls("http://localhost:7071");
        builder.Host.ConfigureHostOptions(o => o.ShutdownTimeout = ShutdownBound);
        return builder;
    }
}
