namespace Functions.Hosting;

public static class ListenAddress
{
    public const string CustomHandlerPortVariable = "FUNCTIONS_CUSTOMHANDLER_PORT";
    public const string LocalDefault = "http://localhost:7071";

    /// <summary>Whether the Functions host started this process as its custom handler.</summary>
    public static bool UnderFunctionsHost(IConfiguration configuration) => !string.IsNullOrEmpty(configuration[CustomHandlerPortVariable]);

    /// <summary>
    /// Under the Functions host: the port it gives, on loopback, and its queue trigger drives the worker instead of our
    /// listener. Started directly: ASPNETCORE_URLS or --urls if set, else http://localhost:7071 like the Functions host.
    /// </summary>
    public static WebApplicationBuilder ConfigureListenAddress(this WebApplicationBuilder builder)
    {
        var port = builder.Configuration[CustomHandlerPortVariable];
        if (!string.IsNullOrEmpty(port))
        {
            builder.WebHost.UseUrls($"http://127.0.0.1:{int.Parse(port)}");
            builder.Configuration[$"{WorkerOptions.Section}:{nameof(WorkerOptions.ListenerEnabled)}"] = "false";
        }
        else if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(LocalDefault);
        }
        return builder;
    }
}
