using System.Globalization;

namespace Functions.Hosting;

/// <summary>The RFC 7240 preferences a generate request may state: respond-async, and wait=seconds for a shorter sync wait.</summary>
public sealed record PreferHeader(bool RespondAsync, int? WaitSeconds)
{
    public static PreferHeader Of(HttpRequest request)
    {
        bool respondAsync = false;
        int? wait = null;
        foreach (var value in request.Headers["Prefer"])
            foreach (var part in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var preference = part.Split(';')[0].Trim();
                if (preference.Equals("respond-async", StringComparison.OrdinalIgnoreCase)) respondAsync = true;
                else if (preference.StartsWith("wait=", StringComparison.OrdinalIgnoreCase)
                         && int.TryParse(preference[5..].Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                    wait = seconds;
            }
        return new PreferHeader(respondAsync, wait);
    }
}
