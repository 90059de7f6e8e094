using System.Buffers;
using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Functions.Hosting;

namespace Functions.Generation.Providers;

/// <summary>
/// The images upstreams answer with, checked by <see cref="ImageInspector"/>: one fetched by URL, at once (SiliconFlow's
/// expire within the hour): http or https only, never to a loopback or private address (checked at connect time, so
/// DNS cannot be used to sneak one in) unless a setting allows it, within a size cap and a time bound, and only if the
/// bytes are an image of the type they claim; or one sent as Base64. Every refusal is a retryable
/// <see cref="GenerationFailedException"/>: another model may do better. The image is paid for, so its check waits for
/// the decode budget as long as the caller does (<see cref="DecodeWait.AsLongAsCaller"/>): a busy budget is no refusal.
/// </summary>
public sealed class UpstreamImages : IDisposable
{
    readonly UpstreamOptions _options;
    readonly ImageInspector _inspector;
    readonly HttpClient _http;

    public UpstreamImages(IOptions<UpstreamOptions> options, ImageInspector inspector)
    {
        _options = options.Value;
        _inspector = inspector;
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = ConnectAsync, UseProxy = false, MaxAutomaticRedirections = 3,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        }) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public async Task<(byte[] Bytes, ImageInfo Info)> DownloadAsync(string url, CancellationToken cancellationToken)
    {
        // Named by its scheme alone: in a string that is no URL, a password may sit where no redaction finds it.
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw Refused($"the image URL ({(uri is null ? "no scheme .NET reads" : Echo.Quote(uri.Scheme, 16))}) is not an http or https URL");

        var (bytes, declared) = await FetchAsync(uri, cancellationToken);
        // Past the download's time bound: waiting for the decode budget is not the upstream being slow.
        var check = await _inspector.InspectAsync(bytes, ImageFormats.FromUpstream, DecodeWait.AsLongAsCaller, cancellationToken);
        var detected = check.Image ?? throw Refused($"the bytes at the image URL are no usable image ({check.Message.TrimEnd('.')})");
        if (declared is not null && declared.StartsWith("image/", StringComparison.Ordinal) && declared != detected.ContentType)
            throw Refused($"the image URL says {declared} but sent {detected.ContentType}");
        return (bytes, detected);
    }

    /// <summary>Decodes an image answered in Base64 and checks that it is one, within the size cap.</summary>
    public async Task<(byte[] Bytes, ImageInfo Info)> FromBase64Async(string provider, JsonValue base64, CancellationToken cancellationToken)
    {
        // Decoded from the answer's own UTF-8 when it has no escapes (a PHP upstream's "\/" has): as a .NET string a
        // 60 MB answer's image took 120 MB more.
        var bytes = JsonText.TryGetUnescapedUtf8(base64, out var utf8) ? Decode(provider, utf8)
            : base64.TryGetValue<string>(out var text) ? Decode(provider, Encoding.UTF8.GetBytes(text))
            : throw UpstreamFailures.Malformed(provider, "an image that is not a Base64 string");
        var check = await _inspector.InspectAsync(bytes, ImageFormats.FromUpstream, DecodeWait.AsLongAsCaller, cancellationToken);
        return check.Image is { } info ? (bytes, info)
            : throw new GenerationFailedException(GenerationErrors.InvalidUpstreamImage, $"{provider}'s Base64 image was refused: {check.Message}", retryable: true);
    }

    byte[] Decode(string provider, ReadOnlySpan<byte> base64)
    {
        // Before decoding, by the length (padding makes it up to 2 bytes more than the image); after, exactly, as a download's cap.
        if ((long)base64.Length / 4 * 3 > _options.MaxImageBytes + 2) throw TooLargeFrom(provider);
        var bytes = new byte[base64.Length / 4 * 3 + 3];
        if (Base64.DecodeFromUtf8(base64, bytes, out _, out var written) != OperationStatus.Done)
            throw UpstreamFailures.Malformed(provider, "an image that is not valid Base64");
        if (written > _options.MaxImageBytes) throw TooLargeFrom(provider);
        return bytes[..written];
    }

    GenerationFailedException TooLargeFrom(string provider) =>
        new(GenerationErrors.InvalidUpstreamImage, $"{provider}'s image is larger than {_options.MaxImageBytes} bytes.", retryable: true);

    /// <summary>The bytes at the URL, within the size cap and the attempt's time bound, and the media type the answer declares.</summary>
    async Task<(byte[] Bytes, string? Declared)> FetchAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.AttemptTimeoutSeconds));
        try
        {
            using var response = await _http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode) throw Refused($"the image URL answered {(int)response.StatusCode}");
            var bytes = await CappedBody.ReadAsync(response.Content, _options.MaxImageBytes, TooLarge, timeout.Token);
            return (bytes, response.Content.Headers.ContentType?.MediaType is { } mediaType ? ImageFormats.Normalize(mediaType) : null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new GenerationFailedException(GenerationErrors.UpstreamTimeout,
                $"The image did not download within {_options.AttemptTimeoutSeconds:0.#} s.", retryable: true);
        }
        catch (HttpRequestException e)
        {
            throw Refused(e.InnerException is PrivateAddressException refused ? refused.Message : $"the image could not be fetched ({UpstreamHttp.Describe(e)})");
        }
        catch (IOException)
        {
            throw Refused("the image's download broke off before its end"); // a connection reset, or fewer bytes than announced
        }
        catch (UriFormatException)
        {
            throw Refused("the image URL redirected to no http or https URL"); // a Location the redirect handler cannot follow
        }
    }

    async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        if (!_options.AllowPrivateAddresses) addresses = [.. addresses.Where(a => !IsPrivate(a))];
        if (addresses.Length == 0) throw new PrivateAddressException($"the image URL's host {host} is a loopback or private address");

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Any address that is not a public unicast one: loopback, private, link-local, shared (CGNAT), documentation,
    /// benchmarking, reserved, multicast, discard-only, IETF protocol assignments (Teredo among them), Azure's platform address; an IPv4 address carried inside IPv6 (mapped, compatible, NAT64, 6to4) is judged as itself.
    /// </summary>
    public static bool IsPrivate(IPAddress address)
    {
        var judged = EmbeddedIPv4(address) ?? address;
        return NotPublic.Any(network => network.Contains(judged));
    }

    static readonly IPNetwork[] NotPublic = [.. new[]
    {
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
        "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3",
        "168.63.129.16/32",
        "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "3fff::/20",
    }.Select(IPNetwork.Parse)];

    static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96"), Compatible = IPNetwork.Parse("::/96"), SixToFour = IPNetwork.Parse("2002::/16");

    static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return null;
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4();
        var bytes = address.GetAddressBytes();
        // :: and ::1 are in the compatible range, and come out as 0.0.0.0 and 0.0.0.1: not public either.
        if (Nat64.Contains(address) || Compatible.Contains(address)) return new IPAddress(bytes.AsSpan(12, 4));
        return SixToFour.Contains(address) ? new IPAddress(bytes.AsSpan(2, 4)) : null;
    }

    GenerationFailedException TooLarge() =>
        Refused($"the image is larger than {_options.MaxImageBytes} bytes (Upstream:MaxImageBytes)");

    static GenerationFailedException Refused(string reason) =>
        new(GenerationErrors.InvalidUpstreamImage, $"The upstream's image was refused: {reason}.", retryable: true);

    public void Dispose() => _http.Dispose();

    sealed class PrivateAddressException(string message) : IOException(message);
}
