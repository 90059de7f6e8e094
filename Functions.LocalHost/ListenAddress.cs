namespace Functions.LocalHost;

public static class ListenAddress
{
    /// <summary>How long a stop of the local host may take in all: within 5 s of SIGTERM, with a second to spare.</summary>
    public static readonly TimeSpan ShutdownBound = TimeSpan.FromSeconds(4);

    /// <summary>
    /// http://localhost:7071, the Functions host's own default, unless --urls, ASPNETCORE_URLS or ASPNETCORE_HTTP_PORTS
    /// says otherwise. A value the server cannot use stops the start here, naming it: Kestrel would fail its start
    /// with stack traces for a bad URL, and take a port list it cannot read for none (listening on port 80).
    /// </summary>
    public static WebApplicationBuilder ConfigureListenAddress(this WebApplicationBuilder builder)
    {
        var urls = Entries(builder.Configuration["urls"]);
        var ports = Entries(builder.Configuration["http_ports"]);
        foreach (var url in urls)
            if (!IsServerUrl(url))
                throw new InvalidOperationException($"ASPNETCORE_URLS (or --urls) has '{url}'; each must be an http URL with a port " +
                    "from 0 to 65535 and no path, such as http://localhost:7071 (HTTPS is the platform's: this host has no certificate set up).");
        // The server would take each entry as written, spaces around it included (and fail on them).
        if (urls.Length > 0) builder.WebHost.UseUrls(urls);
        foreach (var port in ports)
            if (!ushort.TryParse(port, out _))
                throw new InvalidOperationException($"ASPNETCORE_HTTP_PORTS has '{port}'; each must be a port number, 0 to 65535.");
        // A list of only spaces or separators is none: it failed with a stack trace, or listened on the server's port 5000.
        if (urls.Length == 0 && ports.Length == 0) builder.WebHost.UseUrls("http://localhost:7071");
        builder.Host.ConfigureHostOptions(o => o.ShutdownTimeout = ShutdownBound);
        return builder;
    }

    /// <summary>
    /// Whether a failed start is the server's failure to listen on its address: in use (Kestrel's IOException), not on
    /// this machine or not ours to open (the socket's own error).
    /// </summary>
    public static bool IsBindFailure(Exception? exception) =>
        exception is IOException { InnerException: Microsoft.AspNetCore.Connections.AddressInUseException } or System.Net.Sockets.SocketException;

    // Both lists are separated by semicolons, as the server reads them.
    static string[] Entries(string? list) => list?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

    static bool IsServerUrl(string url)
    {
        try
        {
            var address = BindingAddress.Parse(url);
            // A path base is the app's to set (UsePathBase); the server refuses one in its address, and an out-of-range port, with a stack trace.
            // https too would need a certificate, which the slim builder's server is not set up to load: an abort at its start.
            return address.Scheme is "http" && address.Port is >= 0 and <= ushort.MaxValue && address.PathBase.Length == 0;
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return false;
        }
    }
}
