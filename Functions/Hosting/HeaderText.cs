namespace Functions.Hosting;

public static class HeaderText
{
    /// <summary>Whether a value can travel in an HTTP header as it is: printable ASCII, spaces included.</summary>
    public static bool IsPrintableAscii(string value) => value.All(c => c is >= ' ' and <= '~');
}
