using System.Text.Json.Nodes;
using Functions.Contracts.Kiapi;

namespace Functions.Files;

public static class KiapiFiles
{
    /// <summary>A stored file in the kiapi FileRecord shape; width and height are numbers, other metadata strings.</summary>
    public static KiapiFile ToKiapi(this StoredFile file)
    {
        var meta = new JsonObject();
        foreach (var (key, value) in file.Meta)
            meta[key] = key is FileStore.WidthKey or FileStore.HeightKey && int.TryParse(value, out var pixels) ? pixels : value;
        return new KiapiFile(file.FileId, file.Filename, file.ContentType, file.Size, file.CreatedAt.ToUnixTimeMilliseconds() / 1000.0, meta);
    }
}
