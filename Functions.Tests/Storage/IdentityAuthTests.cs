using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Functions.Files;
using Functions.Jobs;
using Functions.Storage;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Moq;

namespace Functions.Tests.Storage;

/// <summary>
/// The identity-based settings a Functions app in Azure has: they select Entra ID tokens, and every request on every
/// service carries the bearer token and an x-ms-version. A fake credential and a recording transport stand in for
/// Entra ID and the storage account (true seams: neither can be reached here), given the standard Microsoft.Extensions.Azure way.
/// </summary>
public sealed class IdentityAuthTests
{
    internal static IConfiguration Settings(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    static readonly (string, string)[] IdentitySettings =
    [
        ("AzureWebJobsStorage:blobServiceUri", "https://acct.blob.core.windows.net"),
        ("AzureWebJobsStorage:queueServiceUri", "https://acct.queue.core.windows.net"),
        ("AzureWebJobsStorage:tableServiceUri", "https://acct.table.core.windows.net"),
        ("AzureWebJobsStorage:credential", "managedidentity"),
    ];

    [Fact]
    public void Identity_settings_select_the_managed_identity_and_the_given_endpoints()
    {
        var connection = StorageConnection.FromConfiguration(Settings(IdentitySettings));

        Assert.Null(connection.ConnectionString);
        Assert.IsType<ManagedIdentityCredential>(connection.Credential);
        Assert.Equal(("https://acct.blob.core.windows.net/", "https://acct.queue.core.windows.net/", "https://acct.table.core.windows.net/"),
            (connection.BlobUri!.ToString(), connection.QueueUri!.ToString(), connection.TableUri!.ToString()));
    }

    [Fact]
    public void An_account_name_alone_derives_the_three_endpoints_and_a_client_id_selects_a_user_assigned_identity()
    {
        var connection = StorageConnection.FromConfiguration(Settings(("AzureWebJobsStorage:accountName", "acct"),
            ("AzureWebJobsStorage:credential", "managedidentity"), ("AzureWebJobsStorage:clientId", "00000000-0000-0000-0000-000000000001")));

        Assert.Equal(("https://acct.blob.core.windows.net/", "https://acct.queue.core.windows.net/", "https://acct.table.core.windows.net/"),
            (connection.BlobUri!.ToString(), connection.QueueUri!.ToString(), connection.TableUri!.ToString()));
        Assert.IsType<ManagedIdentityCredential>(connection.Credential);
    }

    [Fact]
    public void A_connection_string_wins_and_needs_no_credential()
    {
        var connection = StorageConnection.FromConfiguration(Settings([("AzureWebJobsStorage", "UseDevelopmentStorage=true"), .. IdentitySettings]));

        Assert.Equal("UseDevelopmentStorage=true", connection.ConnectionString);
        Assert.Null(connection.Credential);
    }

    [Theory]
    [InlineData("garbage")] // was taken, and every storage call failed after the start
    [InlineData("AccountName=acct;AccountKey=not-base64-secret!")]
    [InlineData("DefaultEndpointsProtocol=https;AccountName=acct")] // no key and no endpoint
    public void A_connection_string_the_storage_SDKs_cannot_read_stops_the_start_without_showing_it(string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddAppStorage(Settings(("AzureWebJobsStorage", value))));

        Assert.Contains("'AzureWebJobsStorage' is not a storage connection string", error.Message);
        Assert.DoesNotContain("secret", error.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")] // an environment variable set to nothing
    [InlineData(" ")]
    public void With_no_storage_setting_the_app_says_what_to_set(string? value)
    {
        var settings = value is null ? Settings() : Settings(("AzureWebJobsStorage", value));

        var error = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddAppStorage(settings));

        Assert.Contains("No storage is configured: set 'AzureWebJobsStorage' to a connection string", error.Message);
        Assert.Contains("'AzureWebJobsStorage__accountName'", error.Message);
    }

    [Fact]
    public void The_development_connection_string_puts_every_client_on_the_emulators_endpoints()
    {
        using var services = new ServiceCollection().AddLogging()
            .AddAppStorage(Settings(("AzureWebJobsStorage", "UseDevelopmentStorage=true"))).BuildServiceProvider();

        Assert.Equal("http://127.0.0.1:10000/devstoreaccount1/images",
            services.GetRequiredKeyedService<BlobContainerClient>(StorageNames.FilesContainer).Uri.ToString());
        Assert.All(StorageNames.Tables, table =>
            Assert.Equal(table, services.GetRequiredKeyedService<TableClient>(table).Name));
    }

    [Fact]
    public async Task Every_service_sends_the_bearer_token_for_storage_and_an_api_version_and_each_request_is_counted()
    {
        var credential = new Mock<TokenCredential>();
        credential.Setup(c => c.GetTokenAsync(It.IsAny<TokenRequestContext>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new AccessToken("fake-entra-token", DateTimeOffset.UtcNow.AddHours(1)));
        var transport = new RecordingTransport(request => (request.Uri.Host!.StartsWith("acct.table", StringComparison.Ordinal) ? 204 : 201, ""));
        var collection = new ServiceCollection().AddLogging().AddAppStorage(Settings(IdentitySettings));
        collection.AddAzureClients(clients =>
        {
            clients.UseCredential(credential.Object);
            clients.ConfigureDefaults(options => options.Transport = transport);
        });
        using var services = collection.BuildServiceProvider();

        await new FileStore(services.GetRequiredKeyedService<BlobContainerClient>(StorageNames.FilesContainer))
            .SaveAsync("file_01", new byte[] { 1 }, "image/png", "f.png", DateTimeOffset.UtcNow, isPrivate: false);
        await new IdempotencyKeys(services.GetRequiredKeyedService<TableClient>(StorageNames.IdempotencyTable), TimeProvider.System)
            .BindAsync("key", new KeyUse("job_01", "hash", DateTimeOffset.UtcNow), _ => Task.FromResult(true), default);

        Assert.Equal(["acct.blob.core.windows.net", "acct.table.core.windows.net"], transport.Requests.Select(r => r.Host));
        Assert.All(transport.Requests, r => Assert.Equal("Bearer fake-entra-token", r.Authorization));
        Assert.All(transport.Requests, r => Assert.False(string.IsNullOrEmpty(r.Version)));
        Assert.Equal(2, services.GetRequiredService<StorageRequestCounter>().Count);
        credential.Verify(c => c.GetTokenAsync(It.Is<TokenRequestContext>(t => t.Scopes.SequenceEqual(new[] { "https://storage.azure.com/.default" })),
            It.IsAny<CancellationToken>()), Times.AtLeastOnce);
    }
}
