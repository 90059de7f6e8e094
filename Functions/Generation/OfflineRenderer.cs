using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Functions.Generation;

/// <summary>
/// The built-in provider: renders a real PNG (a gradient with soft shapes in a palette chosen by the style), the same
/// bytes every time for the same prompt, style, model, seed, size and reference. No network, no key.
/// </summary>
public sealed class OfflineRenderer : IImageProvider
{
    public const string ProviderName = "offline";

    public string Name => ProviderName;

    public Task<ProviderStep> SubmitAsync(ProviderCall call, CancellationToken cancellationToken) =>
        Task.FromResult(ProviderStep.Done(Render(call.Input)));

    public static GeneratedImage Render(ProviderRequest request)
    {
        var started = Stopwatch.GetTimestamp();
        var r = request.Request;
        var seed = r.Seed ?? (long)(SeedOf(r, request.ReferenceImage) % ((ulong)uint.MaxValue + 1)); // in the range a client may send back
        var (width, height) = (request.Size.Width, request.Size.Height);

        var pixels = Render(width, height, r.Style, (ulong)seed);
        var png = PngEncoder.EncodeRgb(pixels, width, height);

        var body = new JsonObject
        {
            ["prompt"] = r.Prompt, ["style"] = r.Style, ["aspectRatio"] = r.AspectRatio, ["model"] = r.Model,
            ["resolution"] = r.Resolution, ["seed"] = seed, ["width"] = width, ["height"] = height,
        };
        if (request.ReferenceImage is { } reference) body["referenceImage"] = $"<base64: {reference.Length} bytes>";
        var debug = ApiDebugRedaction.Create(
            $"offline://renderer/{Uri.EscapeDataString(r.Model)}", "POST", [], body, 200,
            new JsonObject { ["contentType"] = ImageFormats.Png, ["bytes"] = png.Length, ["width"] = width, ["height"] = height },
            Stopwatch.GetElapsedTime(started));
        return new GeneratedImage(png, ImageFormats.Png, width, height, debug);
    }

    static ulong SeedOf(GenerationRequest r, ReadOnlyMemory<byte>? reference)
    {
        var hash = Fnv1a(Encoding.UTF8.GetBytes($"{r.Prompt}\n{r.Style}\n{r.Model}"), 14695981039346656037UL);
        return reference is { } bytes ? Fnv1a(bytes.Span, hash) : hash;
    }

    static ulong Fnv1a(ReadOnlySpan<byte> data, ulong hash)
    {
        foreach (var b in data) hash = (hash ^ b) * 1099511628211UL;
        return hash;
    }

    static byte[] Render(int width, int height, string style, ulong seed)
    {
        var random = new SplitMix64(seed);
        var palette = PaletteOf(style, random);
        var pixels = new byte[width * height * 3];

        // Background: a linear gradient at a seeded angle.
        var angle = random.NextDouble() * Math.PI * 2;
        var (dx, dy) = (Math.Cos(angle), Math.Sin(angle));
        var span = Math.Abs(dx) * width + Math.Abs(dy) * height;
        var offset = Math.Min(0, dx * width) + Math.Min(0, dy * height);
        for (var y = 0; y < height; y++)
        {
            var row = y * width * 3;
            for (var x = 0; x < width; x++)
            {
                var t = (x * dx + y * dy - offset) / span;
                var i = row + x * 3;
                for (var c = 0; c < 3; c++) pixels[i + c] = (byte)(palette[0][c] + (palette[1][c] - palette[0][c]) * t);
            }
        }

        // Soft discs in the palette's accents.
        var longSide = Math.Max(width, height);
        var count = 6 + (int)(random.Next() % 8);
        for (var n = 0; n < count; n++)
        {
            var color = palette[2 + (int)(random.Next() % (ulong)(palette.Length - 2))];
            var (cx, cy) = (random.NextDouble() * width, random.NextDouble() * height);
            var radius = longSide * (0.05 + random.NextDouble() * 0.25);
            var opacity = 0.35 + random.NextDouble() * 0.5;
            Disc(pixels, width, height, cx, cy, radius, color, opacity);
        }

        if (style is "cartoon" or "sketch") Posterize(pixels, style == "sketch");
        return pixels;
    }

    static void Disc(byte[] pixels, int width, int height, double cx, double cy, double radius, byte[] color, double opacity)
    {
        var (x0, x1) = (Math.Max(0, (int)(cx - radius)), Math.Min(width - 1, (int)(cx + radius)));
        var (y0, y1) = (Math.Max(0, (int)(cy - radius)), Math.Min(height - 1, (int)(cy + radius)));
        var inverse = 1 / radius;
        for (var y = y0; y <= y1; y++)
        for (var x = x0; x <= x1; x++)
        {
            var d = Math.Sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy)) * inverse;
            if (d >= 1) continue;
            var a = (1 - d) * (1 - d) * opacity;
            var i = (y * width + x) * 3;
            for (var c = 0; c < 3; c++) pixels[i + c] = (byte)(pixels[i + c] + (color[c] - pixels[i + c]) * a);
        }
    }

    static void Posterize(byte[] pixels, bool grayscale)
    {
        for (var i = 0; i < pixels.Length; i += 3)
        {
            if (grayscale)
            {
                var gray = (byte)(0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2]);
                pixels[i] = pixels[i + 1] = pixels[i + 2] = gray;
            }
            for (var c = 0; c < 3; c++) pixels[i + c] = (byte)(pixels[i + c] / 51 * 51);
        }
    }

    // Background pair first, then accents; the seed shifts every channel a little so that prompts differ.
    static byte[][] PaletteOf(string style, SplitMix64 random)
    {
        int[][] basePalette = style switch
        {
            "realistic" => [[135, 180, 220], [225, 205, 170], [70, 110, 60], [240, 240, 230], [120, 90, 60]],
            "anime" => [[255, 190, 220], [150, 210, 255], [255, 120, 170], [120, 90, 220], [255, 250, 200]],
            "artistic" => [[40, 30, 60], [200, 80, 60], [240, 190, 70], [40, 150, 150], [230, 230, 210]],
            "cartoon" => [[100, 200, 255], [255, 240, 120], [255, 80, 80], [60, 120, 255], [80, 220, 100]],
            "sketch" => [[245, 242, 235], [200, 198, 190], [60, 60, 60], [120, 120, 120], [30, 30, 30]],
            "oil_painting" => [[90, 60, 35], [200, 150, 80], [110, 120, 50], [170, 70, 40], [230, 200, 140]],
            "watercolor" => [[245, 235, 250], [210, 235, 245], [160, 200, 230], [240, 170, 190], [190, 225, 180]],
            "digital_art" => [[10, 10, 40], [50, 20, 90], [255, 40, 200], [0, 240, 255], [250, 250, 120]],
            _ => [[200, 200, 205], [120, 125, 140], [60, 70, 90], [230, 230, 235], [160, 140, 120]],
        };
        return basePalette.Select(rgb => rgb.Select(v => (byte)Math.Clamp(v + (int)(random.Next() % 41) - 20, 0, 255)).ToArray()).ToArray();
    }

    sealed class SplitMix64(ulong state)
    {
        public ulong Next()
        {
            var z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));
    }
}
