using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Functions.Contracts.Kioai;
using Functions.Generation;

namespace Functions.Tests.Unit;

/// <summary>README's error tables are where a client looks a code up: they list every code the kioai surface answers, and no other.</summary>
public sealed partial class ErrorCodesTests
{
    /// <summary>The "generate error | when" table and the "status | error | when" table after it: each row's codes and status.</summary>
    static readonly (string[] Codes, string Status)[] Rows = ReadRows();

    // A step's own end, never a client's: the orchestrator waits for the job's terminate, which ends it as canceled.
    static readonly string[] NeverAnswered = [GenerationErrors.Canceled];

    [Fact]
    public void READMEs_error_tables_name_every_kioai_error_code()
    {
        var named = Rows.SelectMany(row => row.Codes).ToHashSet();

        Assert.Empty(Codes().Except(NeverAnswered).Except(named));
    }

    [Fact]
    public void READMEs_error_tables_name_only_codes_the_service_has()
    {
        var named = Rows.SelectMany(row => row.Codes).ToHashSet();

        Assert.True(named.Count >= 40, $"only {named.Count} codes read from README's tables");
        Assert.Empty(named.Except(Codes()));
    }

    [Fact]
    public void READMEs_status_for_each_code_a_job_ends_with_is_the_one_answered()
    {
        var checkedCodes = 0;
        foreach (var (codes, status) in Rows.Where(row => int.TryParse(row.Status, CultureInfo.InvariantCulture, out _)))
        foreach (var code in codes.Where(JobCodes().Contains))
        {
            Assert.True(int.Parse(status, CultureInfo.InvariantCulture) == GenerationErrors.StatusOf(code),
                $"README gives {code} {status}; the service answers {GenerationErrors.StatusOf(code)}.");
            checkedCodes++;
        }
        Assert.True(checkedCodes >= 12, $"only {checkedCodes} job codes found in README's tables");
    }

    static (string[] Codes, string Status)[] ReadRows()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "README.md"));
        var tables = readme[readme.IndexOf("| generate error (400) | when |", StringComparison.Ordinal)..];
        tables = tables[..tables.IndexOf("\nThe message names each model tried", StringComparison.Ordinal)];
        return [.. tables.Split('\n').Where(line => line.StartsWith('|') && !line.StartsWith("|---", StringComparison.Ordinal)).Select(line =>
        {
            var cells = line.Split('|');
            // The first table: codes first, 400 unless the cell gives another status; the second: the status, then the codes.
            var (codeCell, status) = cells[1].Contains('`') ? (cells[1], StatusIn().Match(cells[1]) is { Success: true } m ? m.Groups[1].Value : "400")
                : (cells[2], cells[1].Trim());
            return (CodeInBackticks().Matches(codeCell).Select(match => match.Groups[1].Value).ToArray(), status);
        }).Where(row => row.Item1.Length > 0)];
    }

    static IEnumerable<string> Codes() => ConstantsOf(typeof(KioaiErrorCodes)).Concat(JobCodes());

    // GenerationErrors also holds a message, which is no code.
    static HashSet<string> JobCodes() => ConstantsOf(typeof(GenerationErrors)).Where(value => CodeInBackticks().IsMatch($"`{value}`")).ToHashSet();

    static IEnumerable<string> ConstantsOf(Type type) => type.GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(field => field.IsLiteral && field.FieldType == typeof(string)).Select(field => (string)field.GetRawConstantValue()!);

    [GeneratedRegex("`([a-z0-9]+(?:_[a-z0-9]+)*)`")]
    private static partial Regex CodeInBackticks();

    [GeneratedRegex(@"\((\d{3})\)")]
    private static partial Regex StatusIn();
}
