namespace Functions.Generation;

/// <summary>
/// Where a fallback chain has got to: the model under way and why the ones before it were left. Kept outside the
/// chain's loop, so that a deadline that cuts the loop can still say what each model did.
/// </summary>
public sealed class FallbackTrail
{
    /// <summary>"grok: reason; meta: reason.": one sentence, the earlier reasons without their closing period.</summary>
    public static string Join(string? earlier, string model, string reason) =>
        earlier is null ? $"{model}: {reason}" : $"{(earlier.EndsWith('.') && !earlier.EndsWith("..") ? earlier[..^1] : earlier)}; {model}: {reason}";

    /// <summary>Why the models before the current one were left; null while the first one runs.</summary>
    public string? Reasons { get; private set; }

    string? _current;
    string? _lastCheckFailed;

    /// <summary>The model's first step starts now: a model the deadline stopped before it is never named.</summary>
    public void Trying(string model) => (_current, _lastCheckFailed) = (model, null);

    /// <summary>The current model's task was checked: null when its state was read, else why not (named if the deadline comes).</summary>
    public void Checked(string? failed) => _lastCheckFailed = failed;

    /// <summary>The current model failed in a way worth a fallback: the next one is tried.</summary>
    public void Left(string reason)
    {
        Reasons = Join(Reasons, Current, reason);
        _current = null;
    }

    /// <summary>The chain ends on the current model: its reason after those of the models before it.</summary>
    public string Ended(string reason) => Join(Reasons, Current, reason);

    /// <summary>
    /// "{deadline}: grok: geminigen answered 503 …; meta: unfinished at the deadline.": the models left, and the one under
    /// way if any.
    /// </summary>
    public string PastDeadline(string deadline) => (_current is null ? Reasons
            : Ended(_lastCheckFailed is null ? "unfinished at the deadline." : $"unfinished at the deadline (its last status check failed: {_lastCheckFailed}).")) is { } trail
        ? $"{deadline}: {trail}{(trail.EndsWith('.') ? "" : ".")}"
        : deadline + ".";

    string Current => _current ?? throw new InvalidOperationException("No model of the chain has started.");
}
