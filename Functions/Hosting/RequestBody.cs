using System.Buffers;
using System.Globalization;
using System.Text.Unicode;
using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Features;
using Functions.Contracts.Kioai;

namespace Functions.Hosting;

/// <summary>
/// Reads a JSON body with a size bound, so that an oversized or malformed body is a clear 4xx and never a 500: UTF-8
/// only (RFC 8259), every string decodable, so that handlers may read any string without an exception, and no name
/// twice in one object (parsers disagree on which one wins).
/// </summary>
public static class RequestBody
{
    const int InitialBufferBytes = 64 * 1024;
    const int MaxDepth = 32;
    /// <summary>Bodies up to this size are read straight into memory; larger ones, when the caller budgets them, are spooled first.</summary>
    public const int SpoolAboveBytes = 1024 * 1024;

    public sealed record Failure(string Code, string Message, int Status = StatusCodes.Status400BadRequest);

    /// <summary>Takes a share of a memory budget for a body of this many bytes (<see cref="Files.UploadBudget"/>).</summary>
    public delegate Task<RateLimitLease> MemoryShare(long bodyBytes, CancellationToken cancellationToken);

    /// <summary>
    /// The body parsed, with its raw bytes (an idempotency key compares them), or why it was refused. With
    /// <paramref name="largeBodyShare"/>, a body past <see cref="SpoolAboveBytes"/> is spooled to a temporary file as it
    /// arrives and read into memory only under a share, returned to the caller to dispose of once the body's content
    /// is no longer held; without it, or for a smaller body, the share is null.
    /// </summary>
    public static async Task<(JsonDocument? Document, Failure? Error, ReadOnlyMemory<byte> Bytes, RateLimitLease? Share)> ReadJsonAsync(
        HttpRequest request, long maxBytes, MemoryShare? largeBodyShare, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes) return (null, TooLarge(maxBytes), default, null);
        if (JsonText.MediaTypeProblem(request.ContentType) is { } media)
            return (null, new Failure(KioaiErrorCodes.UnsupportedContentType, media, StatusCodes.Status415UnsupportedMediaType), default, null);
        if (JsonText.CharsetProblem(request.ContentType) is { } charset) return (null, new Failure(KioaiErrorCodes.UnsupportedCharset, charset), default, null);
        if (EncodingProblem(request) is { } encoding) return (null, new Failure(KioaiErrorCodes.UnsupportedContentEncoding, encoding), default, null);
        // On a chunked body Kestrel counts the chunks' framing too (a body within the bound sent in 1,000-byte chunks was
        // refused): it gets twice the bound, room for chunks of 5 bytes or more, and the loop below bounds what is read.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = ServerBound(request, maxBytes + 1);

        SilenceBoundBody.Guard(request);
        // Grown as bytes arrive: a buffer of the declared length would let bodies that never come hold the heap.
        var buffer = new ArrayBufferWriter<byte>((int)Math.Clamp(request.ContentLength ?? 0, 4096, InitialBufferBytes));
        ReadOnlyMemory<byte> body;
        RateLimitLease? share = null;
        try
        {
            while (true)
            {
                var read = await request.Body.ReadAsync(buffer.GetMemory(16 * 1024), cancellationToken);
                if (read == 0) break;
                buffer.Advance(read);
                if (buffer.WrittenCount > maxBytes) return (null, TooLarge(maxBytes, closing: request), default, null);
                if (largeBodyShare is not null && buffer.WrittenCount > SpoolAboveBytes) break;
            }
            body = buffer.WrittenMemory;
            if (largeBodyShare is not null && body.Length > SpoolAboveBytes)
            {
                (var whole, share) = await SpooledBody.ReadAsync(request.Body, body, maxBytes, largeBodyShare, cancellationToken);
                if (whole is null) return (null, TooLarge(maxBytes, closing: request), default, null);
                body = whole;
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge(maxBytes), default, null);
        }
        // Kestrel reports a chunk size past 31 bits as a plain IOException, not the BadHttpRequestException of other bad framing.
        catch (IOException e) when (e is not BadHttpRequestException && !SurfaceErrors.ClientWentAway(request.HttpContext, e) && !TemporaryFiles.IsFault(e))
        {
            return (null, new Failure(KioaiErrorCodes.BadRequest, $"The request body could not be read: {e.Message}"), default, null);
        }

        var (document, failure) = Parse(body);
        if (document is not null) return (document, null, body, share);
        share?.Dispose();
        return (null, failure, default, null);
    }

    static (JsonDocument? Document, Failure? Error) Parse(ReadOnlyMemory<byte> body)
    {
        var json = JsonText.WithoutByteOrderMark(body); // Windows PowerShell writes one into files
        if (json.IsEmpty) return (null, new Failure(KioaiErrorCodes.InvalidJson, "The request body is empty; send a JSON object."));
        if (!Utf8.IsValid(json.Span)) return (null, new Failure(KioaiErrorCodes.InvalidJson, "The request body is not valid UTF-8."));
        try
        {
            if (!JsonText.HasAtMostValues(json.Span, JsonText.MaxValues, MaxDepth))
                return (null, new Failure(KioaiErrorCodes.TooManyValues, TooManyValues));
            var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = MaxDepth, AllowDuplicateProperties = false });
            var problem = document.RootElement.ValueKind != JsonValueKind.Object ? "The request body must be a JSON object."
                : JsonText.FirstUndecodableString(document.RootElement) is { } where ? Undecodable($" at {Echo.Quote(where)}") : null;
            if (problem is null) return (document, null);
            document.Dispose();
            return (null, new Failure(KioaiErrorCodes.InvalidJson, problem));
        }
        catch (JsonException e)
        {
            return (null, new Failure(KioaiErrorCodes.InvalidJson, $"The request body is not valid JSON: {e.Message}"));
        }
        catch (InvalidOperationException)
        {
            // The duplicate-name check decodes every property name, and a lone surrogate escape in one cannot be.
            return (null, new Failure(KioaiErrorCodes.InvalidJson, Undecodable(" in a property name")));
        }
    }

    // Bodies are read as sent: a compressed one would otherwise fail as JSON that is not UTF-8, which misleads. Kestrel
    // undoes only a chunked transfer coding, and passes a body sent "gzip, chunked" on still compressed.
    public static string? EncodingProblem(HttpRequest request)
    {
        if (OtherThan(request.Headers.ContentEncoding, "identity"))
            return $"The request body must not be compressed; Content-Encoding {Echo.Quote(request.Headers.ContentEncoding.ToString())} is not accepted.";
        if (OtherThan(request.Headers.TransferEncoding, "chunked"))
            return $"The request body must not be compressed; Transfer-Encoding {Echo.Quote(request.Headers.TransferEncoding.ToString())} is not accepted (chunked is).";
        return null;
    }

    static bool OtherThan(Microsoft.Extensions.Primitives.StringValues codings, string accepted) =>
        codings.SelectMany(value => (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .Any(coding => !coding.Equals(accepted, StringComparison.OrdinalIgnoreCase));

    static readonly string TooManyValues = string.Create(CultureInfo.InvariantCulture,
        $"The request body holds more than {JsonText.MaxValues:N0} JSON values; a request holds a few dozen.");

    static string Undecodable(string where) =>
        $"The request body has a string that is not valid Unicode (a lone surrogate escape such as \\ud800){where}.";

    /// <summary>Kestrel's bound for a body whose content may be <paramref name="bound"/> bytes: twice that when chunked, as it counts the framing too.</summary>
    public static long ServerBound(HttpRequest request, long bound) => request.ContentLength is null ? 2 * bound : bound;

    // Past the bound the rest is not read: the connection ends with the answer, rather than the server draining the rest
    // of a chunked body up to its own, larger, bound.
    static Failure TooLarge(long maxBytes, HttpRequest closing)
    {
        closing.HttpContext.Response.Headers.Connection = "close";
        return TooLarge(maxBytes);
    }

    static Failure TooLarge(long maxBytes) =>
        new(KioaiErrorCodes.BodyTooLarge, $"The request body is larger than the limit of {maxBytes} bytes.");
}
