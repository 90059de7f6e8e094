namespace Functions.Hosting;

/// <summary>
/// A value quoted in an error message (a client's input, an upstream's error text): enough to name it, never a huge
/// text copied whole.
/// </summary>
public static class Echo
{
    const int MaxChars = 64;

    public static string Of(string? value, int maxChars = MaxChars)
    {
        if (value is null || value.Length <= maxChars) return value ?? "";
        var cut = char.IsHighSurrogate(value[maxChars - 1]) ? maxChars - 1 : maxChars; // never half a character
        return string.Concat(value.AsSpan(0, cut), $"… ({value.Length} characters)");
    }
}
