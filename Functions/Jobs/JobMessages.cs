using System.Globalization;

namespace Functions.Jobs;

/// <summary>
/// The text of a jobs-queue message: the job id for its first run, "{job id}#{n}" for the n-th check on its upstream
/// task, so that a duplicate of an old check can be told from the current one.
/// </summary>
public static class JobMessages
{
    public static string Check(string jobId, int check) => $"{jobId}#{check.ToString(CultureInfo.InvariantCulture)}";

    public static (string JobId, int Check) Parse(string text)
    {
        var hash = text.IndexOf('#');
        return hash > 0 && int.TryParse(text.AsSpan(hash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var check)
            ? (text[..hash], check)
            : (text, 0);
    }
}
