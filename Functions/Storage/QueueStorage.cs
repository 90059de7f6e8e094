using Azure;
using System.Globalization;
using System.Security;
using System.Text;
using System.Xml.Linq;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Functions.Storage;

/// <summary>A received message: its text (decoded from Base64), receipt and delivery count.</summary>
public sealed record QueueMessage(string MessageId, string PopReceipt, string Text, long DequeueCount, DateTimeOffset InsertedOn);

/// <summary>
/// The Queue REST operations the app uses. Message text is Base64, as the Functions queue trigger expects,
/// so the host and the in-process listener read the same messages.
/// </summary>
public sealed class QueueStorage(StoragePipelines pipelines)
{
    readonly HttpPipeline _pipeline = pipelines.Create(StorageService.Queue);
    readonly Uri _endpoint = pipelines.Account.QueueEndpoint;

    public async Task CreateQueueIfNotExistsAsync(string queue, CancellationToken cancellationToken = default)
    {
        using var _ = await StorageCalls.SendAsync(_pipeline, RequestMethod.Put, Url(queue), null,
            cancellationToken, expected: [201, 204]).ConfigureAwait(false);
    }

    /// <summary>Adds a message that becomes visible after <paramref name="visibilityDelay"/>; it never expires.</summary>
    public async Task SendAsync(string queue, string text, TimeSpan? visibilityDelay = null, CancellationToken cancellationToken = default)
    {
        var query = $"messagettl=-1&visibilitytimeout={(int)(visibilityDelay ?? TimeSpan.Zero).TotalSeconds}";
        using var _ = await StorageCalls.SendAsync(_pipeline, RequestMethod.Post, Url(queue + "/messages", query),
            request => request.Content = RequestContent.Create(MessageBody(text)), cancellationToken, expected: 201).ConfigureAwait(false);
    }

    /// <summary>Takes up to <paramref name="maxMessages"/> (1 to 32) messages, hidden from others for <paramref name="visibilityTimeout"/>.</summary>
    public async Task<IReadOnlyList<QueueMessage>> ReceiveAsync(string queue, int maxMessages, TimeSpan visibilityTimeout,
        CancellationToken cancellationToken = default)
    {
        var query = $"numofmessages={Math.Clamp(maxMessages, 1, 32)}&visibilitytimeout={(int)visibilityTimeout.TotalSeconds}";
        using var response = await StorageCalls.SendAsync(_pipeline, RequestMethod.Get, Url(queue + "/messages", query), null,
            cancellationToken, expected: 200).ConfigureAwait(false);

        var root = XDocument.Parse(response.Content.ToString()).Root;
        return root is null ? [] : root.Elements("QueueMessage").Select(m => new QueueMessage(
            m.Element("MessageId")!.Value,
            m.Element("PopReceipt")!.Value,
            DecodeText(m.Element("MessageText")?.Value ?? ""),
            long.Parse(m.Element("DequeueCount")?.Value ?? "1", CultureInfo.InvariantCulture),
            DateTimeOffset.Parse(m.Element("InsertionTime")!.Value, CultureInfo.InvariantCulture))).ToList();
    }

    /// <summary>Hides a received message for longer (or makes it visible again with zero); returns the new pop receipt.</summary>
    public async Task<string> UpdateVisibilityAsync(string queue, QueueMessage message, TimeSpan visibilityTimeout,
        CancellationToken cancellationToken = default)
    {
        var query = $"popreceipt={Uri.EscapeDataString(message.PopReceipt)}&visibilitytimeout={(int)visibilityTimeout.TotalSeconds}";
        using var response = await StorageCalls.SendAsync(_pipeline, RequestMethod.Put,
            Url($"{queue}/messages/{Uri.EscapeDataString(message.MessageId)}", query), null, cancellationToken, expected: 204).ConfigureAwait(false);
        return response.Headers.TryGetValue("x-ms-popreceipt", out var receipt) ? receipt : message.PopReceipt;
    }

    /// <summary>Deletes a processed message; a message already gone counts as deleted.</summary>
    public async Task DeleteAsync(string queue, string messageId, string popReceipt, CancellationToken cancellationToken = default)
    {
        try
        {
            using var _ = await StorageCalls.SendAsync(_pipeline, RequestMethod.Delete,
                Url($"{queue}/messages/{Uri.EscapeDataString(messageId)}", $"popreceipt={Uri.EscapeDataString(popReceipt)}"),
                null, cancellationToken, expected: 204).ConfigureAwait(false);
        }
        catch (StorageException e) when (e.IsNotFound) { }
    }

    /// <summary>The service's approximate count of messages in the queue.</summary>
    public async Task<long> GetApproximateCountAsync(string queue, CancellationToken cancellationToken = default)
    {
        using var response = await StorageCalls.SendAsync(_pipeline, RequestMethod.Get, Url(queue, "comp=metadata"), null,
            cancellationToken, expected: 200).ConfigureAwait(false);
        return response.Headers.TryGetValue("x-ms-approximate-messages-count", out var count) ? long.Parse(count, CultureInfo.InvariantCulture) : 0;
    }

    static byte[] MessageBody(string text) => Encoding.UTF8.GetBytes(
        $"<QueueMessage><MessageText>{SecurityElement.Escape(Convert.ToBase64String(Encoding.UTF8.GetBytes(text)))}</MessageText></QueueMessage>");

    // Messages written by others may be plain text; Base64 is tried first, as the Functions trigger does.
    static string DecodeText(string text)
    {
        Span<byte> buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out var written) ? Encoding.UTF8.GetString(buffer[..written]) : text;
    }

    Uri Url(string path, string? query = null) => new(_endpoint, path + (query is null ? "" : "?" + query));
}
