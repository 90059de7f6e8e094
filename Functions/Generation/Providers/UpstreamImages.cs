using System.Net;
using System.Net.Sockets;

namespace Functions.Generation.Providers;

/// <summary>
/// Fetches an image an upstream answered with by URL, at once (SiliconFlow's expire within the hour): http or https
/// only, never to a loopback or private address (checked at connect time, so DNS cannot be used to sneak one in)
/// unless a setting allows it, within a size cap and a time bound, and only if the bytes are an image of the type
/// they claim. Every refusal is a retryable <see cref="GenerationFailedException"/>: another model may do better.
/// </summary>
public sealed class UpstreamImages : IDisposable
{
    readonly UpstreamOptions _options;
    readonly HttpClient _http;

    public UpstreamImages(IOptions<UpstreamOptions> options)
    {
        _options = options.Value;
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = ConnectAsync, UseProxy = false, MaxAutomaticRedirections = 3,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        }) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public async Task<(byte[] Bytes, ImageInfo Info)> DownloadAsync(string url, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw Refused($"the image URL '{Echo.Of(url)}' is not an http or https URL");

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.AttemptTimeoutSeconds));
        try
        {
            using var response = await _http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode) throw Refused($"the image URL answered {(int)response.StatusCode}");
            var bytes = await CappedBody.ReadAsync(response.Content, _options.MaxImageBytes, TooLarge, timeout.Token);
            var check = ImageInspector.Inspect(bytes, ImageFormats.FromUpstream);
            var detected = check.Image ?? throw Refused($"the bytes at the image URL are no usable image ({check.Message.TrimEnd('.')})");
            var declared = response.Content.Headers.ContentType?.MediaType is { } mediaType ? ImageFormats.Normalize(mediaType) : null;
            if (declared is not null && declared.StartsWith("image/", StringComparison.Ordinal) && declared != detected.ContentType)
                throw Refused($"the image URL says {declared} but sent {detected.ContentType}");
            return (bytes, detected);
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

    /// <summary>Loopback, private (RFC 1918, unique local), link-local, carrier-grade NAT and unspecified addresses.</summary>
    public static bool IsPrivate(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) return true;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal;
        var b = address.GetAddressBytes();
        return b[0] is 10 or 0 || (b[0] == 172 && b[1] is >= 16 and <= 31) || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254) || (b[0] == 100 && b[1] is >= 64 and <= 127);
    }

    GenerationFailedException TooLarge() =>
        Refused($"the image is larger than {_options.MaxImageBytes} bytes (Upstream:MaxImageBytes)");

    static GenerationFailedException Refused(string reason) =>
        new(GenerationErrors.InvalidUpstreamImage, $"The upstream's image was refused: {reason}.", retryable: true);

    public void Dispose() => _http.Dispose();

    sealed class PrivateAddressException(string message) : IOException(message);
}
