using System.Globalization;
using System.Text.Json;

namespace Functions.Storage;

/// <summary>
/// A Table row: keys, ETag and typed properties (string, bool, int, long, double, DateTimeOffset).
/// Serialized as OData JSON with the type annotations Table storage needs for Int64 and DateTime.
/// </summary>
public sealed class TableEntity(string partitionKey, string rowKey)
{
    public string PartitionKey { get; } = partitionKey;
    public string RowKey { get; } = rowKey;
    public string? ETag { get; set; }
    public Dictionary<string, object?> Properties { get; } = new(StringComparer.Ordinal);

    public object? this[string name]
    {
        get => Properties.GetValueOrDefault(name);
        set => Properties[name] = value;
    }

    public string? GetString(string name) => this[name] as string;
    public bool GetBool(string name) => this[name] is true;
    public long? GetInt64(string name) => this[name] switch
    {
        long l => l,
        int i => i,
        double d when d == Math.Floor(d) && Math.Abs(d) < 1e15 => (long)d,
        _ => null,
    };
    public double? GetDouble(string name) => this[name] switch { double d => d, int i => i, long l => l, _ => null };
    public DateTimeOffset? GetDateTime(string name) => this[name] as DateTimeOffset?;

    internal void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("PartitionKey", PartitionKey);
        writer.WriteString("RowKey", RowKey);
        foreach (var (name, value) in Properties)
        {
            switch (value)
            {
                case null: break; // an absent property is how Table storage stores null
                case string s: writer.WriteString(name, s); break;
                case bool b: writer.WriteBoolean(name, b); break;
                case int i:
                    writer.WriteNumber(name, i);
                    writer.WriteString(name + "@odata.type", "Edm.Int32"); // unannotated, the emulator stores a Double
                    break;
                case long l:
                    writer.WriteString(name, l.ToString(CultureInfo.InvariantCulture));
                    writer.WriteString(name + "@odata.type", "Edm.Int64");
                    break;
                case double d: writer.WriteNumber(name, d); break;
                case DateTimeOffset t:
                    writer.WriteString(name, t.UtcDateTime.ToString("o", CultureInfo.InvariantCulture));
                    writer.WriteString(name + "@odata.type", "Edm.DateTime");
                    break;
                default: throw new NotSupportedException($"Table property '{name}' has unsupported type {value.GetType().Name}.");
            }
        }
        writer.WriteEndObject();
    }

    internal static TableEntity ReadJson(JsonElement element)
    {
        var entity = new TableEntity(
            element.TryGetProperty("PartitionKey", out var pk) ? pk.GetString()! : "",
            element.TryGetProperty("RowKey", out var rk) ? rk.GetString()! : "");
        foreach (var property in element.EnumerateObject())
        {
            var name = property.Name;
            if (name is "PartitionKey" or "RowKey" || name.Contains('@')) continue;
            if (name == "odata.etag") { entity.ETag = property.Value.GetString(); continue; }
            if (name.StartsWith("odata.", StringComparison.Ordinal)) continue;

            var type = element.TryGetProperty(name + "@odata.type", out var annotation) ? annotation.GetString() : null;
            entity.Properties[name] = ValueOf(property.Value, name == "Timestamp" ? "Edm.DateTime" : type);
        }
        return entity;
    }

    static object? ValueOf(JsonElement value, string? edmType) => (value.ValueKind, edmType) switch
    {
        (JsonValueKind.String, "Edm.Int64") => long.Parse(value.GetString()!, CultureInfo.InvariantCulture),
        (JsonValueKind.String, "Edm.DateTime") => DateTimeOffset.Parse(value.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
        (JsonValueKind.String, _) => value.GetString(),
        (JsonValueKind.True or JsonValueKind.False, _) => value.GetBoolean(),
        (JsonValueKind.Number, "Edm.Double") => value.GetDouble(),
        (JsonValueKind.Number, _) => value.TryGetInt32(out var i) ? i : value.GetDouble(),
        _ => null,
    };
}
