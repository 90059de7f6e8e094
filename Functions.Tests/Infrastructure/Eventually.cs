namespace Functions.Tests.Infrastructure;

public static class Eventually
{
    /// <summary>Polls until the condition holds; fails the test when it has not within the timeout (15 s by default).</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold in time");
            await Task.Delay(50);
        }
    }
}
