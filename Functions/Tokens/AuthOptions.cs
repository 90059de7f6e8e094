namespace Functions.Tokens;

/// <summary>Who may manage tokens and delete images (section <c>Auth</c>).</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    public const int MinAdminKeyLength = 16;

    /// <summary>The admin key for token and key management (header X-Admin-Key); at least <see cref="MinAdminKeyLength"/> characters.</summary>
    public string? AdminKey { get; set; }

    /// <summary>An admin key is set (else a local one may be generated, see <see cref="GenerateLocalAdminKey"/>).</summary>
    public bool HasAdminKey => !string.IsNullOrEmpty(AdminKey);

    /// <summary>With no AdminKey set, generate one on first start, keep its hash, print it once. On in Development.</summary>
    public bool GenerateLocalAdminKey { get; set; }

    /// <summary>
    /// Whether DELETE /api/images/{id} and DELETE /api/v1/files/{file_id} need the admin key. Off by default, as the
    /// contracts have it; image ids count up from 1, and file ids are listed, so without it whoever reaches the API can
    /// delete every image, private ones included.
    /// </summary>
    public bool ImageDeleteNeedsAdminKey { get; set; }

    /// <summary>Bound from its section once; a value out of range stops the app at start, with the reason.</summary>
    public static void AddTo(IServiceCollection services) =>
        services.AddOptions<AuthOptions>().BindConfiguration(Section).RefuseEmpty(Section, nameof(GenerateLocalAdminKey))
            .Validate(o => o.AdminKey is not { Length: > 0 and < MinAdminKeyLength },
                $"Auth:AdminKey must be at least {MinAdminKeyLength} characters: it guards every upstream token, and wrong keys are not throttled.")
            // Kestrel trims a header value's ends, and a header cannot carry control characters: such a key could never be sent.
            .Validate(o => o.AdminKey is not { Length: > 0 } key || (key.Trim() == key && !key.Any(char.IsControl)),
                "Auth:AdminKey must not begin or end with whitespace, nor hold control characters: no X-Admin-Key header could carry it.")
            .ValidateOnStart();
}
