namespace Functions.Hosting;

/// <summary>Every route, declared once: the functions' triggers, the links the API hands out and the surface a path belongs to.</summary>
public static class Routes
{
    /// <summary>host.json's extensions.http.routePrefix, under which both hosts serve every route (a test holds the two equal).</summary>
    public const string Prefix = "api";

    public const string Generate = "images/generate";
    public const string History = "images/history";
    // The contract types an image id as an integer; the constraint also keeps DELETE off images/generate and images/history (405, not 400).
    public const string Image = "images/{id:long}";
    public const string Healthz = "healthz";
    public const string ConfigToken = "config/token";
    public const string ProviderToken = "config/providers/{provider}/token";

    // kiapi: its health, and everything under v1.
    public const string Health = "health";
    public const string Kiapi = "v1";
    public const string Models = Kiapi + "/models";
    public const string Files = Kiapi + "/files";
    public const string File = Files + "/{file_id}";
    public const string FileDownload = File + "/download";
    public const string Jobs = Kiapi + "/jobs";
    public const string Job = Jobs + "/{job_id}";

    /// <summary>The absolute path of a route with its one parameter filled in, e.g. /api/v1/jobs/job_0….</summary>
    public static string PathOf(string route, string value) =>
        $"/{Prefix}/{route[..route.IndexOf('{')]}{value}{route[(route.IndexOf('}') + 1)..]}";

    /// <summary>Whether a path is kiapi's (its errors take kiapi's shape).</summary>
    public static bool IsKiapi(PathString path) =>
        path.StartsWithSegments($"/{Prefix}/{Kiapi}") || path.StartsWithSegments($"/{Prefix}/{Health}");
}
