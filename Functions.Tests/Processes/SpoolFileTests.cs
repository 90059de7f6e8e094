using System.Net.Sockets;
using System.Text;

namespace Functions.Tests.Processes;

/// <summary>
/// Large bodies go to temporary files while they arrive: a generate body to the app's spool, an upload's file part to
/// ASP.NET Core's multipart buffer. A process killed meanwhile (kill -9, out of memory) must not leave them behind for
/// good: .NET deletes a DeleteOnClose file on Linux only when it is disposed.
/// </summary>
public sealed class SpoolFileTests : IAsyncLifetime
{
    readonly DirectoryInfo _temporary = Directory.CreateTempSubdirectory("spool-test-");
    Azurite _azurite = null!;
    AppProcess _app = null!;

    public async Task InitializeAsync()
    {
        _azurite = await AzuritePool.RentAsync();
        _app = await AppProcess.StartAsync(AppProcess.BuiltDll, _azurite.ConnectionString,
            new Dictionary<string, string> { ["TMPDIR"] = _temporary.FullName, ["ASPNETCORE_TEMP"] = _temporary.FullName });
    }

    [Fact]
    public async Task A_process_killed_while_a_body_is_spooled_leaves_no_file_behind()
    {
        using var socket = new TcpClient();
        await socket.ConnectAsync(_app.BaseAddress.Host, _app.BaseAddress.Port);
        var stream = socket.GetStream();
        var start = "{\"prompt\":\"spooled\",\"referenceImageBase64\":\"" + new string('A', 2 * 1024 * 1024);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /api/images/generate HTTP/1.1\r\nHost: {_app.BaseAddress.Authority}\r\nContent-Type: application/json\r\nContent-Length: {start.Length + 1024}\r\n\r\n{start}"));

        // The body stops short of its length: the app holds it open in its spool until the kill.
        await Eventually.HoldsAsync(() => Task.FromResult(OpenFilesUnder(_app.Id, _temporary.FullName) > 0));
        _app.Kill();

        // The runtime's own diagnostic sockets and pipes stay (they are not files of the app's).
        Assert.DoesNotContain(_temporary.EnumerateFiles("*", SearchOption.AllDirectories),
            file => !file.Name.StartsWith("dotnet-diagnostic-", StringComparison.Ordinal) && !file.Name.StartsWith("clr-debug-pipe-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_upload_buffer_a_killed_process_left_is_removed_by_the_next_start_once_an_hour_old()
    {
        using (var socket = new TcpClient())
        {
            await socket.ConnectAsync(_app.BaseAddress.Host, _app.BaseAddress.Port);
            var part = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n" + new string('x', 256 * 1024);
            await socket.GetStream().WriteAsync(Encoding.ASCII.GetBytes(
                $"POST /api/v1/files HTTP/1.1\r\nHost: {_app.BaseAddress.Authority}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: {part.Length + 1024}\r\n\r\n{part}"));
            await Eventually.HoldsAsync(() => Task.FromResult(OpenFilesUnder(_app.Id, _temporary.FullName) > 0));
            _app.Kill();
        }
        var left = Assert.Single(_temporary.EnumerateFiles("ASPNETCORE_*.tmp")); // ASP.NET Core's own, deleted only when disposed
        left.LastWriteTimeUtc = DateTime.UtcNow.AddHours(-2);
        var recent = Plant("ASPNETCORE_recent.tmp", TimeSpan.FromMinutes(10)); // maybe another process's upload under way
        var other = Plant("other.tmp", TimeSpan.FromHours(2)); // not ASP.NET Core's

        await using var next = await AppProcess.StartAsync(AppProcess.BuiltDll, _azurite.ConnectionString,
            new Dictionary<string, string> { ["TMPDIR"] = _temporary.FullName, ["ASPNETCORE_TEMP"] = _temporary.FullName });

        await Eventually.HoldsAsync(() => Task.FromResult(!File.Exists(left.FullName)));
        Assert.True(File.Exists(recent) && File.Exists(other));
    }

    string Plant(string name, TimeSpan age)
    {
        var path = Path.Combine(_temporary.FullName, name);
        File.WriteAllText(path, "x");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow - age);
        return path;
    }

    /// <summary>How many of the process's open files are (or were, before they were unlinked) in <paramref name="directory"/>.</summary>
    static int OpenFilesUnder(int processId, string directory) =>
        new DirectoryInfo($"/proc/{processId}/fd").EnumerateFileSystemInfos()
            .Count(fd => fd.LinkTarget?.StartsWith(directory + "/", StringComparison.Ordinal) == true);

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await AzuritePool.ReturnAsync(_azurite);
        _temporary.Delete(recursive: true);
    }
}
