using Functions.Generation.Providers;
using Functions.Storage;
using Functions.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Functions.Tests.Storage;

public sealed class UpstreamTokensTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    readonly ManualClock _clock = new(DateTimeOffset.UtcNow);

    UpstreamTokens NewInstance(string? settingToken = null) => new(storage.Table(StorageNames.SettingsTable), storage.Bootstrap,
        Options.Create(new ProviderOptions { OpenAI = { Token = settingToken } }), _clock);

    [Fact]
    public async Task A_saved_token_wins_over_the_setting_until_it_is_deleted()
    {
        var tokens = NewInstance(settingToken: "sk-from-settings");
        Assert.Equal("sk-from-settings", await tokens.GetAsync("openai", default));

        await tokens.SetAsync("openai", "sk-saved", default);
        Assert.Equal("sk-saved", await tokens.GetAsync("openai", default));
        Assert.Equal("sk-saved", await NewInstance().GetAsync("openai", default)); // another instance reads it from storage

        Assert.True(await tokens.DeleteAsync("openai", default));
        Assert.False(await tokens.DeleteAsync("openai", default));
        Assert.Equal("sk-from-settings", await tokens.GetAsync("openai", default));
    }

    [Fact]
    public async Task A_setting_of_only_spaces_is_no_token()
    {
        Assert.Null(await NewInstance(settingToken: "   ").GetAsync("openai", default)); // as a saved token must not be blank
        Assert.Equal("sk-padded", await NewInstance(settingToken: " sk-padded ").GetAsync("openai", default));
    }

    [Fact]
    public async Task Reads_are_cached_for_30_seconds_then_see_what_another_instance_saved()
    {
        var reader = NewInstance();
        Assert.Null(await reader.GetAsync("siliconflow", default));
        await NewInstance().SetAsync("siliconflow", "sk-elsewhere", default);

        var before = storage.Counter.Count;
        Assert.Null(await reader.GetAsync("siliconflow", default));
        Assert.Equal(before, storage.Counter.Count);

        _clock.Now += TimeSpan.FromSeconds(31);
        Assert.Equal("sk-elsewhere", await reader.GetAsync("siliconflow", default));
    }

    [Theory]
    [InlineData(false)] // a token rotated (a leaked key replaced)
    [InlineData(true)] // a token deleted (to stop spending)
    public async Task A_read_that_overlaps_a_change_on_this_instance_does_not_cache_the_token_it_read_before_it(bool delete)
    {
        await NewInstance().SetAsync("siliconflow", "sk-old-leaked", default);
        var answering = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = 0;
        using var services = new RecordingTransport(_ => null, afterSending: request =>
        {
            if (request.Method == Azure.Core.RequestMethod.Get && Interlocked.Exchange(ref held, 1) == 0)
            {
                answering.SetResult();
                release.Task.Wait(TimeSpan.FromSeconds(30)); // the old token is on its way back while the change is made
            }
            return null;
        }).AppStorage(storage.ConnectionString);
        var tokens = new UpstreamTokens(services.GetRequiredKeyedService<Azure.Data.Tables.TableClient>(StorageNames.SettingsTable),
            services.GetRequiredService<StorageBootstrap>(), Options.Create(new ProviderOptions()), _clock);

        var read = Task.Run(() => tokens.GetAsync("siliconflow", default)); // a generate, the cache empty
        await answering.Task.WaitAsync(TimeSpan.FromSeconds(30));
        if (delete) await tokens.DeleteAsync("siliconflow", default);
        else await tokens.SetAsync("siliconflow", "sk-new-rotated", default);
        release.SetResult();
        await read.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(delete ? null : "sk-new-rotated", await tokens.GetAsync("siliconflow", default)); // was: the old one, for 30 s
    }

    // A token row's own request (not the bootstrap's container and table creations): ".../settings(PartitionKey='tokens',RowKey='…')".
    static bool IsTokenRow(Azure.Core.Request request, Azure.Core.RequestMethod method) =>
        request.Method == method && request.Uri.Path.Contains("(PartitionKey=", StringComparison.Ordinal);

    /// <summary>An instance on <paramref name="transport"/>, every storage request of it going through the transport.</summary>
    UpstreamTokens Through(RecordingTransport transport, out ServiceProvider services)
    {
        services = transport.AppStorage(storage.ConnectionString);
        return new UpstreamTokens(services.GetRequiredKeyedService<Azure.Data.Tables.TableClient>(StorageNames.SettingsTable),
            services.GetRequiredService<StorageBootstrap>(), Options.Create(new ProviderOptions()), _clock);
    }

    [Fact]
    public async Task A_removal_whose_first_try_landed_unseen_before_the_retry_still_says_the_token_was_removed()
    {
        await NewInstance().SetAsync("removed-once", "sk-to-remove", default);
        var lost = 0;
        // Storage deletes the row, but its answer is lost (a 503 in its place): the storage client tries again, and meets a 404.
        var tokens = Through(new RecordingTransport(_ => null, afterSending: request =>
            IsTokenRow(request, Azure.Core.RequestMethod.Delete) && Interlocked.Exchange(ref lost, 1) == 0
                ? RecordingTransport.Error(request, 503, "answer lost") : null), out var services);
        using var _ = services;

        Assert.True(await tokens.DeleteAsync("removed-once", default)); // was: false, "No token was saved.", and no audit line
        Assert.Null(await NewInstance().GetAsync("removed-once", default));
    }

    [Fact]
    public async Task Two_saves_confirmed_in_the_other_order_leave_this_instance_reading_the_one_storage_kept()
    {
        var firstLanded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondAnswered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tokens = Through(new RecordingTransport(_ => null, afterSending: request =>
        {
            // The first save's answer is held until the second's has come back.
            if (IsTokenRow(request, Azure.Core.RequestMethod.Put) && firstLanded.TrySetResult()) secondAnswered.Task.Wait(TimeSpan.FromSeconds(30));
            return null;
        }), out var services);
        using var _ = services;

        var first = tokens.SetAsync("saved-twice", "sk-saved-first", default);
        await firstLanded.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await tokens.SetAsync("saved-twice", "sk-saved-second", default);
        secondAnswered.SetResult();
        await first.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("sk-saved-second", await NewInstance().GetAsync("saved-twice", default));
        Assert.Equal("sk-saved-second", await tokens.GetAsync("saved-twice", default)); // was: the first, for 30 s
    }

    [Fact]
    public async Task A_save_storage_did_not_confirm_but_made_is_what_this_instance_reads_next()
    {
        await NewInstance().SetAsync("saved-unconfirmed", "sk-before", default);
        // Every try lands, and every answer is lost.
        var tokens = Through(new RecordingTransport(_ => null, afterSending: request =>
            IsTokenRow(request, Azure.Core.RequestMethod.Put) ? RecordingTransport.Error(request, 503, "answer lost") : null), out var services);
        using var _ = services;
        Assert.Equal("sk-before", await tokens.GetAsync("saved-unconfirmed", default));

        await Assert.ThrowsAnyAsync<Exception>(() => tokens.SetAsync("saved-unconfirmed", "sk-after", default));

        Assert.Equal("sk-after", await tokens.GetAsync("saved-unconfirmed", default)); // was: sk-before, for 30 s, while generations used it
    }
}
