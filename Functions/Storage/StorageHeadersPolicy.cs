using Azure.Core;
using Azure.Core.Pipeline;

namespace Functions.Storage;

/// <summary>Stamps the REST API version every storage request needs (token auth requires it on every service).</summary>
sealed class StorageHeadersPolicy(string version) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message) =>
        message.Request.Headers.SetValue("x-ms-version", version);
}
