using System.Net;
using System.Net.Sockets;
using Grpc.Net.Client;

namespace Functions.LocalHost;

/// <summary>
/// Where the Durable sidecar listens: a loopback port the system gives it when it binds (port 0), published here once
/// it listens. Channels connect to whatever port is published, so no port is chosen ahead and then taken by another
/// process before the sidecar binds it.
/// </summary>
public sealed class SidecarEndpoint
{
    volatile int _port; // 0 until the sidecar listens

    public static IPEndPoint Unbound => new(IPAddress.Loopback, 0);

    public void Listening(int port) => _port = port;

    /// <summary>A gRPC channel to the sidecar; <paramref name="outer"/>, if given, runs before every call.</summary>
    public GrpcChannel Channel(DelegatingHandler? outer = null)
    {
        var sockets = new SocketsHttpHandler { ConnectCallback = ConnectAsync };
        if (outer is not null) outer.InnerHandler = sockets;
        // The address is a placeholder: every connection goes to the published port.
        return GrpcChannel.ForAddress("http://127.0.0.1", new GrpcChannelOptions { HttpHandler = outer ?? (HttpMessageHandler)sockets });
    }

    async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var port = _port;
        // Before the sidecar listens, what a closed port answers (the worker retries; the client waits for readiness first).
        if (port == 0) throw new SocketException((int)SocketError.ConnectionRefused);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
