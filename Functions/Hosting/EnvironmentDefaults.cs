namespace Functions.Hosting;

public static class EnvironmentDefaults
{
    /// <summary>
    /// Refuses, at start, a switch whose default differs by environment (set by appsettings.Development.json) when it is
    /// set but empty: the empty value hides that file's, so the switch would quietly be off even in Development.
    /// </summary>
    public static OptionsBuilder<T> RefuseEmpty<T>(this OptionsBuilder<T> options, string section, string key) where T : class =>
        options.Validate<IConfiguration>((_, configuration) => configuration.GetSection(section)[key] is not "",
            $"{section}:{key} is set but empty: set it to true or false, or leave it out for its default (true in Development, false otherwise).");
}
