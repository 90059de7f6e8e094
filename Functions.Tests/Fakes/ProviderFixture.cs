namespace Functions.Tests.Fakes;

/// <summary>
/// The app with every provider pointed at its fake and every token set in app settings, the offline renderer off,
/// short time bounds, checks without delay, and every log line kept (to prove no secret reaches a log).
/// </summary>
public class ProviderFixture : AppFixture
{
    public FakeGeminigen Geminigen { get; } = new();
    public FakeSiliconFlow SiliconFlow { get; } = new();
    public FakeOpenAi OpenAi { get; } = new();

    protected override IReadOnlyDictionary<string, string?> Settings => Defaults;

    Dictionary<string, string?> Defaults => new()
    {
        ["Generation:OfflineRenderer"] = "false",
        ["Providers:Geminigen:BaseUrl"] = Geminigen.BaseUrl + "/uapi/v1",
        ["Providers:Geminigen:WebBaseUrl"] = Geminigen.BaseUrl + "/api",
        ["Providers:Geminigen:Token"] = FakeGeminigen.ApiKey,
        ["Providers:SiliconFlow:BaseUrl"] = SiliconFlow.BaseUrl + "/v1",
        ["Providers:SiliconFlow:Token"] = FakeSiliconFlow.Key,
        ["Providers:OpenAI:BaseUrl"] = OpenAi.BaseUrl + "/v1",
        ["Providers:OpenAI:Token"] = FakeOpenAi.Key,
        // A catalog entry from configuration alone: an OpenAI-compatible model that answers with URLs.
        ["Models:dall-e-3:Provider"] = "openai",
        ["Models:dall-e-3:Shapes:0"] = "1024x1024",
        ["Models:dall-e-3:Shapes:1"] = "1792x1024",
        ["Models:dall-e-3:ResponseFormat"] = "url",
        ["Upstream:AttemptTimeoutSeconds"] = "1.5",
        ["Upstream:MaxRetries"] = "1",
        ["Upstream:RetryBaseDelaySeconds"] = "0.05",
        ["Upstream:MaxRetryDelaySeconds"] = "2",
        ["Upstream:BreakerMinimumCalls"] = BreakerMinimumCalls,
        ["Upstream:PollMinSeconds"] = "0.01",
        ["Upstream:PollMaxSeconds"] = "0.01",
        ["Upstream:DeadlineSeconds"] = "15", // room for a busy machine (the deadline itself is tested in DeadlineTests, at 3 s)
        ["Upstream:MaxImageBytes"] = (1024 * 1024).ToString(),
        ["Upstream:AllowPrivateAddresses"] = AllowPrivateAddresses,
        ["Generation:SyncWaitSeconds"] = "30",
    };

    /// <summary>These settings with some changed: what a fixture for one kind of test overrides Settings with.</summary>
    protected IReadOnlyDictionary<string, string?> With(params (string Key, string Value)[] changes)
    {
        var settings = Defaults; // not Settings: a fixture's override calls this
        foreach (var (key, value) in changes) settings[key] = value;
        return settings;
    }

    protected virtual string BreakerMinimumCalls => "1000";
    protected virtual string AllowPrivateAddresses => "true";

    protected override bool KeepsLogs => true;

    /// <summary>
    /// Makes <paramref name="upstream"/> fail at <paramref name="path"/>, generates with <paramref name="model"/>, and
    /// returns the answer and its apiDebug, which must say that the job fell back.
    /// </summary>
    public async Task<(JsonElement Answer, JsonElement Debug)> GenerateThroughFallbackAsync(FakeUpstream upstream, string path, Fault fault,
        string model, int times = int.MaxValue)
    {
        ClearFaults();
        upstream.Fail(path, fault, times);
        var answer = await GenerateAsync(new { prompt = $"{model} falls back after {fault}", model });
        var debug = answer.GetProperty("apiDebug");
        Assert.True(debug.GetProperty("usedFallback").GetBoolean());
        return (answer, debug);
    }

    public void ClearFaults()
    {
        Geminigen.ClearFaults();
        SiliconFlow.ClearFaults();
        OpenAi.ClearFaults();
        Geminigen.Hold = false;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Geminigen.DisposeAsync();
        await SiliconFlow.DisposeAsync();
        await OpenAi.DisposeAsync();
    }
}
