using System.Globalization;

namespace Functions.Hosting;

/// <summary>The RFC 7240 preferences a generate request may state: respond-async, and wait=seconds for a shorter sync wait.</summary>
public sealed record PreferHeader(bool RespondAsync, int? WaitSeconds)
{
    public static PreferHeader Of(HttpRequest request)
    {
        bool respondAsync = false, waitSeen = false;
        int? wait = null;
        foreach (var value in request.Headers["Prefer"])
            foreach (var part in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                // preference = token [ BWS "=" BWS word ]: spaces may stand around the "=".
                var preference = part.Split(';')[0].Split('=', 2, StringSplitOptions.TrimEntries);
                if (preference.Length == 1 && preference[0].Equals("respond-async", StringComparison.OrdinalIgnoreCase)) respondAsync = true;
                else if (preference[0].Equals("wait", StringComparison.OrdinalIgnoreCase) && !waitSeen)
                {
                    // RFC 7240 (2): of a preference stated more than once, only the first counts.
                    waitSeen = true;
                    if (preference.Length == 2 && int.TryParse(preference[1].Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                        wait = seconds;
                }
            }
        return new PreferHeader(respondAsync, wait);
    }
}
