namespace Functions.Hosting;

/// <summary>
/// A request body that fails as a 408 when no byte arrives for <c>maxSilence</c>. Kestrel's minimum data rate is an
/// average since the body began, so a client that sent a burst and then went quiet held its request (and the upload's
/// temporary file) for bytes / 240 seconds: 201 s after 48 KB, hours after megabytes. Read-only, forward-only.
/// </summary>
public sealed class SilenceBoundBody(Stream inner, System.IO.Pipelines.PipeReader reader, TimeSpan maxSilence) : Stream
{
    /// <summary>Puts the bound on the request's body (Api:BodySilenceSeconds) before it is read.</summary>
    public static void Guard(HttpRequest request)
    {
        var seconds = request.HttpContext.RequestServices.GetService<IOptions<ApiOptions>>()?.Value.BodySilenceSeconds ?? ApiOptions.DefaultBodySilenceSeconds;
        if (request.Body is not SilenceBoundBody) request.Body = new SilenceBoundBody(request.Body, request.BodyReader, TimeSpan.FromSeconds(seconds));
    }

    // Read from the server's pipe, not its stream, so that a silence ends the read with CancelPendingRead and the pipe is
    // left consistent: a stream read canceled by a token stays "in progress", and Kestrel then logs an error draining the body.
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty) return 0;
        while (true)
        {
            var silent = false;
            using var silence = new CancellationTokenSource(maxSilence);
            using var _ = silence.Token.Register(() =>
            {
                silent = true;
                reader.CancelPendingRead();
            });
            var result = await reader.ReadAsync(cancellationToken);
            if (result.IsCanceled)
            {
                reader.AdvanceTo(result.Buffer.Start);
                if (silent)
                {
                    await reader.CompleteAsync(); // the rest of the body is not wanted: the server neither waits for it nor drains it
                    throw new BadHttpRequestException(
                        $"The request body stopped arriving: no byte came for {maxSilence.TotalSeconds:0.#} s.", StatusCodes.Status408RequestTimeout);
                }
                continue; // a cancel meant for a read that had already ended
            }
            var count = (int)Math.Min(buffer.Length, result.Buffer.Length);
            System.Buffers.BuffersExtensions.CopyTo(result.Buffer.Slice(0, count), buffer.Span);
            reader.AdvanceTo(result.Buffer.GetPosition(count));
            return count; // 0 once the body has ended
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count); // the host forbids synchronous reads anyway

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
