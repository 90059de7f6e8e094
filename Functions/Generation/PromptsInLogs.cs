namespace Functions.Generation;

/// <summary>
/// Logs hold no prompt (README, "What the logs hold"), but an upstream's refusal may quote it ("The prompt '…' violates
/// policy"): a failure's reason is logged with the prompt, whole or its start cut short, in its place.
/// </summary>
public static class PromptsInLogs
{
    public const string Placeholder = "<the prompt>";

    // Shorter quotes of a prompt's start are left: a few words would match ordinary text as often as a quote.
    const int ShortestQuotedStart = 16;
    // A prompt this short could be any word of the message.
    const int ShortestHidden = 4;

    public static string Hide(string reason, string? prompt)
    {
        if (prompt is null) return reason;
        // A failure's message is on one line (GenerationFailedException): so is the prompt it may quote.
        var oneLine = Echo.OneLine(prompt);
        if (oneLine.Length < ShortestHidden) return reason;
        var hidden = reason.Replace(prompt, Placeholder, StringComparison.OrdinalIgnoreCase);
        if (oneLine != prompt) hidden = hidden.Replace(oneLine, Placeholder, StringComparison.OrdinalIgnoreCase);
        // An upstream may quote only a long prompt's start: the longest start quoted (if one start is, so is each shorter one).
        var (quoted, longest) = (0, Math.Min(oneLine.Length - 1, hidden.Length));
        while (quoted < longest)
        {
            var length = (quoted + longest + 1) / 2;
            if (hidden.Contains(oneLine[..length], StringComparison.OrdinalIgnoreCase)) quoted = length;
            else longest = length - 1;
        }
        return quoted >= ShortestQuotedStart ? hidden.Replace(oneLine[..quoted], Placeholder, StringComparison.OrdinalIgnoreCase) : hidden;
    }
}
