using Microsoft.Azure.Functions.Worker;
using NCrontab;

namespace Functions.LocalHost;

/// <summary>
/// A timer function's schedule: an NCRONTAB expression in UTC, with seconds (six fields) or without (five), read with the
/// library the Functions host's timer trigger uses. Settings (<c>%name%</c>) and RunOnStartup are refused at start: the
/// local host does not run them, and the app uses neither.
/// </summary>
public sealed record TimerSchedule(string Expression, CrontabSchedule Crontab)
{
    public static TimerSchedule Of(string function, TimerTriggerAttribute timer)
    {
        if (timer.RunOnStartup) throw new NotSupportedException($"Function {function}: the local host does not run RunOnStartup timers.");
        var expression = timer.Schedule;
        var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        var crontab = expression.Contains('%') || fields is not (5 or 6) ? null
            : CrontabSchedule.TryParse(expression, new CrontabSchedule.ParseOptions { IncludingSeconds = fields == 6 });
        return crontab is null
            ? throw new NotSupportedException($"Function {function}: '{expression}' is not an NCRONTAB schedule the local host runs.")
            : new TimerSchedule(expression, crontab);
    }

    /// <summary>The first occurrence after <paramref name="after"/>.</summary>
    public DateTimeOffset Next(DateTimeOffset after) => new(Crontab.GetNextOccurrence(after.UtcDateTime), TimeSpan.Zero);
}
