using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Functions.Tests.Infrastructure;

/// <summary>An Azurite of its own and the app on it; subclasses change settings. One per test class.</summary>
public class AppFixture : IAsyncLifetime
{
    public const string AdminKey = "test-admin-key-0123456789";

    public Azurite Azurite { get; private set; } = null!;
    public AppFactory App { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;

    protected virtual IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>();

    /// <summary>Whether the app's log records are kept, for tests that read <see cref="Logs"/>.</summary>
    protected virtual bool KeepsLogs => false;

    readonly FakeLogCollector _logs = new();

    /// <summary>The app's log lines so far, each "level category: message exception"; none unless <see cref="KeepsLogs"/>.</summary>
    public IEnumerable<string> Logs => _logs.GetSnapshot().Select(r => $"{r.Level} {r.Category}: {r.Message} {r.Exception}");

    void ConfigureLogging(ILoggingBuilder logging)
    {
        if (KeepsLogs) logging.AddProvider(new FakeLoggerProvider(_logs));
    }

    /// <summary>For true seams only (a provider that always throws, a clock).</summary>
    protected virtual void ConfigureServices(IServiceCollection services) { }

    public async Task InitializeAsync()
    {
        Azurite = await AzuritePool.RentAsync();
        // The hourly orphan sweep stays out of the tests' way (at minute 17 it would remove files a test keeps old on purpose);
        // OrphanFilesTests runs it itself.
        _settings = new Dictionary<string, string?> { ["Auth:AdminKey"] = AdminKey, ["AzureWebJobs.SweepOrphanFiles.Disabled"] = "true" };
        foreach (var (key, value) in Settings) _settings[key] = value;
        App = new AppFactory(Azurite.ConnectionString, _settings, ConfigureServices, ConfigureLogging);
        Client = App.CreateClient();
    }

    Dictionary<string, string?> _settings = null!;

    /// <summary>Stops the app (its listener and any job it was running) and starts a new one on the same storage.</summary>
    public async Task RestartAppAsync()
    {
        Client.Dispose();
        await App.DisposeAsync();
        App = new AppFactory(Azurite.ConnectionString, _settings, ConfigureServices, ConfigureLogging);
        Client = App.CreateClient();
    }

    public T Service<T>() where T : notnull => (T)App.Services.GetService(typeof(T))!;

    /// <summary>Whether the cancel record a DELETE writes for a job is in storage (read from its table directly).</summary>
    public async Task<bool> HasCancelRecordAsync(string jobId) =>
        (await new Azure.Data.Tables.TableClient(Azurite.ConnectionString, Functions.Storage.StorageNames.CancelsTable)
            .GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>(jobId, "cancel")).HasValue;

    /// <summary>The private copy a job keeps of the reference image it was sent inline, read from storage (no answer shows its id); null when none.</summary>
    public async Task<string?> ReferenceCopyOfAsync(string jobId)
    {
        await foreach (var file in Service<Functions.Files.FileStore>().AllAsync(default))
            if (file.Kind == Functions.Files.FileKinds.Reference && file.JobId == jobId) return file.FileId;
        return null;
    }

    public async Task<JsonElement> GenerateAsync(object body)
    {
        var response = await Client.PostAsJsonAsync("/api/images/generate", body);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, $"generate answered {(int)response.StatusCode}: {json}");
        return json;
    }

    public virtual async Task DisposeAsync()
    {
        // Each may be missing when the start failed (Azurite not installed): that failure is the one to read, not a null here.
        Client?.Dispose();
        if (App is not null) await App.DisposeAsync();
        await AzuritePool.ReturnAsync(Azurite);
    }
}
