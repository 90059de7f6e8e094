namespace Functions.Generation.Providers;

/// <summary>An upstream's body read whole, refused as soon as it passes a cap (before it is all in memory, whatever Content-Length says).</summary>
static class CappedBody
{
    public static async Task<byte[]> ReadAsync(HttpContent content, long maxBytes, Func<Exception> tooLarge, CancellationToken cancellationToken)
    {
        var announced = content.Headers.ContentLength;
        if (announced > maxBytes) throw tooLarge();
        await using var body = await content.ReadAsStreamAsync(cancellationToken);
        // Sized as announced (within the cap), so that an image of tens of megabytes is neither grown by doubling nor
        // copied once more at the end: the buffer is the answer when the body is as long as announced.
        using var buffer = new MemoryStream(announced > 0 && announced <= Array.MaxLength ? (int)announced.Value : 0);
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes) throw tooLarge();
            buffer.Write(chunk, 0, read);
        }
        return buffer.Length == buffer.Capacity ? buffer.GetBuffer() : buffer.ToArray();
    }
}
