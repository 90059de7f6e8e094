using System.Net.Sockets;

namespace Functions.Tests.Infrastructure;

static class FreePort
{
    static readonly HashSet<int> Given = [];

    /// <summary>A loopback port free now and never handed out before in this process, so two fixtures never share one.</summary>
    public static int Next()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (Given)
                if (Given.Add(port)) return port;
        }
    }

    /// <summary>True once something listens on the port; false as soon as <paramref name="alive"/> says the listener died, or at the timeout.</summary>
    public static async Task<bool> WaitUntilListeningAsync(int port, TimeSpan timeout, Func<bool>? alive = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                if (DateTime.UtcNow >= deadline || alive is not null && !alive()) return false;
                await Task.Delay(50);
            }
        }
    }
}
