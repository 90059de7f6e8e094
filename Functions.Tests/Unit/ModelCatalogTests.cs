using System.Reflection;
using Functions.Generation;
using Functions.Tests.Providers;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Configuration;

namespace Functions.Tests.Unit;

public sealed class ModelCatalogTests
{
    [Fact]
    public void Every_shipped_siliconflow_model_names_its_steps_and_guidance()
    {
        var catalog = ShippedCatalog.Load();

        var siliconFlow = catalog.Names.Select(catalog.Find).Where(e => e!.Provider == "siliconflow").ToList();
        Assert.NotEmpty(siliconFlow);
        Assert.All(siliconFlow, e => Assert.True(e!.InferenceSteps is >= 1 and <= 100 && e.GuidanceScale is >= 0 and <= 20));
    }

    [Fact]
    public void A_chain_names_each_model_once_when_the_fallbacks_repeat_one_or_name_the_model_itself()
    {
        var models = new Dictionary<string, ModelEntry>
        {
            ["a"] = new() { Provider = "openai", Fallbacks = ["b", "a", "b"] }, ["b"] = new() { Provider = "openai" },
        };

        Assert.Equal(["a", "b"], new ModelCatalog(Options.Create(models)).ChainOf("a"));
    }

    [Theory]
    [InlineData(0, 7.5)]
    [InlineData(101, 7.5)]
    [InlineData(20, -1)]
    [InlineData(20, 21)]
    public void Steps_or_guidance_out_of_siliconflows_range_stop_the_app_at_startup(int steps, double guidance)
    {
        var models = new Dictionary<string, ModelEntry> { ["sf"] = new() { Provider = "siliconflow", InferenceSteps = steps, GuidanceScale = guidance } };

        var error = Assert.Throws<InvalidOperationException>(() => new ModelCatalog(Options.Create(models)));
        Assert.StartsWith("Models:sf:", error.Message);
    }

    [Fact]
    public void A_shape_the_mapping_cannot_read_is_named_at_start_not_a_500_at_the_first_request()
    {
        var models = new Dictionary<string, ModelEntry> { ["mine"] = new() { Provider = "openai", Shapes = ["1024x1024", "1024x1O24"] } };

        Assert.Equal("Models:mine:Shapes has '1024x1O24', which is not a ratio (3:4), a size (768x1024) or landscape, portrait or square.",
            ModelCatalog.ProblemOf(models));
    }

    [Fact]
    public void A_provider_name_with_a_typo_is_named_as_the_problem_not_taken_for_the_offline_renderer()
    {
        var models = new Dictionary<string, ModelEntry> { ["mine"] = new() { Provider = "openAI" } };

        Assert.Equal("Models:mine:Provider is 'openAI'; it must be one of geminigen, siliconflow, openai.", ModelCatalog.ProblemOf(models));
        Assert.True(new ModelCatalog.Validation(new ConfigurationBuilder().Build()).Validate(null, models).Failed);
    }

    [Fact]
    public void An_openai_model_said_to_take_a_reference_is_named_at_start_as_it_would_drop_the_reference()
    {
        var models = new Dictionary<string, ModelEntry> { ["mine"] = new() { Provider = "openai", TakesReference = true } };

        Assert.Equal("Models:mine:TakesReference is true, but the openai provider sends no reference image (it calls /images/generations only).",
            ModelCatalog.ProblemOf(models));
    }

    [Theory]
    [InlineData("Models:gpt-image-1:InferenceSteps", "5",
        "Models:gpt-image-1:InferenceSteps is 5, but the openai provider sends no num_inference_steps (only siliconflow does).")]
    [InlineData("Models:gpt-image-1:GuidanceScale", "3",
        "Models:gpt-image-1:GuidanceScale is 3, but the openai provider sends no guidance_scale (only siliconflow does).")]
    [InlineData("Models:grok:GuidanceScale", "7.5", "Models:grok:GuidanceScale is 7.5, but the geminigen provider sends no guidance_scale (only siliconflow does).")]
    [InlineData("Models:grok:ResponseFormat", "b64_json",
        "Models:grok:ResponseFormat is 'b64_json', but the geminigen provider sends no response_format (only openai does).")]
    [InlineData("Models:Qwen/Qwen-Image:ResponseFormat", "url",
        "Models:Qwen/Qwen-Image:ResponseFormat is 'url', but the siliconflow provider sends no response_format (only openai does).")]
    public void A_field_only_another_provider_sends_stops_the_app_at_startup_rather_than_being_dropped(string key, string value, string problem)
    {
        var error = Assert.Throws<InvalidOperationException>(() => ShippedCatalog.Load((key, value)));

        Assert.Equal(problem, error.Message);
    }

    [Theory]
    [InlineData("../admin")] // would leave the provider's base path
    [InlineData("imagen/../../x")]
    [InlineData("imagen/./grok")]
    [InlineData("imagen//grok")]
    [InlineData("generate_image?debug=1")] // a query or a fragment is no part of a path
    [InlineData("generate_image#x")]
    [InlineData("imagen%2Fgrok")]
    [InlineData("https://elsewhere.example/generate")]
    public void An_endpoint_that_is_not_a_plain_path_under_the_base_url_stops_the_app_at_startup(string endpoint)
    {
        var error = Assert.Throws<InvalidOperationException>(() => ShippedCatalog.Load(("Models:grok:Endpoint", endpoint)));

        Assert.StartsWith($"Models:grok:Endpoint is '{endpoint}'; it must be a path under the provider's base URL", error.Message);
    }

    [Theory]
    [InlineData("/imagen/grok/")] // the slashes around it are dropped, as they always were
    [InlineData("v1.2/images~beta/generate-image_x")]
    public void An_endpoint_of_plain_segments_is_taken(string endpoint)
    {
        Assert.Equal(endpoint, ShippedCatalog.Load(("Models:grok:Endpoint", endpoint)).Find("grok")!.Endpoint);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void A_blank_endpoint_or_response_format_is_the_default_and_refused_on_no_provider(string blank)
    {
        var grok = ShippedCatalog.Load(("Models:grok:Endpoint", blank), ("Models:grok:ResponseFormat", blank)).Find("grok")!;

        Assert.Equal((null, null), (grok.Endpoint, grok.ResponseFormat));
    }

    [Fact]
    public void Every_shipped_model_has_a_row_in_the_end_to_end_test()
    {
        var test = typeof(ModelEndToEndTests).GetMethod(nameof(ModelEndToEndTests.Every_model_generates_through_its_upstream_protocol))!;
        var rows = test.GetCustomAttributes<InlineDataAttribute>().SelectMany(a => a.GetData(test)).Select(row => (string)row[0]);

        Assert.Empty(ShippedCatalog.Load().Names.Except(rows));
    }

    [Fact]
    public void READMEs_catalog_table_lists_exactly_the_shipped_models()
    {
        // The table's rows, from its header to the first line that is no row; each begins with the model's name in backticks.
        var rows = File.ReadLines(Path.Combine(RepositoryRoot.Path, "README.md"))
            .SkipWhile(line => !line.StartsWith("| model | provider, endpoint |", StringComparison.Ordinal)).Skip(2)
            .TakeWhile(line => line.StartsWith('|'));

        Assert.Equal(ShippedCatalog.Load().Names, rows.Select(row => row.Split('|')[1].Trim().Trim('`')).Order(StringComparer.Ordinal));
    }
}
