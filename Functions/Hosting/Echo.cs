namespace Functions.Hosting;

/// <summary>A client's value quoted back in an error message: enough to name it, never a huge input copied back whole.</summary>
public static class Echo
{
    const int MaxChars = 64;

    public static string Of(string? value)
    {
        if (value is null || value.Length <= MaxChars) return value ?? "";
        var cut = char.IsHighSurrogate(value[MaxChars - 1]) ? MaxChars - 1 : MaxChars; // never half a character
        return string.Concat(value.AsSpan(0, cut), $"… ({value.Length} characters)");
    }
}
