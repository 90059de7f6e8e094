using Functions.LocalHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Functions.Tests.Host;

/// <summary>The local host's log keeps the Durable Task worker's warnings and errors, and drops its errors once the stop cut it off.</summary>
public sealed class ConsoleLogsTests
{
    [Fact]
    public void The_Durable_workers_errors_are_logged_until_the_stop_cuts_it_off_and_its_warnings_after_too()
    {
        using var provider = new ServiceCollection().AddLogging(logging => logging.UseLocalHostConsole()).BuildServiceProvider();
        var worker = provider.GetRequiredService<ILoggerFactory>().CreateLogger("Microsoft.DurableTask.Worker.Grpc");
        var app = provider.GetRequiredService<ILoggerFactory>().CreateLogger("Functions.Jobs.JobSubmitter");

        var before = (worker.IsEnabled(LogLevel.Information), worker.IsEnabled(LogLevel.Warning), worker.IsEnabled(LogLevel.Error));
        provider.GetRequiredService<WorkerCutOff>().Mark();
        var after = (worker.IsEnabled(LogLevel.Warning), worker.IsEnabled(LogLevel.Error), worker.IsEnabled(LogLevel.Critical), app.IsEnabled(LogLevel.Error));

        Assert.Equal((false, true, true), before);
        Assert.Equal((true, false, true, true), after);
    }

    [Theory]
    [InlineData(null, "simple")]
    [InlineData("json", "json")] // was: simple whatever the settings said
    [InlineData("systemd", "systemd")]
    public void The_console_formatter_the_settings_name_is_the_one_used(string? named, string used)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:Console:FormatterName"] = named }).Build();
        using var provider = new ServiceCollection().AddSingleton<IConfiguration>(configuration)
            .AddLogging(logging => logging.AddConfiguration(configuration.GetSection("Logging")).UseLocalHostConsole()).BuildServiceProvider();

        Assert.Equal(used, provider.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>>().CurrentValue.FormatterName);
    }
}
