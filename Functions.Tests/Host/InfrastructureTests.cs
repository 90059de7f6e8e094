using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Functions.Tests.Host;

/// <summary>
/// infra/main.bicep compiles and lints clean with the Bicep compiler (from NuGet: it checks every resource's properties
/// against its API version's types, offline), and the structure checks that a compiler cannot make: parameters,
/// runtime, identity-based app settings, the roles the Durable extension needs, hardening and the absence of keys,
/// read from the template's text.
/// </summary>
public sealed partial class InfrastructureTests
{
    static readonly string Template = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "infra", "main.bicep"));
    static readonly string Code = string.Join('\n', Template.Split('\n').Select(line => line.Split("//")[0])); // comments out

    [Theory]
    [InlineData("build", "--stdout")]
    [InlineData("lint")]
    public async Task The_template_compiles_and_lints_without_a_warning(params string[] command)
    {
        var bicep = typeof(InfrastructureTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepCli").Value!;
        var start = new ProcessStartInfo(bicep) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { command[0], Path.Combine(RepositoryRoot.Path, "infra", "main.bicep") }.Concat(command.Skip(1)))
            start.ArgumentList.Add(argument);
        start.Environment["BICEP_TRACING_ENABLED"] = "false";

        using var compiler = Process.Start(start)!;
        var (output, errors) = (compiler.StandardOutput.ReadToEndAsync(), compiler.StandardError.ReadToEndAsync());
        await compiler.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);

        Assert.True(compiler.ExitCode == 0, $"bicep {command[0]} exited {compiler.ExitCode}: {await errors}");
        Assert.Equal("", (await errors).Trim()); // warnings and lint findings go here
        if (command[0] == "build") Assert.Contains("\"Microsoft.Web/sites\"", await output);
    }

    [Fact]
    public void Every_parameter_is_used_and_the_parameters_file_sets_only_declared_ones()
    {
        var parameters = ParamDeclaration().Matches(Code).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(parameters);
        foreach (var name in parameters)
            Assert.True(Regex.Matches(Code, $@"\b{name}\b").Count >= 2, $"parameter {name} is declared but never used");

        using var file = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "infra", "main.parameters.json")));
        Assert.All(file.RootElement.GetProperty("parameters").EnumerateObject(), p => Assert.Contains(p.Name, parameters));
    }

    [Fact]
    public void The_template_and_the_sample_set_only_settings_the_app_or_its_platform_reads_and_storage_identity_based()
    {
        using var sample = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "local.settings.sample.json")));
        var settings = AppSettingNames();
        string[] platform = ["FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage", "APPLICATIONINSIGHTS_", "MALLOC_ARENA_MAX"];
        // Defaults live in the options classes alone: a setting here that binds to nothing would be a typo, or a copy gone stale.
        foreach (var key in settings.Concat(sample.RootElement.GetProperty("Values").EnumerateObject().Select(p => p.Name)))
            Assert.True(platform.Any(p => key.StartsWith(p, StringComparison.Ordinal)) || AppOptions.Binds(key), $"{key} sets nothing the app reads");
        Assert.Contains("Auth__AdminKey", settings);
        // Host storage, the Durable task hub and the app's clients: the account's name and the managed identity, nothing else.
        Assert.Equal(["AzureWebJobsStorage__accountName", "AzureWebJobsStorage__credential"],
            settings.Where(s => s.StartsWith("AzureWebJobsStorage", StringComparison.Ordinal)).Order());
        Assert.Contains("{ name: 'AzureWebJobsStorage__accountName', value: storage.name }", Code);
        Assert.Contains("{ name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }", Code);
    }

    [Fact]
    public void The_admin_key_goes_in_with_the_template_as_a_secure_parameter()
    {
        // A deployment rewrites every app setting: a key set outside the template would be lost on the next one.
        Assert.Matches(@"@secure\(\)\s*\nparam adminKey string = ''", Code);
        Assert.Contains("{ name: 'Auth__AdminKey', value: adminKey }", Code);
        var deploy = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "infra", "deploy.sh"));
        Assert.Contains("\"adminKey\":{\"value\"", deploy); // in a parameters file of its own, not on the command line
        Assert.DoesNotContain("adminKey=", deploy);
        Assert.DoesNotContain("appsettings set", deploy); // nothing set outside the template
    }

    [Fact]
    public void An_instance_has_room_for_the_image_checks_and_the_deployment_chooses_whether_deletes_need_the_admin_key()
    {
        // The image checks may hold 600 MB at the least decode budget (GenerationOptions): Flex's 512 MB instance is too small.
        Assert.Matches(@"@allowed\(\[2048, 4096\]\)\s*\nparam instanceMemoryMB int = 2048", Code);
        Assert.Matches(@"param imageDeleteNeedsAdminKey bool = false", Code); // the contracts' anonymous deletes, unless the deployment says otherwise
        Assert.Contains("{ name: 'Auth__ImageDeleteNeedsAdminKey', value: string(imageDeleteNeedsAdminKey) }", Code);
    }

    [Fact]
    public void Browser_pages_of_other_origins_are_allowed_only_as_the_deployment_lists_them()
    {
        var cors = BlockAfter(BlockAfter(Code, "siteConfig: {"), "cors: {");
        Assert.Contains("allowedOrigins: corsAllowedOrigins", cors);
        Assert.Contains("supportCredentials: corsSupportCredentials", cors);
        Assert.Matches(@"param corsAllowedOrigins array = \[\]", Code); // none by default, as the local host without Host:CORS
    }

    [Fact]
    public void The_local_sample_is_an_isolated_worker_app_on_the_storage_emulator()
    {
        using var sample = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "local.settings.sample.json")));
        var values = sample.RootElement.GetProperty("Values");
        Assert.Equal("dotnet-isolated", values.GetProperty("FUNCTIONS_WORKER_RUNTIME").GetString());
        Assert.Equal("UseDevelopmentStorage=true", values.GetProperty("AzureWebJobsStorage").GetString());
    }

    [Fact]
    public void The_runtime_is_dotnet_isolated_10_in_functionAppConfig_and_no_app_setting_Flex_deprecates()
    {
        var runtime = BlockAfter(BlockAfter(Code, "functionAppConfig: {"), "runtime: {");
        Assert.Matches(@"^\s*name: 'dotnet-isolated'\s+version: '10\.0'\s*$", runtime);
        // "Flex Consumption plan deprecations" (Functions app settings reference): the runtime and the package live elsewhere.
        foreach (var deprecated in new[] { "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_WORKER_RUNTIME_VERSION", "FUNCTIONS_EXTENSION_VERSION",
                     "WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_CONTENTSHARE", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "SCM_DO_BUILD_DURING_DEPLOYMENT" })
            Assert.DoesNotContain(deprecated, AppSettingNames());
        Assert.DoesNotContain("linuxFxVersion", Code, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("netFrameworkVersion", Code, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void No_setting_or_output_holds_a_key_or_a_connection_string_with_one()
    {
        foreach (var forbidden in new[] { "listKeys", "AccountKey", "SharedAccessSignature", "primaryKey", "secondaryKey", "listConnectionStrings", "listAccountSas" })
            Assert.DoesNotContain(forbidden, Code, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("'AzureWebJobsStorage'", Code);
        Assert.DoesNotContain("connectionStrings:", Code);
        Assert.Contains("allowSharedKeyAccess: false", BlockAfter(Code, "resource storage 'Microsoft.Storage/storageAccounts@"));
    }

    [Fact]
    public void The_app_identity_gets_the_three_storage_roles_Durable_needs_and_publishes_metrics()
    {
        var assignments = RoleAssignment().Matches(Code).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(4, assignments.Count);
        Assert.All(assignments, body => Assert.Contains("principalId: functionApp.identity.principalId", body));
        Assert.All(assignments, body => Assert.Contains("principalType: 'ServicePrincipal'", body));

        string ScopeOf(string roleVariable) => Assert.Single(assignments, a => a.Contains($"roleDefinitions', {roleVariable})")) is var body
            ? Regex.Match(body, @"scope: (\w+)").Groups[1].Value : "";
        Assert.Equal("storage", ScopeOf("storageBlobDataOwner"));
        Assert.Equal("storage", ScopeOf("storageQueueDataContributor"));
        Assert.Equal("storage", ScopeOf("storageTableDataContributor"));
        Assert.Equal("insights", ScopeOf("monitoringMetricsPublisher"));
        // The built-in role ids, as Azure defines them.
        Assert.Contains("var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'", Code);
        Assert.Contains("var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'", Code);
        Assert.Contains("var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'", Code);
        Assert.Contains("var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'", Code);
        // Why these three: the Durable docs, cited where the roles are assigned.
        Assert.Contains("Configure Durable Functions with managed identity", Template);
    }

    [Fact]
    public void Resources_are_plain_declarations_with_explicit_api_versions_and_the_required_hardening()
    {
        Assert.DoesNotContain("module ", Code);
        var resources = Regex.Matches(Code, @"^resource \w+ '([^']+)'", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        Assert.All(resources, type => Assert.Matches(@"^[\w./]+@\d{4}-\d{2}-\d{2}(-preview)?$", type));
        foreach (var type in new[] { "Microsoft.Web/serverfarms", "Microsoft.Web/sites", "Microsoft.Storage/storageAccounts",
                     "Microsoft.OperationalInsights/workspaces", "Microsoft.Insights/components" })
            Assert.Contains(resources, r => r.StartsWith(type + "@", StringComparison.Ordinal));

        foreach (var required in new[]
                 {
                     "name: 'FC1'", "tier: 'FlexConsumption'", "kind: 'functionapp,linux'", "identity: { type: 'SystemAssigned' }",
                     "name: 'dotnet-isolated'", "version: '10.0'", "allowSharedKeyAccess: false", "allowBlobPublicAccess: false",
                     "minimumTlsVersion: 'TLS1_2'", "DisableLocalAuth: true", "authentication: { type: 'SystemAssignedIdentity' }",
                     "name: deploymentContainer", "name: imagesContainer", "output functionAppUrl string", "output functionAppName string",
                 })
            Assert.Contains(required, Code);
        Assert.Contains("var imagesContainer = 'images'", Code);
        Assert.Equal("images", Functions.Storage.StorageNames.FilesContainer);
    }

    static List<string> AppSettingNames() => AppSetting().Matches(Code).Select(m => m.Groups[1].Value).ToList();

    /// <summary>The body of the first { } block that starts with <paramref name="header"/> (braces balanced).</summary>
    static string BlockAfter(string text, string header)
    {
        var start = text.IndexOf(header, StringComparison.Ordinal);
        Assert.True(start >= 0, $"'{header}' not found");
        var open = text.IndexOf('{', start);
        for (int i = open, depth = 0; i < text.Length; i++)
        {
            depth += text[i] switch { '{' => 1, '}' => -1, _ => 0 };
            if (depth == 0) return text[(open + 1)..i];
        }
        throw new InvalidOperationException($"'{header}' block is not closed");
    }

    [GeneratedRegex(@"^param (\w+) ", RegexOptions.Multiline)]
    private static partial Regex ParamDeclaration();

    [GeneratedRegex(@"\{ name: '([^']+)', value: ")]
    private static partial Regex AppSetting();

    [GeneratedRegex(@"^resource \w+ 'Microsoft\.Authorization/roleAssignments@[^']+' = \{(.*?)^\}", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex RoleAssignment();
}
