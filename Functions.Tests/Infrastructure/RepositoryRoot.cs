using System.Reflection;

namespace Functions.Tests.Infrastructure;

static class RepositoryRoot
{
    /// <summary>The folder holding Functions.sln, as the project that built these binaries recorded it.</summary>
    public static string Path { get; } = Find();

    // Recorded at build time, not found upward from the binaries, which an artifacts path may put outside the repository.
    static string Find()
    {
        var root = typeof(RepositoryRoot).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;
        if (!File.Exists(System.IO.Path.Combine(root, "Functions.sln")))
            throw new InvalidOperationException($"Functions.sln not found in {root}, the repository these binaries were built from.");
        return root;
    }
}
