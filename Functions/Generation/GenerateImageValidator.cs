using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Functions.Contracts.Kiapi;
using Functions.Contracts.Kioai;
using Functions.Files;

namespace Functions.Generation;

/// <summary>The one validator of GenerateImageBody: every rule of the contract and every bound, with a clear error per case.</summary>
public static class GenerateImageValidator
{
    public const int MaxPromptLength = 4000;
    public const int MaxReferenceBytes = 10 * 1024 * 1024;
    const long MaxReferenceBase64 = (MaxReferenceBytes + 2) / 3 * 4;
    /// <summary>
    /// The body bound: a maximal Base64 reference image in MIME's 76-character lines, each break written as an escaped
    /// CRLF (4 bytes in JSON), with '+' escaped too (System.Text.Json's default writes <c>\u002B</c>, 5 bytes more, and
    /// an image's Base64 has about one in 64; twice that is allowed), plus a maximal (escaped) prompt and the other fields.
    /// </summary>
    public const long MaxBodyBytes = MaxReferenceBase64 + (MaxReferenceBase64 / 76 + 1) * 4 + MaxReferenceBase64 / 32 * 5 + 256 * 1024;

    public static async Task<(GenerateImageInput? Input, ErrorResponse? Error)> ValidateAsync(JsonElement body, ModelCatalog catalog,
        ImageInspector inspector, CancellationToken cancellationToken)
    {
        var error = ReadString(body, "prompt", out var prompt);
        if (error is not null) return (null, error);
        if (prompt is null || BlankText.IsBlank(prompt)) return (null, new ErrorResponse(KioaiErrorCodes.MissingPrompt, "prompt is required and must not be blank."));
        var promptLength = prompt.EnumerateRunes().Count();
        if (promptLength > MaxPromptLength)
            return (null, new ErrorResponse(KioaiErrorCodes.PromptTooLong, $"prompt has {promptLength} characters; the limit is {MaxPromptLength}."));

        if (ReadEnum(body, "style", ModelCatalog.Styles, ModelCatalog.DefaultStyle, out var style) is { } styleError) return (null, styleError);
        if (ReadEnum(body, "aspectRatio", ModelCatalog.AspectRatios, ModelCatalog.DefaultAspectRatio, out var ratio) is { } ratioError) return (null, ratioError);
        if (ReadEnum(body, "model", catalog.Names, ModelCatalog.DefaultModel, out var model) is { } modelError) return (null, modelError);
        var entry = catalog.Find(model!)!;
        if (ReadEnum(body, "resolution", ModelCatalog.Resolutions, null, out var resolution) is { } resolutionError) return (null, resolutionError);
        if (resolution is not null && !entry.Resolutions.Contains(resolution))
            return (null, new ErrorResponse(KioaiErrorCodes.ResolutionNotSupported, entry.Resolutions.Count == 0
                ? $"Model '{model}' takes no resolution."
                : $"Model '{model}' takes resolution {string.Join(", ", entry.Resolutions)}, not {resolution}."));

        if (ReadBool(body, "isPrivate", out var isPrivate) is { } privateError) return (null, privateError);
        if (ReadSeed(body, out var seed) is { } seedError) return (null, seedError);
        if (ReadString(body, "referenceFileId", out var referenceFileId) is { } fileIdError) return (null, fileIdError);
        if (referenceFileId is not null && !FileIds.IsFileId(referenceFileId))
            return (null, new ErrorResponse(KioaiErrorCodes.InvalidValue, $"referenceFileId '{Echo.Quote(referenceFileId)}' is not a file id (file_ and hex digits, at most {KiapiPathId.MaxLength} characters)."));
        // Both ways of giving a reference, or a model without references, are refused before an image is decoded.
        var inline = body.TryGetProperty("referenceImageBase64", out var given) && given.ValueKind != JsonValueKind.Null;
        if (referenceFileId is not null && inline)
            return (null, new ErrorResponse(KioaiErrorCodes.ConflictingReference, "Send either referenceImageBase64 or referenceFileId, not both."));
        if ((inline || referenceFileId is not null) && !entry.TakesReference)
            return (null, new ErrorResponse(KioaiErrorCodes.ReferenceNotSupported, $"Model '{model}' takes no reference image."));
        if (ReadReference(body, out var reference, out var declared) is { } referenceError) return (null, referenceError);
        ImageInfo? referenceInfo = null;
        if (reference is not null)
        {
            // The last rule, as it is the only costly one: the decode, within the process's budget.
            var check = await inspector.InspectAsync(reference, ImageFormats.Accepted, DecodeWait.Bounded, cancellationToken);
            if (check.Image is null) return (null, ReferenceRefused(check));
            if (declared is not null && declared != check.Image.ContentType)
                return (null, new ErrorResponse(KioaiErrorCodes.MediaTypeMismatch, $"The reference's declared type (referenceImageMime, or its data URL's) is {declared} but the bytes are {check.Image.ContentType}."));
            referenceInfo = check.Image;
        }

        return (new GenerateImageInput(prompt, style!, ratio!, model!, resolution, isPrivate, seed, reference, referenceInfo, referenceFileId,
            referenceFileId is null ? null : declared), null);
    }

    static ErrorResponse? ReadString(JsonElement body, string name, out string? value)
    {
        value = null;
        if (!body.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null) return null;
        if (element.ValueKind != JsonValueKind.String) return WrongType(name, "a string", element);
        value = element.GetString();
        return null;
    }

    static ErrorResponse? ReadEnum(JsonElement body, string name, IReadOnlyList<string> allowed, string? fallback, out string? value)
    {
        var error = ReadString(body, name, out value);
        if (error is not null) return error;
        value ??= fallback;
        if (value is null || allowed.Contains(value)) return null;
        return new ErrorResponse(KioaiErrorCodes.InvalidValue, $"{name} '{Echo.Quote(value)}' is not one of: {string.Join(", ", allowed)}.");
    }

    static ErrorResponse? ReadBool(JsonElement body, string name, out bool value)
    {
        value = false;
        if (!body.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null) return null;
        if (element.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) return WrongType(name, "a boolean", element);
        value = element.GetBoolean();
        return null;
    }

    // seed is our extension (not in the kioai contract): it makes the offline renderer's output chosen, not derived.
    static ErrorResponse? ReadSeed(JsonElement body, out long? seed)
    {
        seed = null;
        if (!body.TryGetProperty("seed", out var element) || element.ValueKind == JsonValueKind.Null) return null;
        if (element.ValueKind != JsonValueKind.Number || !TryReadWhole(element, out var value)) return WrongType("seed", "an integer", element);
        if (value is < 0 or > uint.MaxValue) return new ErrorResponse(KioaiErrorCodes.InvalidValue, $"seed must be between 0 and {uint.MaxValue}.");
        seed = value;
        return null;
    }

    // A whole number in any spelling JSON allows (1.0, 1e3, 12300e-2), decided on its digits, not through a double (which
    // would round 1.0000000000000001 to 1); one beyond 64 bits reads as long.MaxValue, out of any range.
    static bool TryReadWhole(JsonElement number, out long value)
    {
        if (number.TryGetInt64(out value)) return true;
        var text = number.GetRawText();
        var e = text.IndexOfAny(['e', 'E']);
        var (mantissa, exponentText) = e < 0 ? (text, "0") : (text[..e], text[(e + 1)..]);
        var dot = mantissa.IndexOf('.');
        var (whole, fraction) = dot < 0 ? (mantissa, "") : (mantissa[..dot], mantissa[(dot + 1)..]);
        var digits = (whole.TrimStart('-') + fraction).TrimStart('0');
        value = long.MaxValue;
        if (digits.Length == 0) { value = 0; return true; } // zero, however written
        // The number is significand x 10^shift: whole iff the shift, after the significand's trailing zeros, is not negative.
        var significand = digits.TrimEnd('0');
        if (!long.TryParse(exponentText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var exponent))
            return !exponentText.StartsWith('-'); // 1e99999999999: past 64 bits; 1e-99999999999: a fraction
        var shift = (Int128)exponent - fraction.Length + (digits.Length - significand.Length); // wide: an exponent may be near 64 bits' edge
        if (shift < 0) return false;
        if (shift <= 18 - significand.Length)
            value = long.Parse(significand, CultureInfo.InvariantCulture) * (long)Math.Pow(10, (int)shift) * (whole.StartsWith('-') ? -1 : 1);
        return true;
    }

    static ErrorResponse? TypeProblem(string? declared, string what) =>
        declared is null || ImageFormats.Accepted.Contains(ImageFormats.Normalize(declared)) ? null
            : new ErrorResponse(KioaiErrorCodes.UnsupportedMediaType, $"{what} '{Echo.Quote(declared)}' is not one of: {string.Join(", ", ImageFormats.Accepted)}.");

    /// <summary>The reference's bytes, within the bound, and the type its field or data URL declares (normalized); not yet decoded.</summary>
    static ErrorResponse? ReadReference(JsonElement body, out byte[]? bytes, out string? mime)
    {
        bytes = null;
        mime = null;
        if (ReadString(body, "referenceImageMime", out var declared) is { } mimeError) return mimeError;
        if (!body.TryGetProperty("referenceImageBase64", out var given) || given.ValueKind == JsonValueKind.Null) given = default;
        else if (given.ValueKind != JsonValueKind.String) return WrongType("referenceImageBase64", "a string", given);
        if (TypeProblem(declared, "referenceImageMime") is { } typeError) return typeError; // checked even without an image
        mime = declared is null ? null : ImageFormats.Normalize(declared); // a named file's declared type, unless a data URL's comes below
        if (given.ValueKind == JsonValueKind.Undefined) return null;

        // Decoded from the body's own UTF-8 (unescaped first only when it has escapes), never read as a .NET string:
        // as one, in UTF-16, a 12.5 MB image took 25 MB more while it was checked.
        var base64 = Unescaped(given);
        // A data URL carries its own type: "data:image/png;base64,...."
        if (base64.Length >= 5 && Ascii.EqualsIgnoreCase(base64[..5], "data:"u8))
        {
            var comma = base64.IndexOf((byte)',');
            if (comma < ";base64".Length || !Ascii.EqualsIgnoreCase(base64[(comma - ";base64".Length)..comma], ";base64"u8))
                return new ErrorResponse(KioaiErrorCodes.InvalidBase64, "referenceImageBase64 is a data URL without a ';base64,' payload.");
            if (declared is null && TypeProblem(declared = Encoding.UTF8.GetString(base64[5..(comma - ";base64".Length)]), "The data URL's type") is { } urlTypeError)
                return urlTypeError;
            base64 = base64[(comma + 1)..];
        }

        // Bounds the decoding; whitespace, which Base64 may carry (line breaks), does not count toward the image's size
        // and is skipped by the decoder.
        var significant = base64.Length - base64.Count((byte)' ') - base64.Count((byte)'\n') - base64.Count((byte)'\r') - base64.Count((byte)'\t');
        if (significant > MaxReferenceBase64) return TooLarge();
        var decoded = new byte[Math.Max(0, significant / 4 * 3 - PaddingOf(base64))];
        if (Base64.DecodeFromUtf8(base64, decoded, out _, out var written) != OperationStatus.Done || written != decoded.Length)
            return new ErrorResponse(KioaiErrorCodes.InvalidBase64, "referenceImageBase64 is not valid Base64.");
        // An empty image is a mistake, not "no reference": leave the field out for that.
        if (written == 0) return new ErrorResponse(KioaiErrorCodes.InvalidValue, "referenceImageBase64 is empty; send an image, or leave the field out.");
        if (written > MaxReferenceBytes) return TooLarge();
        bytes = decoded;
        mime = declared is null ? null : ImageFormats.Normalize(declared);
        return null;
    }

    /// <summary>How many '=' end the Base64, whitespace among them skipped ("…g= =" has two, as the decoder reads it).</summary>
    static int PaddingOf(ReadOnlySpan<byte> base64)
    {
        var padding = 0;
        for (var i = base64.Length - 1; i >= 0 && padding < 2; i--)
        {
            if (base64[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') continue;
            if (base64[i] != (byte)'=') break;
            padding++;
        }
        return padding;
    }

    /// <summary>A JSON string's UTF-8, as the body holds it when it has no escape, else unescaped into an array of its own.</summary>
    static ReadOnlySpan<byte> Unescaped(JsonElement text)
    {
        var raw = JsonMarshal.GetRawUtf8Value(text);
        if (!raw.Contains((byte)'\\')) return raw[1..^1]; // without its quotes
        var reader = new Utf8JsonReader(raw);
        reader.Read();
        var unescaped = new byte[raw.Length];
        return unescaped.AsSpan(0, reader.CopyString(unescaped));
    }

    /// <summary>A reference (inline or a stored file) that is no usable image: too many pixels, another type, or bytes that do not decode.</summary>
    public static ErrorResponse ReferenceRefused(ImageCheck check) => check.Problem switch
    {
        ImageProblem.TooLarge => new(KioaiErrorCodes.ReferenceImageTooLarge, check.Message),
        ImageProblem.Undecodable => new(KioaiErrorCodes.InvalidImage, check.Message),
        _ => new(KioaiErrorCodes.UnsupportedMediaType, check.Message),
    };

    static ErrorResponse TooLarge() =>
        new(KioaiErrorCodes.ReferenceImageTooLarge, $"The reference image is larger than {MaxReferenceBytes / (1024 * 1024)} MiB.");

    static ErrorResponse WrongType(string name, string expected, JsonElement actual) =>
        new(KioaiErrorCodes.InvalidType, $"{name} must be {expected}, not {Describe(actual.ValueKind)}.");

    static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
