using Functions.Generation.Providers;
using Functions.Storage;
using Functions.Tokens;
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
}
