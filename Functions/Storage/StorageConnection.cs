using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;

namespace Functions.Storage;

/// <summary>
/// Where storage is and how to reach it, read as the Functions host reads its <c>AzureWebJobsStorage</c> connection:
/// a connection string (locally: <c>UseDevelopmentStorage=true</c> or Azurite's explicit endpoints), or in Azure the
/// identity-based settings <c>__accountName</c> or <c>__blobServiceUri</c>/<c>__queueServiceUri</c>/<c>__tableServiceUri</c>,
/// with <c>__credential</c> and <c>__clientId</c>.
/// </summary>
public sealed class StorageConnection
{
    public const string SettingName = "AzureWebJobsStorage";

    // A class, not a record: a record's ToString would print the connection string, account key included.
    StorageConnection(string? connectionString, Uri? blobUri, Uri? queueUri, Uri? tableUri, TokenCredential? credential) =>
        (ConnectionString, BlobUri, QueueUri, TableUri, Credential) = (connectionString, blobUri, queueUri, tableUri, credential);

    /// <summary>The connection string, when storage is reached with one (then the other members are null).</summary>
    public string? ConnectionString { get; }
    public Uri? BlobUri { get; }
    /// <summary>Not used by the app itself: the Durable backend keeps its task hub's queues there.</summary>
    public Uri? QueueUri { get; }
    public Uri? TableUri { get; }
    public TokenCredential? Credential { get; }

    public static StorageConnection FromConfiguration(IConfiguration configuration)
    {
        var connectionString = configuration[SettingName];
        if (!string.IsNullOrWhiteSpace(connectionString)) return new(Checked(connectionString), null, null, null, null);

        var section = configuration.GetSection(SettingName);
        if (section.GetChildren().Any()) return FromIdentitySettings(section); // an empty value alone is no setting

        throw new InvalidOperationException(
            $"No storage is configured: set '{SettingName}' to a connection string (UseDevelopmentStorage=true locally) " +
            $"or, for an identity-based connection, '{SettingName}__accountName' (or '{SettingName}__blobServiceUri', '{SettingName}__queueServiceUri' and '{SettingName}__tableServiceUri').");
    }

    /// <summary>
    /// The connection string, if the storage SDKs can read it: one they cannot would otherwise pass the start and fail
    /// each storage call. Their message names a part's key at most, never a value (the account key is one).
    /// </summary>
    static string Checked(string connectionString)
    {
        try
        {
            _ = new BlobServiceClient(connectionString);
            _ = new TableServiceClient(connectionString);
            return connectionString;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidOperationException($"'{SettingName}' is not a storage connection string ({e.Message}); locally use " +
                "UseDevelopmentStorage=true, else DefaultEndpointsProtocol=https;AccountName=…;AccountKey=….", e);
        }
    }

    static StorageConnection FromIdentitySettings(IConfigurationSection section)
    {
        var accountName = section["accountName"];
        Uri EndpointOf(string setting, string service)
        {
            var value = section[setting];
            if (!string.IsNullOrWhiteSpace(value)) return new Uri(value.TrimEnd('/') + "/");
            if (!string.IsNullOrWhiteSpace(accountName)) return new Uri($"https://{accountName}.{service}.core.windows.net/");
            throw new InvalidOperationException($"Identity-based storage needs '{SettingName}__{setting}' or '{SettingName}__accountName'.");
        }

        return new(null, EndpointOf("blobServiceUri", "blob"), EndpointOf("queueServiceUri", "queue"), EndpointOf("tableServiceUri", "table"),
            CredentialOf(section["credential"], section["clientId"]));
    }

    // Functions' identity-based connections: "managedidentity" (optionally a user-assigned clientId), else the default chain.
    static TokenCredential CredentialOf(string? credential, string? clientId)
    {
        if (string.Equals(credential, "managedidentity", StringComparison.OrdinalIgnoreCase))
            return new ManagedIdentityCredential(string.IsNullOrWhiteSpace(clientId)
                ? ManagedIdentityId.SystemAssigned
                : ManagedIdentityId.FromUserAssignedClientId(clientId));

        return string.IsNullOrWhiteSpace(clientId)
            ? new DefaultAzureCredential()
            : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = clientId });
    }
}
