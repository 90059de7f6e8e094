using System.Buffers;
using System.Text;
using Functions.Contracts.Kiapi;
using Functions.Generation;
using Functions.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Functions.Files;

public sealed class UploadFile(FileStore files, ImageInspector inspector, UploadBudget memory, StorageBootstrap bootstrap, TimeProvider clock)
{
    /// <summary>Uploads are references for generations, so they share the reference image's bound.</summary>
    public const int MaxBytes = GenerateImageValidator.MaxReferenceBytes;
    const int MaxFilenameBytes = 255; // as UTF-8, like a file system's name; percent-encoded in metadata it stays under 1 KB
    const long MaxBodyBytes = MaxBytes + 64 * 1024; // the file plus the multipart framing

    static readonly FormOptions Form = new() { MultipartBodyLengthLimit = MaxBodyBytes, ValueCountLimit = 16, BufferBodyLengthLimit = MaxBodyBytes };

    /// <summary>
    /// Stores the multipart field <c>file</c> as a new file and returns its FileRecord. Only png, jpeg and webp images
    /// that decode (by their bytes, not by what the client claims) up to 10 MiB and within the pixel bounds. 415 for
    /// another type, a body that is no image, or one that does not decode; 413 too large (bytes or pixels); 422 without
    /// the field, with more than one, or with an empty file.
    /// </summary>
    [Function(nameof(UploadFile))]
    public async Task<Results<JsonHttpResult<KiapiFile>, JsonHttpResult<KiapiError>, JsonHttpResult<KiapiValidationError>>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Routes.Files)] HttpRequest request, CancellationToken cancellationToken)
    {
        if (RefusedUnread(request) is { } refused) return refused;
        var (form, tooLarge, malformed) = await ReadFormAsync(request, cancellationToken);
        if (tooLarge is not null) return tooLarge;
        if (malformed is not null) return malformed;
        var (upload, invalid) = TheOneFileOf(form!);
        if (invalid is not null) return invalid;
        if (upload!.Length > MaxBytes) return TooLarge();
        var given = GivenFilenamesOf(upload);
        // The multipart reader decodes a name's bytes that are not UTF-8 (raw, or percent-encoded in filename*) as U+FFFD.
        if (given.Any(name => name.Contains('\uFFFD')))
            return KiapiErrors.Invalid("body", "file", "The filename is not valid UTF-8 (or holds U+FFFD); send it in UTF-8, raw or percent-encoded in filename*",
                "value_error", null);

        using var share = await memory.AcquireAsync(UploadBudget.HeldByUpload(upload.Length), cancellationToken); // held until the bytes are stored or refused
        var bytes = new byte[upload.Length];
        await using (var stream = upload.OpenReadStream()) await stream.ReadExactlyAsync(bytes, cancellationToken);
        var check = await inspector.InspectAsync(bytes, ImageFormats.Accepted, DecodeWait.Bounded, cancellationToken);
        if (check.Image is not { } image) return ImageRefused(check);

        await bootstrap.EnsureCreatedAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var fileId = FileIds.New(now);
        StoredFile stored;
        try
        {
            stored = await files.SaveAsync(fileId, bytes, image.ContentType, FilenameOf(given, fileId, image.ContentType), now,
                isPrivate: false, image.Meta(FileKinds.Upload), cancellationToken);
        }
        catch (Exception e) when (StorageFaults.IsOutage(e) || e is OperationCanceledException)
        {
            // The answer (503 "try again", or none) gives no file id: an upload that landed anyway would stay listed for
            // good, as no sweep removes uploads, and a retry would store a second copy.
            await files.TakeBackUnconfirmedAsync(fileId);
            throw;
        }
        return TypedResults.Json(stored.ToKiapi(), AppJsonContext.Api.KiapiFile);
    }

    /// <summary>What is refused by its headers alone: not multipart (415), an encoding (415), a declared length past the bound (413).</summary>
    static JsonHttpResult<KiapiError>? RefusedUnread(HttpRequest request)
    {
        if (!request.HasFormContentType || !request.ContentType!.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            return KiapiErrors.Of(StatusCodes.Status415UnsupportedMediaType, "Send the file as multipart/form-data in a field named 'file'" +
                (string.IsNullOrEmpty(request.ContentType) ? "; the request has no Content-Type." : $", not as '{Echo.Quote(request.ContentType)}'."));
        if (RequestBody.EncodingProblem(request) is { } encoding) return KiapiErrors.Of(StatusCodes.Status415UnsupportedMediaType, encoding);
        return request.ContentLength > MaxBodyBytes ? TooLarge() : null;
    }

    /// <summary>The body's form, read within the bound; or 413 past it, or 422 when it is not well-formed multipart.</summary>
    static async Task<(IFormCollection? Form, JsonHttpResult<KiapiError>? TooLarge, JsonHttpResult<KiapiValidationError>? Malformed)> ReadFormAsync(
        HttpRequest request, CancellationToken cancellationToken)
    {
        // The form reader bounds what it reads (Form); Kestrel counts a chunked body's framing too.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = RequestBody.ServerBound(request, MaxBodyBytes);
        SilenceBoundBody.Guard(request);
        try
        {
            return (await request.ReadFormAsync(Form, cancellationToken), null, null);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge(), null);
        }
        catch (InvalidDataException e) when (e.Message.Contains("body length limit", StringComparison.OrdinalIgnoreCase))
        {
            request.HttpContext.Response.Headers.Connection = "close"; // the rest of a chunked body is not read (see above)
            return (null, TooLarge(), null);
        }
        // Kestrel's BadHttpRequestException (broken chunked framing) is no multipart problem: SurfaceErrors answers 400, as on every surface.
        // .NET reads no UTF-7 (SYSLIB0001): a part's filename* or text in it fails the reader with NotSupportedException.
        catch (NotSupportedException)
        {
            return (null, null, KiapiErrors.Invalid("body", "file",
                "The multipart body could not be read: a part declares a character set this service does not read (such as UTF-7); send UTF-8", "value_error", null));
        }
        catch (Exception e) when (e is InvalidDataException or IOException and not BadHttpRequestException && !IsTheClients(request.HttpContext, e)
                                  && !TemporaryFiles.IsFault(e))
        {
            // The reader's own message may quote the body, so it is not passed on.
            var reason = e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase)
                ? $"it has more than {Form.ValueCountLimit} parts, text before its first part or after its last longer than " +
                  $"{Form.MultipartHeadersLengthLimit / 1024} KiB, or a boundary or part headers longer than allowed"
                : "it is not well-formed multipart/form-data";
            return (null, null, KiapiErrors.Invalid("body", "file", $"The multipart body could not be read: {reason}", "value_error", null));
        }
    }

    /// <summary>The form's one non-empty <c>file</c> part; 422 without it, with it as a text field, with more than one, or empty.</summary>
    static (IFormFile? Upload, JsonHttpResult<KiapiValidationError>? Invalid) TheOneFileOf(IFormCollection form)
    {
        var uploads = form.Files.GetFiles("file");
        // A part without a filename (or with an empty one) is a text field, not a file.
        var texts = form.TryGetValue("file", out var values) ? values.Count : 0;
        if (uploads.Count == 0 && texts > 0)
            return (null, KiapiErrors.Invalid("body", "file", "Expected a file: the 'file' part has no filename", "value_error", null));
        if (uploads.Count == 0) return (null, KiapiErrors.Invalid("body", "file", "Field required", "missing", null));
        // Taking the first or the last of several (files or text fields) would store a file the client may not have meant.
        if (uploads.Count + texts > 1)
            return (null, KiapiErrors.Invalid("body", "file", $"Send one file per upload; the body holds {uploads.Count + texts} 'file' fields", "value_error", null));
        return uploads[0].Length == 0 ? (null, KiapiErrors.Invalid("body", "file", "The file is empty", "value_error", uploads[0].FileName)) : (uploads[0], null);
    }

    // The client's first name that leaves something once cleaned, else the file id's (see CleanFilename).
    static string FilenameOf(IEnumerable<string> given, string fileId, string type) =>
        given.Select(CleanFilename).FirstOrDefault(name => name.Length > 0) ?? $"{fileId}.{ImageFormats.ExtensionOf(type)}";

    // A name without any path, control or bidi control characters, its last 255 UTF-8 bytes at most (whole characters,
    // not starting with a space or a dot); empty when nothing is left but dots (".", "..") or nothing visible.
    static string CleanFilename(string given)
    {
        var name = Path.GetFileName(given.Replace('\\', '/'));
        // Control characters and bidi controls go: a right-to-left override makes "photo\u202Egnp.exe" read as
        // "photoexe.png". Other format characters stay (joiners belong in Persian, Indic and emoji names).
        name = new string([.. name.Where(c => !char.IsControl(c) && !Echo.IsBidiControl(c))]).Trim();
        var (keep, bytes) = (name.Length, 0);
        while (keep > 0 && Rune.DecodeLastFromUtf16(name.AsSpan(0, keep), out var rune, out var used) == OperationStatus.Done
               && bytes + rune.Utf8SequenceLength <= MaxFilenameBytes)
            (keep, bytes) = (keep - used, bytes + rune.Utf8SequenceLength);
        if (keep > 0) name = new string([.. name[keep..].SkipWhile(c => c == '.' || char.IsWhiteSpace(c))]);
        return BlankText.IsBlank(name.Replace(".", "")) ? "" : name;
    }

    // The names the part gives, the preferred first (RFC 6266, 4.3): filename* (RFC 8187), decoded as is, then filename,
    // whose quoted pairs (RFC 9110, 5.6.4) the header parser leaves in: "a\"b.png" is a"b.png.
    static List<string> GivenFilenamesOf(IFormFile upload)
    {
        if (!ContentDispositionHeaderValue.TryParse(upload.ContentDisposition, out var disposition)) return [upload.FileName];
        List<string> names = [];
        if (disposition.FileNameStar.HasValue) names.Add(disposition.FileNameStar.ToString());
        if (disposition.FileName.HasValue) names.Add(WithoutQuotedPairs(HeaderUtilities.RemoveQuotes(disposition.FileName).ToString()));
        return names;
    }

    // Only \" and \\ are undone, so that an old browser's unescaped "C:\path\name.png" keeps its separators
    // (HeaderUtilities.UnescapeAsQuotedString would drop them).
    static string WithoutQuotedPairs(string given)
    {
        if (!given.Contains('\\')) return given;
        var name = new StringBuilder(given.Length);
        for (var i = 0; i < given.Length; i++)
            name.Append(given[i] == '\\' && i + 1 < given.Length && given[i + 1] is '"' or '\\' ? given[++i] : given[i]);
        return name.ToString();
    }


    static JsonHttpResult<KiapiError> TooLarge() =>
        KiapiErrors.Of(StatusCodes.Status413PayloadTooLarge, $"The file is larger than the limit of {MaxBytes / (1024 * 1024)} MiB.");

    /// <summary>Bytes refused as an image: 413 over the pixel bounds, else 415 (not an accepted image, or one that does not decode).</summary>
    static JsonHttpResult<KiapiError> ImageRefused(ImageCheck check) =>
        KiapiErrors.Of(check.Problem == ImageProblem.TooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status415UnsupportedMediaType, check.Message);

    // A body sent too slowly (408), or a client that went away: not a malformed body, so SurfaceErrors answers.
    static bool IsTheClients(HttpContext context, Exception e) =>
        e is BadHttpRequestException { StatusCode: StatusCodes.Status408RequestTimeout } || SurfaceErrors.ClientWentAway(context, e);
}
