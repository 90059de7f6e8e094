using Microsoft.Extensions.Options;

namespace Functions.Tests.Host;

/// <summary>Settings the app cannot work with stop it when it starts, naming the setting, instead of failing requests later.</summary>
public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("Models:mine:Provider", "openAI", "Models:mine:Provider is 'openAI'")]
    [InlineData("Upstream:MaxRetryDelaySeconds", "0.5", "RetryBaseDelaySeconds must be 0 or more and at most MaxRetryDelaySeconds")]
    public void A_bad_setting_stops_the_host_at_start(string key, string value, string message)
    {
        using var app = new AppFactory("UseDevelopmentStorage=true", new Dictionary<string, string?> { [key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => app.CreateClient());

        Assert.Contains(message, error.Message);
    }
}
