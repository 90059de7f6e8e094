using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestCollectionOrderer("Functions.Tests.Infrastructure.LongClassesFirst", "Functions.Tests")]

namespace Functions.Tests.Infrastructure;

/// <summary>A test class that takes half a minute or more (its tests start processes, or wait out real leases and timeouts).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RunsLongAttribute : Attribute;

/// <summary>
/// Starts the classes marked <see cref="RunsLongAttribute"/> first, the others after them in xunit's own order. A long
/// class that happens to start last runs on alone while the other threads have nothing left (ShutdownTests, 80 s once).
/// </summary>
public sealed class LongClassesFirst : ITestCollectionOrderer
{
    readonly DefaultTestCollectionOrderer _default = new();

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        _default.OrderTestCollections(testCollections).OrderBy(collection => RunsLong(collection) ? 0 : 1); // a stable sort

    // A class's own collection is named after it: "Test collection for Namespace.Class".
    static bool RunsLong(ITestCollection collection) =>
        collection.DisplayName.StartsWith(PerClassPrefix, StringComparison.Ordinal)
        && typeof(LongClassesFirst).Assembly.GetType(collection.DisplayName[PerClassPrefix.Length..].Split(' ')[0]) is { } type
        && type.IsDefined(typeof(RunsLongAttribute), inherit: false);

    const string PerClassPrefix = "Test collection for ";
}
