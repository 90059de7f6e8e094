using System.Text.RegularExpressions;

namespace Functions.Contracts.Kiapi;

public static class IdPatterns
{
    /// <summary>
    /// Whether the whole value matches a contract pattern such as "^job_[0-9a-f]+$" as JSON Schema reads it: in .NET,
    /// "$" also matches before a final newline, so "job_0a\n" would pass.
    /// </summary>
    public static bool MatchesWhole(this Regex pattern, string? value) =>
        value is not null && pattern.Match(value) is { Success: true } match && match.Length == value.Length;
}
