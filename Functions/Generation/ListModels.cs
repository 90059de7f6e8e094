using System.Text.Json.Serialization;

namespace Functions.Generation;

public sealed record ModelInfo(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy,
    [property: JsonPropertyName("takes_reference")] bool TakesReference,
    [property: JsonPropertyName("resolutions")] IReadOnlyList<string> Resolutions,
    [property: JsonPropertyName("fallbacks")] IReadOnlyList<string> Fallbacks);

public sealed record ModelList(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<ModelInfo> Data);

public sealed class ListModels(ModelCatalog catalog)
{
    /// <summary>The model catalog in OpenAI's list shape; owned_by is the provider that makes the model.</summary>
    [Function(nameof(ListModels))]
    public JsonHttpResult<ModelList> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = Routes.Models)] HttpRequest request) =>
        TypedResults.Json(new ModelList("list", [.. catalog.Names.Select(name => Info(name, catalog.Find(name)!))]), AppJsonContext.Api.ModelList);

    static ModelInfo Info(string name, ModelEntry entry) =>
        new(name, "model", 0, entry.Provider, entry.TakesReference, entry.Resolutions, entry.Fallbacks);
}
