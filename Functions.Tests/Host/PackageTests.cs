using System.Diagnostics;
using System.IO.Compression;
using System.Reflection.PortableExecutable;
using Functions.LocalHost;

namespace Functions.Tests.Host;

/// <summary>scripts/package.sh run once, as a user would: the app root it publishes and the zip it makes.</summary>
public sealed class PackageFixture : IAsyncLifetime
{
    public string Out { get; } = Path.Combine(Path.GetTempPath(), "package-test-" + Guid.NewGuid().ToString("N"));
    public string Root => Path.Combine(Out, "app");

    public async Task InitializeAsync()
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot.Path, "scripts", "package.sh"), Out])
        {
            WorkingDirectory = RepositoryRoot.Path, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10)); // a Release publish beside the other tests
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true); // before DisposeAsync removes its output
            throw;
        }
        Assert.True(process.ExitCode == 0, await output + await errors);
    }

    public Task DisposeAsync()
    {
        if (Directory.Exists(Out)) Directory.Delete(Out, recursive: true);
        return Task.CompletedTask;
    }
}

public sealed class PackageTests(PackageFixture package) : IClassFixture<PackageFixture>
{
    [Fact]
    public void The_package_is_a_framework_dependent_ReadyToRun_isolated_worker_app_root()
    {
        var root = package.Root;
        Assert.Equal(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "host.json")), File.ReadAllText(Path.Combine(root, "host.json")));
        using (var worker = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "worker.config.json"))))
            Assert.Equal("Functions.dll", worker.RootElement.GetProperty("description").GetProperty("defaultWorkerPath").GetString());
        using (var extensions = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "extensions.json"))))
            Assert.Contains(extensions.RootElement.GetProperty("extensions").EnumerateArray(), e => e.GetProperty("name").GetString() == "DurableTask");
        Assert.True(Directory.EnumerateFiles(Path.Combine(root, ".azurefunctions")).Any());

        // Framework-dependent: the runtime config names the shared framework, and no runtime is bundled.
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "Functions.runtimeconfig.json"))))
            Assert.Contains("Microsoft.AspNetCore.App", config.RootElement.GetProperty("runtimeOptions").GetProperty("frameworks").EnumerateArray()
                .Select(f => f.GetProperty("name").GetString()));
        Assert.False(File.Exists(Path.Combine(root, "libcoreclr.so")));
        Assert.True(File.Exists(Path.Combine(root, "appsettings.json")));
        Assert.False(File.Exists(Path.Combine(root, "appsettings.Development.json")), "the package carries the local settings");
        Assert.True(File.Exists(Path.Combine(root, "libSkiaSharp.so")), "SkiaSharp's native library (rendering, image checks) is not in the app root");

        // ReadyToRun: the assembly carries precompiled native code for linux-x64.
        using (var pe = new PEReader(File.OpenRead(Path.Combine(root, "Functions.dll"))))
        {
            Assert.True(pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0, "Functions.dll is not ReadyToRun");
            Assert.Equal(Machine.Amd64, (Machine)((ushort)pe.PEHeaders.CoffHeader.Machine ^ 0x7B79)); // R2R's Linux OS tag
        }

        using var zip = ZipFile.OpenRead(Path.Combine(package.Out, "functions.zip"));
        var entries = zip.Entries.Select(e => e.FullName.Replace('\\', '/')).ToHashSet();
        foreach (var file in new[] { "host.json", "functions.metadata", "worker.config.json", "extensions.json", "Functions.dll" })
            Assert.Contains(file, entries);
        Assert.Contains(entries, e => e.StartsWith(".azurefunctions/"));
        Assert.Equal(Directory.GetFiles(root, "*", SearchOption.AllDirectories).Length, entries.Count(e => !e.EndsWith('/')));
    }

    [Fact]
    public void Functions_metadata_lists_every_function_the_local_host_serves_with_the_same_route_and_methods()
    {
        var catalog = FunctionCatalog.Of(typeof(Functions.Generation.GenerateImage).Assembly, HostJson.Load(Path.Combine(RepositoryRoot.Path, "host.json")));
        using var metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(package.Root, "functions.metadata")));
        var published = metadata.RootElement.EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f.GetProperty("bindings")
            .EnumerateArray().Single(b => b.GetProperty("type").GetString()!.EndsWith("Trigger")));

        Assert.Equal(catalog.Functions.Select(f => f.Name).Order(), published.Keys.Order());
        foreach (var function in catalog.Functions)
        {
            var trigger = published[function.Name];
            Assert.Equal(function.Trigger, trigger.GetProperty("type").GetString());
            if (function.Trigger == FunctionCatalog.TimerTrigger) Assert.Equal(function.Schedule!.Expression, trigger.GetProperty("schedule").GetString());
            if (function.Trigger != FunctionCatalog.HttpTrigger) continue;
            Assert.Equal(function.Route, trigger.GetProperty("route").GetString());
            Assert.Equal(function.HttpMethods.Order(), trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()).Order());
        }
        Assert.Single(catalog.Orchestrators);
        Assert.Equal(["CheckGeneration", "DiscardGeneration", "StoreGeneration", "SubmitGeneration"], catalog.Activities.Select(a => a.Name).Order());
        Assert.Equal(20, catalog.Http.Count());
        Assert.Equal(["PurgeEndedJobs", "SweepOrphanFiles"], catalog.Timers.Select(t => t.Name).Order());
    }
}
