using System.Reflection;
using System.Text.RegularExpressions;
using Functions.Contracts.Kioai;
using Functions.Generation;

namespace Functions.Tests.Unit;

/// <summary>README is where a client looks a code up: it lists every code the kioai surface answers, and no other.</summary>
public sealed partial class ErrorCodesTests
{
    static readonly string Readme = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "README.md"));

    [Fact]
    public void README_names_every_kioai_error_code()
    {
        var unnamed = Codes().Where(code => !Readme.Contains($"`{code}`", StringComparison.Ordinal));

        Assert.Empty(unnamed);
    }

    [Fact]
    public void READMEs_error_tables_name_only_codes_the_service_has()
    {
        // The "generate error | when" table and the "status | error | when" table that follows it: the codes' cells.
        var tables = Readme[Readme.IndexOf("| generate error (400) | when |", StringComparison.Ordinal)..];
        tables = tables[..tables.IndexOf("\nThe message names each model tried", StringComparison.Ordinal)];
        var firstColumns = tables.Split('\n').Where(line => line.StartsWith('|'))
            .Select(line => line.Split('|') is var cells && cells[1].Contains('`') ? cells[1] : cells[2]);
        var named = firstColumns.SelectMany(cells => CodeInBackticks().Matches(cells).Select(m => m.Groups[1].Value)).ToHashSet();

        Assert.NotEmpty(named);
        Assert.Empty(named.Except(Codes()));
    }

    [Fact]
    public void READMEs_status_for_each_code_a_job_ends_with_is_the_one_answered()
    {
        var rows = Readme.Split('\n').Where(line => StatusRow().IsMatch(line));
        var checkedCodes = 0;
        foreach (var row in rows)
        {
            var status = int.Parse(StatusRow().Match(row).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            foreach (var code in CodeInBackticks().Matches(row.Split('|')[2]).Select(m => m.Groups[1].Value).Where(JobCodes().Contains))
            {
                Assert.True(status == GenerationErrors.StatusOf(code), $"README gives {code} {status}; the service answers {GenerationErrors.StatusOf(code)}.");
                checkedCodes++;
            }
        }
        Assert.True(checkedCodes >= 10, $"only {checkedCodes} job codes found in README's status table");
    }

    static IEnumerable<string> Codes() => ConstantsOf(typeof(KioaiErrorCodes)).Concat(JobCodes());

    static HashSet<string> JobCodes() =>
        ConstantsOf(typeof(GenerationErrors)).Where(value => CodeInBackticks().IsMatch($"`{value}`")).ToHashSet();

    static IEnumerable<string> ConstantsOf(Type type) => type.GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(field => field.IsLiteral && field.FieldType == typeof(string)).Select(field => (string)field.GetRawConstantValue()!);

    [GeneratedRegex("`([a-z]+(?:_[a-z]+)*)`")]
    private static partial Regex CodeInBackticks();

    [GeneratedRegex(@"^\| (\d{3}) \| `")]
    private static partial Regex StatusRow();
}
