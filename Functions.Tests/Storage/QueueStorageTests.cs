namespace Functions.Tests.Storage;

public sealed class QueueStorageTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    async Task<string> NewQueueAsync()
    {
        var name = "q" + Guid.NewGuid().ToString("N")[..12];
        await storage.Queues.CreateQueueIfNotExistsAsync(name);
        await storage.Queues.CreateQueueIfNotExistsAsync(name); // twice is fine
        return name;
    }

    [Fact]
    public async Task Sent_message_is_received_once_while_hidden_and_deleted()
    {
        var queue = await NewQueueAsync();
        await storage.Queues.SendAsync(queue, "job_ab12 ünïcode");

        var first = await storage.Queues.ReceiveAsync(queue, 32, TimeSpan.FromSeconds(30));
        var second = await storage.Queues.ReceiveAsync(queue, 32, TimeSpan.FromSeconds(30));

        var message = Assert.Single(first);
        Assert.Equal("job_ab12 ünïcode", message.Text);
        Assert.Equal(1, message.DequeueCount);
        Assert.Empty(second);
        await storage.Queues.DeleteAsync(queue, message.MessageId, message.PopReceipt);
        Assert.Equal(0, await storage.Queues.GetApproximateCountAsync(queue));
    }

    [Fact]
    public async Task Delayed_message_stays_invisible_until_its_delay()
    {
        var queue = await NewQueueAsync();
        await storage.Queues.SendAsync(queue, "later", TimeSpan.FromSeconds(2));

        Assert.Empty(await storage.Queues.ReceiveAsync(queue, 1, TimeSpan.FromSeconds(30)));
        Assert.Equal(1, await storage.Queues.GetApproximateCountAsync(queue));
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Equal("later", Assert.Single(await storage.Queues.ReceiveAsync(queue, 1, TimeSpan.FromSeconds(30))).Text);
    }

    [Fact]
    public async Task Updated_visibility_returns_the_message_with_a_higher_dequeue_count()
    {
        var queue = await NewQueueAsync();
        await storage.Queues.SendAsync(queue, "retry me");
        var message = Assert.Single(await storage.Queues.ReceiveAsync(queue, 1, TimeSpan.FromSeconds(30)));

        var receipt = await storage.Queues.UpdateVisibilityAsync(queue, message, TimeSpan.Zero);
        var again = Assert.Single(await storage.Queues.ReceiveAsync(queue, 1, TimeSpan.FromSeconds(30)));

        Assert.NotEqual(message.PopReceipt, receipt);
        Assert.Equal(message.MessageId, again.MessageId);
        Assert.Equal(2, again.DequeueCount);
    }
}
