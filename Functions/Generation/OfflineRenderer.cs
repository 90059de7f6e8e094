using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using SkiaSharp;

namespace Functions.Generation;

/// <summary>
/// The built-in provider: draws with SkiaSharp a gradient with soft discs in a palette chosen by the style, and encodes
/// it (PNG), the same bytes every time for the same prompt, style, model, seed, size and reference. No network, no key.
/// </summary>
public sealed class OfflineRenderer : IImageProvider
{
    public const string ProviderName = "offline";

    public string Name => ProviderName;

    // Rendering is CPU-bound: more renders at once than cores only add pixel buffers in memory, not speed.
    static readonly SemaphoreSlim Renders = new(Environment.ProcessorCount, Environment.ProcessorCount);

    public async Task<ProviderStep> SubmitAsync(ProviderCall call, CancellationToken cancellationToken)
    {
        await Renders.WaitAsync(cancellationToken);
        try
        {
            return ProviderStep.Done(Render(call.Input));
        }
        finally
        {
            Renders.Release();
        }
    }

    /// <summary>Renders the request; PNG unless another type the encoder knows is asked for.</summary>
    public static GeneratedImage Render(ProviderRequest request, string contentType = ImageFormats.Png)
    {
        var started = Stopwatch.GetTimestamp();
        var r = request.Request;
        var seed = r.Seed ?? (long)(SeedOf(r, request.ReferenceImage) % ((ulong)uint.MaxValue + 1)); // in the range a client may send back
        var (width, height) = (request.Size.Width, request.Size.Height);

        var encoded = Render(width, height, r.Style, (ulong)seed, contentType);

        var body = new JsonObject
        {
            ["prompt"] = r.Prompt, ["style"] = r.Style, ["aspectRatio"] = r.AspectRatio, ["model"] = r.Model,
            ["resolution"] = r.Resolution, ["seed"] = seed, ["width"] = width, ["height"] = height,
        };
        if (request.ReferenceImage is { } reference) body["referenceImage"] = ApiDebugRedaction.Base64Note(reference.Length);
        var debug = ApiDebugRedaction.Create(
            $"offline://renderer/{Uri.EscapeDataString(r.Model)}", "POST", [], body, 200,
            new JsonObject { ["contentType"] = contentType, ["bytes"] = encoded.Length, ["width"] = width, ["height"] = height },
            Stopwatch.GetElapsedTime(started));
        return new GeneratedImage(encoded, contentType, width, height, debug);
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

    static byte[] Render(int width, int height, string style, ulong seed, string contentType)
    {
        var random = new SplitMix64(seed);
        var palette = PaletteOf(style, random);
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque))
            ?? throw new InvalidOperationException($"SkiaSharp could not make a {width} x {height} surface.");
        var canvas = surface.Canvas;

        // Background: a linear gradient at a seeded angle, across the whole picture.
        var angle = random.NextDouble() * Math.PI * 2;
        var (dx, dy) = (Math.Cos(angle), Math.Sin(angle));
        var span = Math.Abs(dx) * width + Math.Abs(dy) * height;
        var offset = Math.Min(0, dx * width) + Math.Min(0, dy * height);
        using (var gradient = SKShader.CreateLinearGradient(new SKPoint((float)(dx * offset), (float)(dy * offset)),
                   new SKPoint((float)(dx * (offset + span)), (float)(dy * (offset + span))), [palette[0], palette[1]], SKShaderTileMode.Clamp))
        using (var background = new SKPaint { Shader = gradient })
            canvas.DrawPaint(background);

        // Soft discs in the palette's accents, fading out from the centre. No anti-aliasing: the rim is transparent anyway.
        var longSide = Math.Max(width, height);
        var count = 6 + (int)(random.Next() % 8);
        using var disc = new SKPaint();
        for (var n = 0; n < count; n++)
        {
            var color = palette[2 + (int)(random.Next() % (ulong)(palette.Length - 2))];
            var center = new SKPoint((float)(random.NextDouble() * width), (float)(random.NextDouble() * height));
            var radius = (float)(longSide * (0.05 + random.NextDouble() * 0.25));
            var opacity = 0.35 + random.NextDouble() * 0.5;
            using var shader = SKShader.CreateRadialGradient(center, radius,
                [.. FalloffStops.Select(d => color.WithAlpha((byte)Math.Round(255 * (1 - d) * (1 - d) * opacity)))], FalloffStops, SKShaderTileMode.Clamp);
            disc.Shader = shader;
            canvas.DrawCircle(center, radius, disc);
        }

        using var pixels = surface.PeekPixels();
        if (style is "cartoon" or "sketch") Posterize(pixels.GetPixelSpan(), grayscale: style == "sketch");
        return ImageEncoder.Encode(pixels, contentType);
    }

    /// <summary>Where a disc's opacity is sampled: (1 - d)^2 from the centre (d = 0) to the rim (d = 1).</summary>
    static readonly float[] FalloffStops = [0, 0.125f, 0.25f, 0.375f, 0.5f, 0.625f, 0.75f, 0.875f, 1];

    /// <summary>
    /// Six levels per channel (cartoon), in grey for sketch, over the drawn RGBA pixels: one pass in place costs a tenth
    /// of a colour-filtered layer in SkiaSharp's raster pipeline.
    /// </summary>
    static void Posterize(Span<byte> rgba, bool grayscale)
    {
        for (var i = 0; i < rgba.Length; i += 4)
        {
            if (grayscale) rgba[i] = rgba[i + 1] = rgba[i + 2] = (byte)(0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2]);
            for (var c = 0; c < 3; c++) rgba[i + c] = (byte)(rgba[i + c] / 51 * 51);
        }
    }

    // Background pair first, then accents; the seed shifts every channel a little so that prompts differ.
    static SKColor[] PaletteOf(string style, SplitMix64 random)
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
        return [.. basePalette.Select(rgb =>
        {
            var c = rgb.Select(v => (byte)Math.Clamp(v + (int)(random.Next() % 41) - 20, 0, 255)).ToArray();
            return new SKColor(c[0], c[1], c[2]);
        })];
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
