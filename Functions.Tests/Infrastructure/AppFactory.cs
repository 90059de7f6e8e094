using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Functions.Tests.Infrastructure;

/// <summary>The real app in its local host, in process, on a given storage, with settings and service overrides for one test class.</summary>
public sealed class AppFactory(string storageConnection, IReadOnlyDictionary<string, string?> settings,
    Action<IServiceCollection>? services = null, Action<ILoggingBuilder>? logging = null) : WebApplicationFactory<Functions.LocalHost.FunctionCatalog>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseContentRoot(AppContext.BaseDirectory);
        builder.UseSetting("AzureWebJobsStorage", storageConnection);
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
        if (services is not null) builder.ConfigureTestServices(services);
        if (logging is not null) builder.ConfigureLogging(logging);
    }
}
