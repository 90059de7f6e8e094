using Functions.Generation;
using Functions.Tokens;
using System.Reflection;
using Functions.Generation.Providers;
using Functions.Hosting;

namespace Functions.Tests.Host;

/// <summary>The app's options classes, by section: whether a setting such as Upstream__MaxRetries binds to one of their properties.</summary>
public static class AppOptions
{
    static readonly Dictionary<string, Type> Sections = new[]
    {
        typeof(GenerationOptions), typeof(AuthOptions), typeof(ApiOptions), typeof(UpstreamOptions), typeof(ProviderOptions),
    }.ToDictionary(t => (string)t.GetField("Section")!.GetValue(null)!, StringComparer.OrdinalIgnoreCase);

    public static bool Binds(string setting)
    {
        var path = setting.Split("__");
        if (path.Length < 2 || !Sections.TryGetValue(path[0], out var type)) return false;
        foreach (var name in path[1..])
        {
            var property = type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null) return false;
            type = property.PropertyType;
        }
        return true;
    }
}
