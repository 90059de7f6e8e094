namespace Functions.Tokens;

public static class SecretMask
{
    /// <summary>"****" and at most the last four characters, fewer for short secrets, so that a secret is recognizable but never recoverable.</summary>
    public static string Mask(string secret)
    {
        var visible = secret.Length switch { >= 16 => 4, >= 8 => 2, _ => 0 };
        return "****" + secret[^visible..];
    }
}
