using System.Diagnostics;
using System.IO.Compression;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using Functions.Tests.Infrastructure;

namespace Functions.Tests.Host;

/// <summary>Runs scripts/package.sh as a user would and checks the Functions app root and the zip it makes.</summary>
public sealed class PackageTests : IDisposable
{
    readonly string _out = Path.Combine(Path.GetTempPath(), "package-test-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task The_package_is_a_framework_dependent_ReadyToRun_app_root_with_host_json_and_every_function()
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot.Path, "scripts", "package.sh"), _out])
        {
            WorkingDirectory = RepositoryRoot.Path, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        Assert.True(process.ExitCode == 0, await output + await errors);

        var root = Path.Combine(_out, "app");
        Assert.Equal(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "host.json")), File.ReadAllText(Path.Combine(root, "host.json")));
        foreach (var function in Directory.GetDirectories(Path.Combine(RepositoryRoot.Path, "Functions", "Triggers")))
            Assert.Equal(File.ReadAllText(Path.Combine(function, "function.json")),
                File.ReadAllText(Path.Combine(root, Path.GetFileName(function), "function.json")));

        // Framework-dependent: the runtime config names the shared framework, and no runtime is bundled.
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "Functions.runtimeconfig.json"))))
            Assert.Contains("Microsoft.AspNetCore.App", config.RootElement.GetProperty("runtimeOptions").GetProperty("frameworks").EnumerateArray()
                .Select(f => f.GetProperty("name").GetString()));
        Assert.False(File.Exists(Path.Combine(root, "libcoreclr.so")));
        Assert.True(File.Exists(Path.Combine(root, "appsettings.json")));
        Assert.True(File.Exists(Path.Combine(root, "libSkiaSharp.so")), "SkiaSharp's native library (rendering, image checks) is not in the app root");

        // ReadyToRun: the assembly carries precompiled native code for linux-x64.
        using (var pe = new PEReader(File.OpenRead(Path.Combine(root, "Functions.dll"))))
        {
            Assert.True(pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0, "Functions.dll is not ReadyToRun");
            Assert.Equal(Machine.Amd64, (Machine)((ushort)pe.PEHeaders.CoffHeader.Machine ^ 0x7B79)); // R2R's Linux OS tag
        }

        using var zip = ZipFile.OpenRead(Path.Combine(_out, "functions.zip"));
        var entries = zip.Entries.Select(e => e.FullName.Replace('\\', '/')).ToHashSet();
        Assert.Contains("host.json", entries);
        Assert.Contains("Functions.dll", entries);
        Assert.Contains("ProcessJob/function.json", entries);
        Assert.Equal(Directory.GetFiles(root, "*", SearchOption.AllDirectories).Length, entries.Count(e => !e.EndsWith('/')));
    }

    public void Dispose()
    {
        if (Directory.Exists(_out)) Directory.Delete(_out, recursive: true);
    }
}
