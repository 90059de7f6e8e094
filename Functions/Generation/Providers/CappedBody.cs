namespace Functions.Generation.Providers;

/// <summary>An upstream's body read whole, refused as soon as it passes a cap (before it is all in memory, whatever Content-Length says).</summary>
static class CappedBody
{
    public static async Task<byte[]> ReadAsync(HttpContent content, long maxBytes, Func<Exception> tooLarge, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > maxBytes) throw tooLarge();
        await using var body = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes) throw tooLarge();
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
