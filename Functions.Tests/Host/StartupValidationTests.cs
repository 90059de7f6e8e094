using Functions.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Functions.Tests.Host;

/// <summary>Settings the app cannot work with stop it when it starts, naming the setting, instead of failing requests later.</summary>
public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("Models:mine:Provider", "openAI", "Models:mine:Provider is 'openAI'")]
    [InlineData("Models:grok:TakesRefrence", "false", "Models:grok:TakesRefrence is not a setting of a model; a model has Provider")]
    [InlineData("Auth:AdminKey", "short-key", "Auth:AdminKey must be at least 16 characters")]
    [InlineData("Auth:AdminKey", "process-admin-key-pad ", "Auth:AdminKey must not begin or end with whitespace")] // Kestrel trims a header's ends: 401 for ever
    [InlineData("Auth:AdminKey", "\tprocess-admin-key-pad", "Auth:AdminKey must not begin or end with whitespace")]
    [InlineData("Auth:AdminKey", "process-admin\u0001key-pad", "Auth:AdminKey must not begin or end with whitespace, nor hold control characters")]
    [InlineData("Upstream:MaxRetryDelaySeconds", "0.5", "RetryBaseDelaySeconds must be 0 or more and at most MaxRetryDelaySeconds")]
    [InlineData("Generation:DecodeBudgetMegapixels", "149", "Generation:DecodeBudgetMegapixels must be at least 150")]
    [InlineData("Generation:UploadBudgetMegabytes", "40", "Generation:UploadBudgetMegabytes must be at least 41")]
    [InlineData("Generation:DecodeWaitSeconds", "0", "Generation:DecodeWaitSeconds must be above 0")]
    [InlineData("Generation:JobRetentionDays", "0.5", "Generation:JobRetentionDays must be 0")] // would forget jobs still polled
    [InlineData("Generation:JobRetentionDays", "-1", "Generation:JobRetentionDays must be 0")]
    [InlineData("Generation:JobRetentionDays", "1000000", "Generation:JobRetentionDays must be 0")] // a cutoff before the year 1
    [InlineData("Generation:JobRetentionDays", "NaN", "Generation:JobRetentionDays must be 0")]
    [InlineData("Api:BodySilenceSeconds", "0", "Api:BodySilenceSeconds must be from 1 to 220")]
    [InlineData("Api:BodySilenceSeconds", "0.000000001", "Api:BodySilenceSeconds must be from 1 to 220")] // was: every POST with a body 408
    [InlineData("Api:PublicBaseUrl", "images.example.com", "Api:PublicBaseUrl must be an absolute http or https URL")]
    [InlineData("Api:PublicBaseUrl", "ftp://images.example.com", "Api:PublicBaseUrl must be an absolute http or https URL")]
    [InlineData("Api:PublicBaseUrl", "https://images.example.com/?tenant=1", "Api:PublicBaseUrl must be an absolute http or https URL")]
    [InlineData("Api:PublicBaseUrl", "https://images.example.com/#top", "Api:PublicBaseUrl must be an absolute http or https URL")]
    [InlineData("Api:PublicBaseUrl", "https://user:pw@images.example.com", "Api:PublicBaseUrl must be an absolute http or https URL without credentials")] // was: in every link
    [InlineData("Providers:SiliconFlow:BaseUrl", "https://api.siliconflow.com/v1?x=1", "Providers:SiliconFlow:BaseUrl must be an absolute http or https URL without credentials")] // was: every call 404
    [InlineData("Providers:Geminigen:BaseUrl", "http://user:s3cret@127.0.0.1/uapi/v1", "Providers:Geminigen:BaseUrl must be an absolute http or https URL without credentials")] // was: in apiDebug
    [InlineData("Providers:OpenAI:BaseUrl", "notaurl", "Providers:OpenAI:BaseUrl must be an absolute http or https URL without credentials, query or fragment, such as https://api.openai.com/v1")] // was a 500 at each generate
    [InlineData("Providers:SiliconFlow:BaseUrl", "ftp://api.siliconflow.com/v1", "Providers:SiliconFlow:BaseUrl must be")]
    [InlineData("Providers:Geminigen:BaseUrl", "file:///etc", "Providers:Geminigen:BaseUrl must be")]
    [InlineData("Providers:Geminigen:WebBaseUrl", "/api", "Providers:Geminigen:WebBaseUrl must be")]
    [InlineData("Upstream:MaxRetries", "-1", "Upstream:MaxRetries must be 0 or more")]
    [InlineData("Upstream:AttemptTimeoutSeconds", "0", "Upstream:AttemptTimeoutSeconds must be from 0.01 to 86400")]
    [InlineData("Upstream:AttemptTimeoutSeconds", "86401", "Upstream:AttemptTimeoutSeconds must be from 0.01 to 86400")] // was: every upstream call refused as "submit_interrupted"
    [InlineData("Upstream:AttemptTimeoutSeconds", "Infinity", "Upstream:AttemptTimeoutSeconds must be from 0.01 to 86400")] // was: jobs 503 for ever
    [InlineData("Upstream:BreakSeconds", "NaN", "Upstream: BreakerWindowSeconds and BreakSeconds must be at most 86400")] // was: a 500
    [InlineData("Upstream:BreakerWindowSeconds", "100000", "Upstream: BreakerWindowSeconds and BreakSeconds must be at most 86400")]
    [InlineData("Upstream:DeadlineSeconds", "-1", "Upstream:DeadlineSeconds must be from 1 to 86400")]
    [InlineData("Upstream:DeadlineSeconds", "0.001", "Upstream:DeadlineSeconds must be from 1 to 86400")] // was: every generation 504 "within 0 s"
    [InlineData("Upstream:DeadlineSeconds", "4300000", "Upstream:DeadlineSeconds must be from 1 to 86400")] // was: jobs running for ever
    [InlineData("Upstream:DeadlineSeconds", "Infinity", "Upstream:DeadlineSeconds must be from 1 to 86400")] // was: a 500
    [InlineData("Upstream:MaxImageBytes", "0", "Upstream:MaxImageBytes must be above 0")]
    [InlineData("Upstream:PollMinSeconds", "0", "Upstream: PollMinSeconds must be above 0")] // was: no wait between checks, ever (0 grows to 0)
    [InlineData("Providers:Geminigen:Auth", "bogus", "Providers:Geminigen:Auth must be one of: auto, apikey, bearer")] // was taken as auto
    [InlineData("Generation:OfflineRenderer", "", "Generation:OfflineRenderer is set but empty")] // was: off, even in Development
    [InlineData("Auth:GenerateLocalAdminKey", "", "Auth:GenerateLocalAdminKey is set but empty")]
    public void A_bad_setting_fails_the_checks_the_host_runs_when_it_starts(string key, string value, string message)
    {
        var error = Assert.ThrowsAny<Exception>(() => Validate(key, value));

        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData("")] // Core Tools sets an empty local setting as an empty variable: unset
    [InlineData("  ")]
    [InlineData("http://localhost:7071")]
    [InlineData("https://images.example.com/base/")]
    public void A_public_base_url_that_is_blank_or_an_http_or_https_base_passes_the_checks(string value)
    {
        Validate("Api:PublicBaseUrl", value);
    }

    [Theory]
    [InlineData("Upstream:DeadlineSeconds", "1")]
    [InlineData("Upstream:DeadlineSeconds", "86400")]
    [InlineData("Upstream:AttemptTimeoutSeconds", "0.01")]
    [InlineData("Upstream:AttemptTimeoutSeconds", "86400")]
    [InlineData("Upstream:BreakSeconds", "0.1")] // counts as 0.5
    [InlineData("Api:BodySilenceSeconds", "1")]
    public void Upstream_and_api_bounds_at_their_limits_pass_the_checks(string key, string value)
    {
        Validate(key, value);
    }

    [Theory]
    [InlineData("Providers:OpenAI:BaseUrl", "http://127.0.0.1:8787/v1")]
    [InlineData("Providers:OpenAI:BaseUrl", "https://api.openai.com/v1/")]
    [InlineData("Providers:Geminigen:Auth", "Bearer")]
    [InlineData("Providers:Geminigen:Auth", " apikey ")]
    [InlineData("Providers:Geminigen:Auth", "")] // Core Tools and Azure pass a setting left empty as empty: the default
    [InlineData("Providers:Geminigen:WebBaseUrl", "")]
    [InlineData("Providers:SiliconFlow:BaseUrl", "  ")]
    public void Provider_settings_of_the_right_form_or_blank_pass_the_checks(string key, string value)
    {
        Validate(key, value);
    }

    [Fact]
    public void A_blank_provider_setting_is_its_default_and_a_value_is_read_trimmed()
    {
        using var services = Services(("Providers:OpenAI:BaseUrl", ""), ("Providers:Geminigen:Auth", " Bearer "));

        var options = services.GetRequiredService<IOptions<Functions.Generation.Providers.ProviderOptions>>().Value;

        Assert.Equal(("https://api.openai.com/v1", "Bearer"), (options.OpenAI.BaseUrl, options.Geminigen.Auth));
    }

    // What Host.StartAsync runs first, for every ValidateOnStart.
    static void Validate(string key, string value)
    {
        using var services = Services((key, value));
        services.GetRequiredService<IStartupValidator>().Validate();
    }

    static ServiceProvider Services(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(
            [KeyValuePair.Create("AzureWebJobsStorage", (string?)"UseDevelopmentStorage=true"), .. settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))]).Build();
        return new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration).AddImageService(configuration).BuildServiceProvider();
    }
}
