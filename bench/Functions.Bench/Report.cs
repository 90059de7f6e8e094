using System.Text;

namespace Functions.Bench;

/// <summary>What a bench run prints, kept to be written to bench/last-run.md at its end.</summary>
sealed class Report
{
    readonly StringBuilder _text = new();

    public void Line(string text)
    {
        Console.WriteLine(text);
        _text.AppendLine(text);
    }

    public void Machine(string note = "")
    {
        Line($"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{note}");
        Line("");
    }

    public async Task<int> WriteAsync()
    {
        var resultsFile = Path.Combine(RepositoryRoot.Path, "bench", "last-run.md");
        await File.WriteAllTextAsync(resultsFile, _text.ToString());
        Console.WriteLine($"\n(written to {resultsFile})");
        return 0;
    }
}
