using System.Text;
using Azure.Storage.Queues;
using Functions.Jobs;

namespace Functions.Tests.Storage;

public sealed class JobQueueTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    [Fact]
    public async Task A_job_id_goes_on_the_queue_in_Base64_as_the_Functions_queue_trigger_reads_it()
    {
        var queue = await storage.NewQueueAsync();
        await new JobQueue(queue).EnqueueAsync("job_0123456789abcdef0123", delay: null, default);

        // A client with no encoding sees the raw text the host would decode.
        var raw = new QueueClient(storage.ConnectionString, queue.Name);
        var message = Assert.Single((await raw.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30))).Value);
        Assert.Equal("job_0123456789abcdef0123", Encoding.UTF8.GetString(Convert.FromBase64String(message.MessageText)));
    }

    [Fact]
    public async Task A_delayed_message_stays_invisible_until_its_delay()
    {
        var queue = await storage.NewQueueAsync();
        await new JobQueue(queue).EnqueueAsync("job_later", TimeSpan.FromSeconds(2), default);

        Assert.Empty((await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30))).Value);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Equal("job_later", Assert.Single((await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30))).Value).MessageText);
    }
}
