namespace Functions.Generation;

/// <summary>The fallback chain's shared rule for why earlier models were left.</summary>
public static class FallbackReasons
{
    /// <summary>"grok: reason; meta: reason.": one sentence, the earlier reasons without their closing period.</summary>
    public static string Join(string? earlier, string model, string reason) =>
        earlier is null ? $"{model}: {reason}" : $"{(earlier.EndsWith('.') && !earlier.EndsWith("..") ? earlier[..^1] : earlier)}; {model}: {reason}";
}
