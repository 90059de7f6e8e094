using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Functions.Storage;
using Microsoft.Extensions.Configuration;
using Moq;

namespace Functions.Tests.Storage;

/// <summary>
/// The identity-based settings a Functions app in Azure has: they select Entra ID tokens, and every request on every
/// service carries the bearer token and the x-ms-version that token auth needs. A fake credential and a recording
/// transport stand in for Entra ID and the storage account (true seams: neither can be reached here).
/// </summary>
public sealed class IdentityAuthTests
{
    static IConfiguration Settings(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    static readonly (string, string)[] IdentitySettings =
    [
        ("AzureWebJobsStorage:blobServiceUri", "https://acct.blob.core.windows.net"),
        ("AzureWebJobsStorage:queueServiceUri", "https://acct.queue.core.windows.net"),
        ("AzureWebJobsStorage:tableServiceUri", "https://acct.table.core.windows.net"),
        ("AzureWebJobsStorage:credential", "managedidentity"),
    ];

    [Fact]
    public void Identity_settings_select_token_auth_with_the_managed_identity_and_the_given_endpoints()
    {
        var account = StorageAccount.FromConfiguration(Settings(IdentitySettings));

        Assert.False(account.UsesSharedKey);
        Assert.IsType<ManagedIdentityCredential>(account.Credential);
        Assert.Equal(("https://acct.blob.core.windows.net/", "https://acct.queue.core.windows.net/", "https://acct.table.core.windows.net/"),
            (account.BlobEndpoint.ToString(), account.QueueEndpoint.ToString(), account.TableEndpoint.ToString()));
    }

    [Fact]
    public void An_account_name_alone_derives_the_three_endpoints_and_a_client_id_selects_a_user_assigned_identity()
    {
        var account = StorageAccount.FromConfiguration(Settings(("AzureWebJobsStorage:accountName", "acct"),
            ("AzureWebJobsStorage:credential", "managedidentity"), ("AzureWebJobsStorage:clientId", "00000000-0000-0000-0000-000000000001")));

        Assert.Equal("https://acct.table.core.windows.net/", account.TableEndpoint.ToString());
        Assert.IsType<ManagedIdentityCredential>(account.Credential);
        Assert.False(account.UsesSharedKey);
    }

    [Fact]
    public void A_connection_string_wins_and_uses_the_shared_key()
    {
        var account = StorageAccount.FromConfiguration(Settings([("AzureWebJobsStorage", "UseDevelopmentStorage=true"), .. IdentitySettings]));

        Assert.True(account.UsesSharedKey);
        Assert.Null(account.Credential);
    }

    [Fact]
    public async Task Every_service_sends_the_bearer_token_for_storage_and_its_api_version()
    {
        var parsed = StorageAccount.FromConfiguration(Settings(IdentitySettings));
        var credential = new Mock<TokenCredential>();
        credential.Setup(c => c.GetTokenAsync(It.IsAny<TokenRequestContext>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new AccessToken("fake-entra-token", DateTimeOffset.UtcNow.AddHours(1)));
        var transport = new RecordingTransport();
        var pipelines = new StoragePipelines(new StorageAccount
        {
            BlobEndpoint = parsed.BlobEndpoint, QueueEndpoint = parsed.QueueEndpoint, TableEndpoint = parsed.TableEndpoint, Credential = credential.Object,
        }, new StorageRequestCounter(), transport);

        await new BlobStorage(pipelines).UploadAsync("images", "file_01", new byte[] { 1 }, "image/png");
        await new QueueStorage(pipelines).SendAsync("generation-jobs", "job_01");
        await new TableStorage(pipelines).InsertAsync("jobs", new TableEntity("job_01", "job"));

        Assert.Equal(["acct.blob.core.windows.net", "acct.queue.core.windows.net", "acct.table.core.windows.net"], transport.Requests.Select(r => r.Host));
        Assert.All(transport.Requests, r => Assert.Equal("Bearer fake-entra-token", r.Authorization));
        Assert.Equal(["2024-11-04", "2024-11-04", "2019-02-02"], transport.Requests.Select(r => r.Version));
        credential.Verify(c => c.GetTokenAsync(It.Is<TokenRequestContext>(t => t.Scopes.SequenceEqual(new[] { "https://storage.azure.com/.default" })),
            It.IsAny<CancellationToken>()), Times.AtLeastOnce);
    }

    /// <summary>Answers every request with the status its operation expects, and keeps what was sent.</summary>
    sealed class RecordingTransport : HttpPipelineTransport
    {
        public List<(string Host, string? Authorization, string? Version)> Requests { get; } = [];

        public override Request CreateRequest() => HttpClientTransport.Shared.CreateRequest();

        public override void Process(HttpMessage message) => ProcessAsync(message).AsTask().GetAwaiter().GetResult();

        public override ValueTask ProcessAsync(HttpMessage message)
        {
            var request = message.Request;
            request.Headers.TryGetValue("Authorization", out var authorization);
            request.Headers.TryGetValue("x-ms-version", out var version);
            var host = request.Uri.Host!;
            Requests.Add((host, authorization, version));
            var status = host.StartsWith("acct.table", StringComparison.Ordinal) ? 204 : 201;
            message.Response = new CannedResponse(status);
            return ValueTask.CompletedTask;
        }
    }

    sealed class CannedResponse(int status) : Response
    {
        public override int Status => status;
        public override string ReasonPhrase => "";
        public override Stream? ContentStream { get; set; } = new MemoryStream();
        public override string ClientRequestId { get; set; } = "";
        public override void Dispose() { }
        protected override bool TryGetHeader(string name, out string value) { value = ""; return false; }
        protected override bool TryGetHeaderValues(string name, out IEnumerable<string> values) { values = []; return false; }
        protected override bool ContainsHeader(string name) => false;
        protected override IEnumerable<HttpHeader> EnumerateHeaders() => [];
    }
}
