namespace Functions.Generation.Providers;

/// <summary>An upstream's body read whole, refused as soon as it passes a cap (before it is all in memory, whatever Content-Length says).</summary>
static class CappedBody
{
    // What an announced length buys before its bytes come: a server that announces 50 MB and trickles holds this much.
    const int FirstPart = 4 * 1024 * 1024;

    public static async Task<byte[]> ReadAsync(HttpContent content, long maxBytes, Func<Exception> tooLarge, CancellationToken cancellationToken)
    {
        var announced = content.Headers.ContentLength;
        if (announced > maxBytes) throw tooLarge();
        var whole = announced is > 0 and <= int.MaxValue ? (int)announced.Value : 0;
        await using var body = await content.ReadAsStreamAsync(cancellationToken);
        // Sized as announced (within the cap) once the first part has come, so that an image of tens of megabytes is
        // grown once, not by doubling, and not copied at the end: the buffer is the answer when the body is as announced.
        using var buffer = new MemoryStream(Math.Min(whole, FirstPart));
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes) throw tooLarge();
            if (buffer.Length + read > buffer.Capacity && buffer.Length + read <= whole) buffer.Capacity = whole;
            buffer.Write(chunk, 0, read);
        }
        return buffer.Length == buffer.Capacity ? buffer.GetBuffer() : buffer.ToArray();
    }
}
