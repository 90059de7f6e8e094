using Azure.Core;
using Azure.Identity;

namespace Functions.Storage;

/// <summary>
/// Where the storage services are and how to authenticate: a shared key from a connection string
/// (local, Azurite) or an Entra ID token credential (Azure, where shared keys are disabled).
/// </summary>
public sealed class StorageAccount
{
    public const string DevelopmentAccountName = "devstoreaccount1";
    // Azurite's well-known development key, published in the Azurite documentation.
    const string DevelopmentAccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public required Uri BlobEndpoint { get; init; }
    public required Uri QueueEndpoint { get; init; }
    public required Uri TableEndpoint { get; init; }
    public string? AccountName { get; init; }
    public byte[]? AccountKey { get; init; }
    public TokenCredential? Credential { get; init; }

    public bool UsesSharedKey => AccountKey is not null;

    /// <summary>
    /// Reads the storage connection the way a Functions app does: the connection string in
    /// <c>AzureWebJobsStorage</c>, or its identity-based form <c>AzureWebJobsStorage__blobServiceUri</c> and friends.
    /// </summary>
    public static StorageAccount FromConfiguration(IConfiguration configuration, string name = "AzureWebJobsStorage")
    {
        var connectionString = configuration[name];
        if (!string.IsNullOrWhiteSpace(connectionString))
            return FromConnectionString(connectionString);

        var section = configuration.GetSection(name);
        if (section.Exists())
            return FromIdentitySettings(section, name);

        throw new InvalidOperationException(
            $"No storage is configured: set '{name}' to a connection string (UseDevelopmentStorage=true locally) " +
            $"or set '{name}__blobServiceUri', '{name}__queueServiceUri' and '{name}__tableServiceUri'.");
    }

    public static StorageAccount FromConnectionString(string connectionString)
    {
        var parts = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => part.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.OrdinalIgnoreCase);

        if (parts.TryGetValue("UseDevelopmentStorage", out var dev) && bool.TryParse(dev, out var isDev) && isDev)
            return Development(parts.GetValueOrDefault("DevelopmentStorageProxyUri"));

        if (!parts.TryGetValue("AccountName", out var accountName) || !parts.TryGetValue("AccountKey", out var key))
            throw new InvalidOperationException("The storage connection string needs AccountName and AccountKey.");

        var protocol = parts.GetValueOrDefault("DefaultEndpointsProtocol", "https");
        var suffix = parts.GetValueOrDefault("EndpointSuffix", "core.windows.net");
        Uri EndpointOf(string setting, string service) => parts.TryGetValue(setting, out var explicitUri)
            ? new Uri(explicitUri.TrimEnd('/') + "/")
            : new Uri($"{protocol}://{accountName}.{service}.{suffix}/");

        return new StorageAccount
        {
            AccountName = accountName,
            AccountKey = Convert.FromBase64String(key),
            BlobEndpoint = EndpointOf("BlobEndpoint", "blob"),
            QueueEndpoint = EndpointOf("QueueEndpoint", "queue"),
            TableEndpoint = EndpointOf("TableEndpoint", "table"),
        };
    }

    static StorageAccount Development(string? proxyUri)
    {
        var host = proxyUri is null ? "http://127.0.0.1" : proxyUri.TrimEnd('/');
        return new StorageAccount
        {
            AccountName = DevelopmentAccountName,
            AccountKey = Convert.FromBase64String(DevelopmentAccountKey),
            BlobEndpoint = new Uri($"{host}:10000/{DevelopmentAccountName}/"),
            QueueEndpoint = new Uri($"{host}:10001/{DevelopmentAccountName}/"),
            TableEndpoint = new Uri($"{host}:10002/{DevelopmentAccountName}/"),
        };
    }

    static StorageAccount FromIdentitySettings(IConfigurationSection section, string name)
    {
        var accountName = section["accountName"];
        Uri EndpointOf(string setting, string service)
        {
            var value = section[setting];
            if (!string.IsNullOrWhiteSpace(value)) return new Uri(value.TrimEnd('/') + "/");
            if (!string.IsNullOrWhiteSpace(accountName)) return new Uri($"https://{accountName}.{service}.core.windows.net/");
            throw new InvalidOperationException($"Identity-based storage needs '{name}__{setting}' or '{name}__accountName'.");
        }

        return new StorageAccount
        {
            AccountName = accountName,
            BlobEndpoint = EndpointOf("blobServiceUri", "blob"),
            QueueEndpoint = EndpointOf("queueServiceUri", "queue"),
            TableEndpoint = EndpointOf("tableServiceUri", "table"),
            Credential = CredentialOf(section["credential"], section["clientId"]),
        };
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
