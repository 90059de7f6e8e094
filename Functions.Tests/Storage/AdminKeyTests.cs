using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using Functions.Hosting;
using Functions.Storage;
using Functions.Tests.Api;
using Functions.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Functions.Tests.Storage;

public sealed class AdminKeyTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    [Fact]
    public async Task An_instance_that_loses_the_race_to_make_the_local_key_takes_the_key_that_won()
    {
        const string winner = "adm_made_by_another_instance";
        await storage.Table(StorageNames.SettingsTable).DeleteEntityAsync("admin", "key"); // no key yet (a 404 is fine)
        var announced = new List<string>();
        var raced = 0;
        // The other instance's key lands between this one's read (no key yet) and its insert, which then meets it.
        using var services = new RecordingTransport(request =>
        {
            if (request.Method == Azure.Core.RequestMethod.Post && request.Uri.Path.EndsWith("/" + StorageNames.SettingsTable, StringComparison.Ordinal)
                && Interlocked.Exchange(ref raced, 1) == 0)
                storage.Table(StorageNames.SettingsTable).AddEntity(new AdminKeyRow
                    { PartitionKey = "admin", RowKey = "key", Sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(winner))) });
            return null;
        }).AppStorage(storage.ConnectionString);
        var adminKey = new AdminKey(Options.Create(new AuthOptions { GenerateLocalAdminKey = true }),
            services.GetRequiredKeyedService<TableClient>(StorageNames.SettingsTable), services.GetRequiredService<StorageBootstrap>(),
            new GeneratedAdminKeyTests.CapturingAnnouncer(announced));

        Assert.True(await adminKey.IsValidAsync(winner, default));
        Assert.Equal(1, raced);
        Assert.Empty(announced); // its own key was never kept, so it is never shown
    }

    [Fact]
    public async Task A_key_whose_insert_landed_but_whose_answer_was_lost_is_still_shown_once()
    {
        var settings = storage.Table(StorageNames.SettingsTable);
        await settings.DeleteEntityAsync("admin", "key"); // no key yet (a 404 is fine)
        var announced = new List<string>();
        var lost = 0;
        // The insert lands, its answer is lost (a 503 instead), and the storage client sends it again, which meets it: 409.
        using var services = new RecordingTransport(_ => null, request =>
            request.Method == Azure.Core.RequestMethod.Post && request.Uri.Path.EndsWith("/" + StorageNames.SettingsTable, StringComparison.Ordinal)
            && Interlocked.Exchange(ref lost, 1) == 0 ? RecordingTransport.Error(request, 503, "the answer was lost") : null).AppStorage(storage.ConnectionString);
        var adminKey = new AdminKey(Options.Create(new AuthOptions { GenerateLocalAdminKey = true }),
            services.GetRequiredKeyedService<TableClient>(StorageNames.SettingsTable), services.GetRequiredService<StorageBootstrap>(),
            new GeneratedAdminKeyTests.CapturingAnnouncer(announced));
        try
        {
            await adminKey.LoadOrCreateAsync(default);

            Assert.Equal(1, lost);
            var key = Assert.Single(announced);
            Assert.True(await adminKey.IsValidAsync(key, default));
        }
        finally
        {
            await settings.DeleteEntityAsync("admin", "key");
        }
    }

    [Fact]
    public async Task With_local_generation_off_no_key_is_made_nor_shown_and_none_is_valid()
    {
        var announced = new List<string>();
        var adminKey = new AdminKey(Options.Create(new AuthOptions { GenerateLocalAdminKey = false }), storage.Table(StorageNames.SettingsTable),
            storage.Bootstrap, new GeneratedAdminKeyTests.CapturingAnnouncer(announced));

        Assert.Null(await adminKey.LoadOrCreateAsync(default));
        Assert.False(await adminKey.IsValidAsync("adm_anything", default));
        Assert.Empty(announced);
    }
}
