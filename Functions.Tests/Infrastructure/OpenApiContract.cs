using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Functions.Tests.Infrastructure;

/// <summary>
/// An OpenAPI document from Functions.Tests/Contracts (copies of ../shared/specs) and a checker of JSON values against
/// its schemas: types, required and nullable fields (<c>nullable</c> in OpenAPI 3.0 only, <c>anyOf</c> with null), enums, formats
/// and numeric bounds. Enough of JSON Schema for the contracts this service speaks, not all of it.
/// </summary>
public sealed class OpenApiContract(JsonObject document)
{
    public static OpenApiContract Kioai { get; } = Load("kioai-api.openapi.yaml");
    public static OpenApiContract Kiapi { get; } = Load("kiapi-common.openapi.json");
    public static OpenApiContract SiliconFlow { get; } = Load("siliconflow-images.openapi.json");

    bool IsOpenApi30 => document["openapi"]?.GetValue<string>().StartsWith("3.0", StringComparison.Ordinal) == true;

    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "Contracts", file);

    static OpenApiContract Load(string file)
    {
        var text = File.ReadAllText(PathOf(file));
        if (file.EndsWith(".json", StringComparison.Ordinal)) return new OpenApiContract(JsonNode.Parse(text)!.AsObject());
        var yaml = new YamlStream();
        yaml.Load(new StringReader(text));
        return new OpenApiContract(ToJson(yaml.Documents[0].RootNode)!.AsObject());
    }

    /// <summary>A node of the document by JSON pointer ("/paths/~1images~1generations/post").</summary>
    public JsonNode At(string pointer) =>
        pointer.Split('/', StringSplitOptions.RemoveEmptyEntries).Aggregate((JsonNode)document,
            (node, part) => node[part.Replace("~1", "/").Replace("~0", "~")] ?? throw new KeyNotFoundException($"{pointer}: no '{part}'"));

    /// <summary>What is wrong with <paramref name="value"/> as a <c>components/schemas/{name}</c>; empty when nothing is.</summary>
    public IReadOnlyList<string> Check(JsonNode? value, string schemaName) => Check(value, At($"/components/schemas/{schemaName}"));

    public IReadOnlyList<string> Check(JsonNode? value, JsonNode schema, bool enums = true)
    {
        var problems = new List<string>();
        Check(value, schema, "$", problems, enums);
        return problems;
    }

    void Check(JsonNode? value, JsonNode schema, string path, List<string> problems, bool enums)
    {
        if (schema["$ref"]?.GetValue<string>() is { } reference)
        {
            Check(value, At(reference.TrimStart('#')), path, problems, enums);
            return;
        }
        if (schema["anyOf"] is JsonArray choices)
        {
            var results = choices.Select(choice => { var found = new List<string>(); Check(value, choice!, path, found, enums); return found; }).ToList();
            if (results.All(found => found.Count > 0)) problems.Add($"{path}: matches none of anyOf ({string.Join("; ", results.SelectMany(f => f))})");
            return;
        }

        var type = schema["type"]?.GetValue<string>();
        if (value is null)
        {
            // OpenAPI 3.1 is JSON Schema, which has no "nullable": there only a null type (or anyOf with one) admits null.
            if (type is not null && type != "null" && !(IsOpenApi30 && schema["nullable"]?.GetValue<bool>() == true))
                problems.Add($"{path}: null, but the contract types it {type} without nullable");
            return;
        }
        switch (type)
        {
            case "object":
                if (value is not JsonObject obj)
                {
                    problems.Add($"{path}: {value.GetValueKind()}, not an object");
                    return;
                }
                foreach (var name in (schema["required"] as JsonArray ?? []).Select(n => n!.GetValue<string>()).Where(n => !obj.ContainsKey(n)))
                    problems.Add($"{path}.{name}: required, absent");
                var properties = schema["properties"] as JsonObject;
                foreach (var (name, member) in obj)
                {
                    if (properties?[name] is { } declared) Check(member, declared, $"{path}.{name}", problems, enums);
                    else if (schema["additionalProperties"] is JsonObject others) Check(member, others, $"{path}.{name}", problems, enums);
                }
                return;
            case "array":
                if (value is not JsonArray array) problems.Add($"{path}: {value.GetValueKind()}, not an array");
                else if (schema["items"] is { } items)
                    for (var i = 0; i < array.Count; i++) Check(array[i], items, $"{path}[{i}]", problems, enums);
                return;
            case "string":
                if (value.GetValueKind() != System.Text.Json.JsonValueKind.String)
                {
                    problems.Add($"{path}: {value.GetValueKind()}, not a string");
                    return;
                }
                var text = value.GetValue<string>();
                if (schema["format"]?.GetValue<string>() == "date-time" && !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, out _))
                    problems.Add($"{path}: '{text}' is not a date-time");
                break;
            case "integer" or "number":
                if (value.GetValueKind() != System.Text.Json.JsonValueKind.Number)
                {
                    problems.Add($"{path}: {value.GetValueKind()}, not a number");
                    return;
                }
                var number = value.GetValue<double>();
                if (type == "integer" && number != Math.Floor(number)) problems.Add($"{path}: {number} is not an integer");
                if (schema["minimum"] is { } min && number < min.GetValue<double>()) problems.Add($"{path}: {number} is below the minimum {min}");
                if (schema["maximum"] is { } max && number > max.GetValue<double>()) problems.Add($"{path}: {number} is above the maximum {max}");
                if (schema["exclusiveMinimum"] is { } low && number <= low.GetValue<double>()) problems.Add($"{path}: {number} is not above {low}");
                break;
            case "boolean":
                if (value.GetValueKind() is not (System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False))
                    problems.Add($"{path}: {value.GetValueKind()}, not a boolean");
                break;
        }
        if (enums && schema["enum"] is JsonArray allowed && !allowed.Any(a => JsonNode.DeepEquals(a, value)))
            problems.Add($"{path}: {value.ToJsonString()} is not one of {allowed.ToJsonString()}");
    }

    // Plain YAML scalars become numbers and booleans where they read as such; quoted ones ("1:1") stay strings.
    static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(p => KeyValuePair.Create(((YamlScalarNode)p.Key).Value!, ToJson(p.Value)))),
        YamlSequenceNode sequence => new JsonArray([.. sequence.Children.Select(ToJson)]),
        YamlScalarNode { Style: ScalarStyle.Plain, Value: "true" or "false" } flag => JsonValue.Create(flag.Value == "true"),
        YamlScalarNode { Style: ScalarStyle.Plain, Value: "null" or "~" } => null,
        YamlScalarNode { Style: ScalarStyle.Plain } scalar when double.TryParse(scalar.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) =>
            JsonValue.Create(number),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => throw new NotSupportedException(node.GetType().Name),
    };
}
