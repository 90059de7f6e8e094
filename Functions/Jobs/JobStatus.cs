namespace Functions.Jobs;

/// <summary>The kiapi job lifecycle; the stored and wire form is the lower-case name.</summary>
public enum JobStatus { Queued, Running, Succeeded, Failed, Canceled }

public static class JobStatusExtensions
{
    public static bool IsTerminal(this JobStatus status) => status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Canceled;

    public static string ToWire(this JobStatus status) => status.ToString().ToLowerInvariant();

    public static bool TryParseWire(string? text, out JobStatus status) =>
        Enum.TryParse(text, ignoreCase: true, out status) && text == status.ToWire();
}
