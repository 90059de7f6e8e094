using System.Diagnostics;
using Azure.Data.Tables;
using Functions.Storage;
using Functions.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Functions.Tests.Storage;

/// <summary>How the app's storage clients behave when storage fails: a short retry budget, and errors whose text stays ours.</summary>
public sealed class StorageFaultTests
{
    const string StorageText = "The property value exceeds the maximum allowed size; RequestId:0f3a";

    static (ServiceProvider Services, RecordingTransport Transport) StorageAnswering(int status)
    {
        var transport = new RecordingTransport(request => RecordingTransport.Error(request, status, StorageText));
        return (transport.AppStorage("UseDevelopmentStorage=true"), transport);
    }

    static UpstreamTokens Tokens(IServiceProvider services) => new(services.GetRequiredKeyedService<TableClient>(StorageNames.SettingsTable),
        services.GetRequiredService<StorageBootstrap>(), Options.Create(new Generation.Providers.ProviderOptions()), TimeProvider.System);

    [Fact]
    public async Task A_storage_5xx_is_tried_three_times_within_a_second_or_two_and_reads_as_an_outage()
    {
        var (services, transport) = StorageAnswering(503);
        using var _ = services;
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => Tokens(services).GetAsync("openai", default));

        Assert.Equal(3, transport.Requests.Count);
        Assert.Equal(3, services.GetRequiredService<StorageRequestCounter>().Count);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
        Assert.True(StorageFaults.IsOutage(error));
    }

    [Fact]
    public async Task A_storage_4xx_is_not_retried_and_reads_as_a_refusal()
    {
        var (services, transport) = StorageAnswering(400);
        using var _ = services;

        var error = await Assert.ThrowsAnyAsync<Exception>(() => Tokens(services).GetAsync("openai", default));

        Assert.Single(transport.Requests);
        Assert.Contains(StorageText, error.Message); // the log keeps it
        Assert.False(StorageFaults.IsOutage(error));
        Assert.True(StorageFaults.IsStorage(error));
    }

    [Theory]
    [InlineData(409, "EntityAlreadyExists", true)]
    [InlineData(409, "BlobAlreadyExists", true)]
    [InlineData(409, "TableBeingDeleted", false)] // nothing was written: a write that takes it for "made first" loses its row
    [InlineData(409, "ContainerBeingDeleted", false)]
    [InlineData(412, "UpdateConditionNotSatisfied", false)]
    public void A_409_is_a_row_already_there_unless_its_table_or_container_is_being_deleted(int status, string code, bool alreadyThere) =>
        Assert.Equal(alreadyThere, StorageFaults.IsAlreadyThere(new Azure.RequestFailedException(status, "refused", code, null)));
}
