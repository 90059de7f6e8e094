using Functions.Contracts.Kioai;
using Functions.Files;
using Functions.Jobs;

namespace Functions.Generation;

/// <summary>A generate request whose key and body passed their checks: its input, its Idempotency-Key with the body's hash, and the share of the upload budget the body holds.</summary>
public sealed record CheckedGenerateRequest(GenerateImageInput Input, IdempotencyRequest? Idempotency, IDisposable? Share);

/// <summary>Reads and checks what a generate request brings, under shares of the upload budget: its Idempotency-Key and body, and the reference file it names.</summary>
public sealed class GenerateRequestReader(ModelCatalog catalog, ImageInspector inspector, FileStore files, UploadBudget memory)
{
    /// <summary>The Idempotency-Key and the body, validated; the caller disposes of the body's share when the request's intake ends.</summary>
    public async Task<(CheckedGenerateRequest? Request, JsonHttpResult<ErrorResponse>? Error)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var key = request.Headers.TryGetValue("Idempotency-Key", out var keyValues) ? keyValues.ToString() : null;
        if (key is not null && (keyValues.Count > 1 || !IdempotencyKeys.IsValid(key)))
            return (null, KioaiErrors.BadRequest(KioaiErrorCodes.InvalidIdempotencyKey,
                $"Idempotency-Key must be 1 to {IdempotencyKeys.MaxKeyLength} printable ASCII characters, in one header."));
        var (document, failure, body, share) = await RequestBody.ReadJsonAsync(request, GenerateImageValidator.MaxBodyBytes,
            (bytes, token) => memory.AcquireAsync(UploadBudget.HeldByGenerateBody(bytes), token), cancellationToken);
        if (failure is not null) return (null, KioaiErrors.Of(failure.Status, failure.Code, failure.Message));
        var kept = false;
        try
        {
            var idempotency = key is null ? null : new IdempotencyRequest(key, IdempotencyKeys.HashOf(body.Span));
            using (document)
            {
                var (validated, error) = await GenerateImageValidator.ValidateAsync(document!.RootElement, catalog, inspector, cancellationToken);
                if (error is not null) return (null, KioaiErrors.BadRequest(error));
                kept = true;
                return (new CheckedGenerateRequest(validated!, idempotency, share), null);
            }
        }
        finally
        {
            if (!kept) share?.Dispose();
        }
    }

    /// <summary>
    /// A named reference file's bytes: it must exist, be within the reference bound and decode as an accepted image,
    /// checked as an inline reference would be, so a file stored before that check cannot slip through.
    /// </summary>
    public async Task<(byte[]? Bytes, JsonHttpResult<ErrorResponse>? Error, IDisposable? Share)> ReadReferenceFileAsync(GenerateImageInput input,
        CancellationToken cancellationToken)
    {
        if (input.ReferenceFileId is not { } named) return (null, null, null);
        var notFound = KioaiErrors.BadRequest(GenerationErrors.ReferenceNotFound, $"referenceFileId {named} does not exist.");
        var file = await files.GetAsync(named, cancellationToken);
        if (file is null) return (null, notFound, null);
        // Another job's own copy of its inline reference goes with that job, so it cannot be this one's reference.
        if (file.Kind == FileKinds.Reference)
            return (null, KioaiErrors.BadRequest(GenerationErrors.ReferenceNotFound,
                $"referenceFileId {named} is another job's private copy of its reference image; upload the image (POST /api/v1/files) to name it."), null);
        if (file.Size > GenerateImageValidator.MaxReferenceBytes)
            return (null, KioaiErrors.BadRequest(KioaiErrorCodes.ReferenceImageTooLarge,
                $"File {named} is larger than {GenerateImageValidator.MaxReferenceBytes / (1024 * 1024)} MiB."), null);
        // Held in memory as an upload is, so it shares the uploads' budget.
        var share = await memory.AcquireAsync(UploadBudget.HeldByUpload(file.Size), cancellationToken);
        var kept = false;
        try
        {
            if (await files.ReadAllAsync(named, cancellationToken) is not { } stored) return (null, notFound, null);
            var check = await inspector.InspectAsync(stored, ImageFormats.Accepted, DecodeWait.Bounded, cancellationToken);
            if (check.Image is null)
                return (null, KioaiErrors.BadRequest(GenerateImageValidator.ReferenceRefused(check) with { Message = $"File {named}: {check.Message}" }), null);
            if (input.ReferenceFileDeclaredType is { } declared && declared != check.Image.ContentType)
                return (null, KioaiErrors.BadRequest(KioaiErrorCodes.MediaTypeMismatch, $"referenceImageMime is {declared} but file {named} is {check.Image.ContentType}."), null);
            kept = true;
            return (stored, null, share);
        }
        finally
        {
            if (!kept) share.Dispose();
        }
    }
}
