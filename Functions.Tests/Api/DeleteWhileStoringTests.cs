using Azure.Core;
using Functions.Tests.Storage;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.DependencyInjection;

namespace Functions.Tests.Api;

/// <summary>
/// The app on real Azurite, except that the next history transaction a test asks to hold waits at a gate: a generation
/// caught between its file (written, listed, its id known to whoever polls the files or derives it from a job id) and
/// its history row.
/// </summary>
public sealed class HeldHistoryWriteFixture : AppFixture
{
    TaskCompletionSource? _held;

    public TaskCompletionSource Reached { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Holds the next history transaction until the returned gate is opened.</summary>
    public TaskCompletionSource HoldNextHistoryWrite()
    {
        Reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        return _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddAzureClients(clients => clients.ConfigureDefaults(options => options.Transport = new RecordingTransport(request =>
        {
            if (request.Method == RequestMethod.Post && request.Uri.Path.EndsWith("/$batch", StringComparison.Ordinal)
                && Interlocked.Exchange(ref _held, null) is { } gate)
            {
                Reached.TrySetResult();
                gate.Task.Wait(TimeSpan.FromSeconds(30));
            }
            return null;
        })));
}

public sealed class DeleteWhileStoringTests(HeldHistoryWriteFixture app) : IClassFixture<HeldHistoryWriteFixture>
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_generated_file_deleted_before_its_history_row_is_written_answers_409_and_leaves_no_row_without_its_file(bool asJob)
    {
        var gate = app.HoldNextHistoryWrite();
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/images/generate") { Content = JsonContent.Create(new { prompt = "caught between file and row" }) };
        if (asJob) request.Headers.Add("Prefer", "respond-async");
        var generate = app.Client.SendAsync(request);
        await app.Reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // The file is there, its row not yet: a job's file id is its job's digits, an inline one is the newest listed.
        var fileId = asJob
            ? "file_" + (await (await generate).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()![5..]
            : (await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/files?limit=1")).GetProperty("data")[0].GetProperty("file_id").GetString()!;

        var deleted = await app.Client.DeleteAsync($"/api/v1/files/{fileId}");
        gate.SetResult();
        await generate;
        await Eventually.HoldsAsync(async () => await RowOfAsync(fileId) is not null);

        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync($"/api/v1/files/{fileId}/download")).StatusCode); // the row's file is there
        Assert.Equal(HttpStatusCode.Conflict, deleted.StatusCode);
        Assert.Equal(JsonValueKind.String, (await deleted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").ValueKind);
        // Once stored, the delete takes the image out of the history with its file.
        Assert.Equal(HttpStatusCode.OK, (await app.Client.DeleteAsync($"/api/v1/files/{fileId}")).StatusCode);
        Assert.Null(await RowOfAsync(fileId));
    }

    async Task<JsonElement?> RowOfAsync(string fileId) =>
        (await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history?limit=100")).GetProperty("images").EnumerateArray()
            .Cast<JsonElement?>().FirstOrDefault(image => image!.Value.GetProperty("imageUrl").GetString()!.Contains(fileId));
}
