using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Storage.Queues.Models;
using Functions.Generation;
using Functions.Storage;
using Functions.Tests.Api;
using Functions.Tests.Infrastructure;
using Functions.Tests.Jobs;
using Moq;

namespace Functions.Tests.Host;

/// <summary>The app as the Functions host starts it: FUNCTIONS_CUSTOMHANDLER_PORT set, so no listener of its own.</summary>
public sealed class UnderHostFixture : AppFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["FUNCTIONS_CUSTOMHANDLER_PORT"] = "7999" };
}

public sealed class QueueTriggerTests(UnderHostFixture app) : IClassFixture<UnderHostFixture>
{
    [Fact]
    public async Task The_hosts_invocation_for_a_queue_message_runs_the_job_and_answers_in_the_hosts_shape()
    {
        var accepted = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "through the host" });
        var path = accepted.Headers.Location!.AbsolutePath;
        var message = await TakeMessageAsync(app, path.Split('/')[^1]);

        var response = await app.Client.PostAsJsonAsync("/ProcessJob", (object)Envelope(message.MessageText, message.DequeueCount), JsonSerializerOptions.Default);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Object, body.GetProperty("Outputs").ValueKind);
        Assert.Empty(body.GetProperty("Outputs").EnumerateObject());
        Assert.NotEmpty(body.GetProperty("Logs").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("ReturnValue").ValueKind);
        var job = await app.Client.GetFromJsonAsync<JsonElement>(path);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        PngChecker.Check(await app.Client.GetByteArrayAsync(job.GetProperty("result").GetProperty("image_url").GetString()));
    }

    [Fact]
    public async Task Under_the_host_the_app_runs_no_listener_of_its_own()
    {
        var accepted = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "nobody but the host takes me" });
        await Task.Delay(1500);

        var job = await app.Client.GetFromJsonAsync<JsonElement>(accepted.Headers.Location!.AbsolutePath);
        Assert.Equal("queued", job.GetProperty("status").GetString());
        Assert.True((await app.Queue(StorageNames.JobsQueue).GetPropertiesAsync()).Value.ApproximateMessagesCount >= 1);
    }

    [Theory]
    [InlineData("{\"Data\":{},\"Metadata\":{}}")]
    [InlineData("{\"Data\":{\"message\":\"\"}}")]
    [InlineData("not json")]
    public async Task An_invocation_without_a_message_is_refused(string body)
    {
        var response = await app.Client.PostAsync("/ProcessJob", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotEmpty((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("Logs").EnumerateArray());
    }

    /// <summary>Takes the job's message off the queue, as the host would before invoking the function.</summary>
    internal static async Task<QueueMessage> TakeMessageAsync(AppFixture app, string jobId)
    {
        var queue = app.Queue(StorageNames.JobsQueue);
        QueueMessage? found = null;
        await Eventually.HoldsAsync(async () =>
            (found = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30))).Value.FirstOrDefault(m => m.MessageText == jobId)) is not null);
        return found!;
    }

    /// <summary>The custom-handler request the host sends for a queue message (Data keyed by the binding's name); send it with PascalCase names.</summary>
    internal static object Envelope(string message, long dequeueCount) => new
    {
        Data = new { message = JsonSerializer.Serialize(message) },
        Metadata = new { DequeueCount = dequeueCount, Id = Guid.NewGuid().ToString(), PopReceipt = "AgAAAAMAAAAAAAAA", sys = new { MethodName = "ProcessJob" } },
    };
}

public sealed class NotUnderHostTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Started_directly_the_worker_route_does_not_answer()
    {
        var response = await app.Client.PostAsJsonAsync("/ProcessJob", (object)QueueTriggerTests.Envelope("job_00", 1), JsonSerializerOptions.Default);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}

/// <summary>Under the host, with a provider that always throws and two deliveries allowed.</summary>
public sealed class UnderHostFailingFixture : SeamProviderFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["FUNCTIONS_CUSTOMHANDLER_PORT"] = "7999",
        ["Worker:MaxDequeueCount"] = "2",
    };

    public UnderHostFailingFixture() =>
        Provider.Setup(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>())).ThrowsAsync(new IOException("disk on fire"));
}

public sealed class QueueTriggerFailureTests(UnderHostFailingFixture app) : IClassFixture<UnderHostFailingFixture>
{
    [Fact]
    public async Task A_failing_job_answers_non_2xx_and_its_last_delivery_ends_it_as_failed()
    {
        var accepted = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "fails under the host" });
        var path = accepted.Headers.Location!.AbsolutePath;
        var message = await QueueTriggerTests.TakeMessageAsync(app, path.Split('/')[^1]);

        var first = await app.Client.PostAsJsonAsync("/ProcessJob", (object)QueueTriggerTests.Envelope(message.MessageText, 1), JsonSerializerOptions.Default);
        Assert.Equal(HttpStatusCode.InternalServerError, first.StatusCode);
        Assert.Equal(JsonValueKind.Null, (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ReturnValue").ValueKind);
        Assert.Equal("running", (await app.Client.GetFromJsonAsync<JsonElement>(path)).GetProperty("status").GetString());

        // The host's second delivery is the last (maxDequeueCount 2): the job fails, and the non-2xx sends the message to poison.
        var last = await app.Client.PostAsJsonAsync("/ProcessJob", (object)QueueTriggerTests.Envelope(message.MessageText, 2), JsonSerializerOptions.Default);
        Assert.True(last.StatusCode == HttpStatusCode.InternalServerError, await last.Content.ReadAsStringAsync());
        var job = await app.Client.GetFromJsonAsync<JsonElement>(path);
        Assert.True(job.GetProperty("status").GetString() == "failed", job + await last.Content.ReadAsStringAsync());
        Assert.Equal("gave up after 2 attempts: disk on fire", job.GetProperty("error").GetString());
    }
}
