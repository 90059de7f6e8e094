using System.Net.Sockets;
using System.Text;

namespace Functions.Tests.Processes;

/// <summary>
/// Clients that send their body too slowly, reset the connection halfway or send a header empty, against the local
/// host's own Kestrel (an in-memory test server has neither a data rate nor a connection to reset, and drops a header
/// whose value is empty): a 408 or 400 in the surface's shape, and no server error in the log.
/// </summary>
[RunsLong]
public sealed class ClientMisbehaviourTests : IAsyncLifetime
{
    const int SilenceSeconds = 3; // longer than the byte-a-second test's gaps
    Azurite _azurite = null!;
    AppProcess _app = null!;

    public async Task InitializeAsync()
    {
        _azurite = await AzuritePool.RentAsync();
        _app = await AppProcess.StartAsync(AppProcess.BuiltDll, _azurite.ConnectionString, new Dictionary<string, string>(RequestLines)
        {
            ["Api:BodySilenceSeconds"] = SilenceSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Microsoft.AspNetCore.Server.Kestrel.Connections"] = "Debug", // a line as each connection ends
        });
    }

    // A line as each request reaches the app: before its body is read.
    static readonly Dictionary<string, string> RequestLines = new() { ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information" };

    static bool Starting(string line, string path) => line.Contains($"Request starting HTTP/1.1 POST http://x{path} ", StringComparison.Ordinal);

    /// <summary>The connection of the first request to <paramref name="path"/> to reach the app (its line's scope names it), or null.</summary>
    static string? ConnectionOf(IEnumerable<string> output, string path) =>
        output.FirstOrDefault(line => Starting(line, path)) is { } line ? System.Text.RegularExpressions.Regex.Match(line, @"ConnectionId:(\S+)").Groups[1].Value : null;

    [Fact]
    public async Task A_body_sent_a_byte_a_second_is_a_408_in_the_shape_of_its_surface()
    {
        const string part = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n";
        var upload = SlowlyAsync("/api/v1/files", "multipart/form-data; boundary=b", part + new string('x', 200) + "\r\n--b--\r\n");
        var generate = SlowlyAsync("/api/images/generate", "application/json", "{\"prompt\":\"" + new string('x', 200) + "\"}");

        var (uploadStatus, uploadBody) = await upload;
        var (generateStatus, generateBody) = await generate;

        Assert.Equal((408, JsonValueKind.String), (uploadStatus, JsonDocument.Parse(uploadBody).RootElement.GetProperty("detail").ValueKind));
        Assert.Equal((408, "request_timeout"), (generateStatus, JsonDocument.Parse(generateBody).RootElement.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task A_body_that_stops_arriving_after_a_burst_is_a_408_soon_after_the_silence_bound_in_the_shape_of_its_surface()
    {
        // Kestrel's data rate is an average since the body began: 64 KB at once would have held the request for 270 s.
        const string part = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n";
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var upload = BurstThenSilenceAsync("/api/v1/files", "multipart/form-data; boundary=b", part + new string('x', 64 * 1024));
        var generate = BurstThenSilenceAsync("/api/images/generate", "application/json", "{\"prompt\":\"" + new string('x', 64 * 1024));

        var (uploadStatus, uploadBody) = await upload;
        var (generateStatus, generateBody) = await generate;

        Assert.Equal((408, JsonValueKind.String), (uploadStatus, JsonDocument.Parse(uploadBody).RootElement.GetProperty("detail").ValueKind));
        Assert.Equal((408, "request_timeout"), (generateStatus, JsonDocument.Parse(generateBody).RootElement.GetProperty("error").GetString()));
        // The silence, then Kestrel's 5 s drain of the unread body (not configurable), and some slack for a loaded machine.
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(SilenceSeconds - 0.5), TimeSpan.FromSeconds(SilenceSeconds + 5 + 20));
        var errors = _app.FailLines;
        Assert.True(errors.Count == 0, string.Join('\n', errors));
    }

    /// <summary>Declares twice the length of <paramref name="start"/>, sends <paramref name="start"/> at once, then nothing.</summary>
    async Task<(int Status, string Body)> BurstThenSilenceAsync(string path, string contentType, string start)
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            $"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {contentType}\r\nContent-Length: {2 * start.Length}\r\nConnection: close\r\n\r\n{start}"));
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await AnswerAsync(socket, bound.Token);
    }

    [Fact]
    public async Task An_asterisk_request_target_is_a_404_that_names_it()
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync("OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8.ToArray());
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var (status, body) = await AnswerAsync(socket, bound.Token);

        Assert.Equal(404, status);
        Assert.Equal("There is no endpoint at *.", JsonDocument.Parse(body).RootElement.GetProperty("message").GetString()); // was "at ."
    }

    [Theory]
    [InlineData("/api/images/generate", "application/json")]
    [InlineData("/api/v1/files", "multipart/form-data; boundary=b")]
    public async Task A_client_that_resets_the_connection_halfway_through_its_body_is_no_server_error(string path, string contentType)
    {
        string? connection = null;
        using (var socket = await ConnectAsync())
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {contentType}\r\nContent-Length: 100\r\n\r\n0123456789"));
            // The app has the request: the reset comes halfway through its body.
            await Eventually.HoldsAsync(() => Task.FromResult((connection = ConnectionOf(_app.Output, path)) is not null));
            socket.LingerState = new LingerOption(true, 0); // close with a reset
        }
        // The server's last line of the connection: whatever was logged for its request came before.
        await Eventually.HoldsAsync(() => Task.FromResult(_app.Output.Any(line => line.Contains($"Connection id \"{connection}\" stopped.", StringComparison.Ordinal))));

        var errors = _app.FailLines.Concat(_app.Output.Where(line => line.Contains("ConnectionResetException"))).ToList();
        Assert.True(errors.Count == 0, string.Join('\n', errors));
        using var client = _app.CreateClient();
        Assert.True((await client.GetAsync("/api/healthz")).IsSuccessStatusCode);
    }

    [Theory]
    [InlineData("/api/images/generate", "application/json", "80000000")] // past 31 bits: Kestrel's plain IOException
    [InlineData("/api/config/token", "application/json\r\nX-Admin-Key: process-admin-key", "80000000")]
    [InlineData("/api/images/generate", "application/json", "zz")] // not hex: Kestrel's BadHttpRequestException
    [InlineData("/api/v1/files", "multipart/form-data; boundary=b", "zz")]
    public async Task A_broken_chunk_size_is_a_400_in_the_shape_of_its_surface_not_a_500(string path, string contentType, string chunkSize)
    {
        var (status, body) = await PostChunkedAsync(path, contentType, "chunked", $"{chunkSize}\r\n{{}}\r\n0\r\n\r\n");

        var error = JsonDocument.Parse(body).RootElement;
        Assert.Equal(400, status);
        if (path.StartsWith("/api/v1/", StringComparison.Ordinal)) Assert.Equal(JsonValueKind.String, error.GetProperty("detail").ValueKind);
        else Assert.Equal("bad_request", error.GetProperty("error").GetString());
        Assert.Empty(_app.FailLines);
    }

    [Theory]
    [InlineData("/api/images/generate", "application/json")]
    [InlineData("/api/v1/files", "multipart/form-data; boundary=b")]
    public async Task A_body_with_a_transfer_coding_besides_chunked_is_refused_as_compressed(string path, string contentType)
    {
        // Kestrel undoes the chunked coding only: the gzip one came through, and the JSON was read as if plain (or refused as not UTF-8).
        const string body = "{\"prompt\":\"sent gzip, chunked but not compressed\"}";
        var (status, answer) = await PostChunkedAsync(path, contentType, "gzip, chunked", $"{body.Length:x}\r\n{body}\r\n0\r\n\r\n");

        var error = JsonDocument.Parse(answer).RootElement;
        var kiapi = path.StartsWith("/api/v1/", StringComparison.Ordinal);
        Assert.Equal(kiapi ? 415 : 400, status); // each surface's status for a compressed body
        Assert.Contains("Transfer-Encoding gzip, chunked", error.GetProperty(kiapi ? "detail" : "message").GetString());
    }

    [Fact]
    public async Task A_chunked_body_within_the_bound_is_read_even_in_small_chunks_whose_framing_takes_it_past()
    {
        // 17,163,534 bytes in chunks of 1,000: with each chunk's framing (7 bytes) Kestrel counted 17.28 MB and refused it.
        var body = new byte[Generation.GenerateImageValidator.MaxBodyBytes];
        Array.Fill(body, (byte)' ');
        "{\"prompt\":\"sent in small chunks\""u8.CopyTo(body);
        body[^1] = (byte)'}';
        using var client = _app.CreateClient();

        var response = await client.PostAsync("/api/images/generate", new SmallChunks(body, 1000));

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>A JSON body sent chunked, one chunk per <paramref name="size"/> bytes.</summary>
    sealed class SmallChunks : HttpContent
    {
        readonly byte[] _body;
        readonly int _size;

        public SmallChunks(byte[] body, int size)
        {
            (_body, _size) = (body, size);
            Headers.ContentType = new("application/json");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            for (var at = 0; at < _body.Length; at += _size) await stream.WriteAsync(_body.AsMemory(at, Math.Min(_size, _body.Length - at)));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Fact]
    public async Task Bodies_that_declare_the_largest_length_and_send_none_take_no_memory_from_other_requests()
    {
        // A heap of 512 MB: forty bodies of the largest declared length would take 600 MB if buffered by what they declare.
        await using var app = await AppProcess.StartAsync(AppProcess.BuiltDll, _azurite.ConnectionString,
            new Dictionary<string, string>(RequestLines) { ["DOTNET_GCHeapHardLimit"] = "0x20000000" });
        var stalled = new List<Socket>();
        try
        {
            for (var i = 0; i < 40; i++)
            {
                var socket = await ConnectAsync(app);
                stalled.Add(socket);
                await socket.SendAsync(Encoding.ASCII.GetBytes("POST /api/images/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
                    $"Content-Length: {Generation.GenerateImageValidator.MaxBodyBytes}\r\n\r\n{{\"prompt\":\""));
            }
            // Each has reached the app, whose first step reads the body: a buffer of the declared length would be taken by now.
            await Eventually.HoldsAsync(() => Task.FromResult(app.Output.Count(line => Starting(line, "/api/images/generate")) == stalled.Count));
            using var client = app.CreateClient();

            // A body of 4 MB, the size of a reference image, sent in full meanwhile.
            var response = await client.PostAsync("/api/images/generate",
                new StringContent(new string(' ', 4 << 20) + "{\"prompt\":\"sent in full\"}", Encoding.UTF8, "application/json"));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain(app.Output, line => line.Contains(nameof(OutOfMemoryException), StringComparison.Ordinal));
        }
        finally
        {
            foreach (var socket in stalled) socket.Dispose();
        }
    }

    [Fact]
    public async Task An_empty_idempotency_key_is_400_invalid_idempotency_key_and_makes_no_job()
    {
        using var client = _app.CreateClient();
        using var request = GenerateRequests.With(new { prompt = "empty key" }, "Idempotency-Key", "");

        var response = await client.SendAsync(request);

        await Api.GenerateImageTests.AssertKioaiError(response, HttpStatusCode.BadRequest, "invalid_idempotency_key");
        Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("data").EnumerateArray());
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/api/images/history")).GetProperty("total").GetInt64());
    }

    /// <summary>A POST with <paramref name="transferEncoding"/> and <paramref name="framedBody"/> sent as written (chunks and all); the status and body of its answer.</summary>
    async Task<(int Status, string Body)> PostChunkedAsync(string path, string contentType, string transferEncoding, string framedBody)
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {contentType}\r\n" +
            $"Transfer-Encoding: {transferEncoding}\r\nConnection: close\r\n\r\n{framedBody}"));
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await AnswerAsync(socket, bound.Token);
    }

    /// <summary>Sends the body a byte a second until the server answers; the status and body of its answer.</summary>
    async Task<(int Status, string Body)> SlowlyAsync(string path, string contentType, string body)
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"));
        var sent = 0;
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!socket.Poll(TimeSpan.FromSeconds(1), SelectMode.SelectRead))
        {
            bound.Token.ThrowIfCancellationRequested();
            if (sent < body.Length) await socket.SendAsync(Encoding.ASCII.GetBytes(body[sent++..sent]));
        }
        return await AnswerAsync(socket, bound.Token);
    }

    /// <summary>The server's answer on <paramref name="socket"/> (sent with Connection: close): its status and body.</summary>
    static async Task<(int Status, string Body)> AnswerAsync(Socket socket, CancellationToken cancellationToken)
    {
        var answer = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, cancellationToken)) > 0) answer.Write(buffer, 0, read);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset && answer.Length > 0)
        {
            // Kestrel drains an unread body for 5 s, then resets the connection: the answer has come before.
        }
        var text = Encoding.UTF8.GetString(answer.ToArray());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var (head, content) = (text[..split], text[(split + 4)..]);
        return (int.Parse(text.Split(' ')[1]), head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase) ? Dechunked(content) : content);
    }

    static string Dechunked(string content)
    {
        var body = new StringBuilder();
        for (var at = 0; ;)
        {
            var line = content.IndexOf("\r\n", at, StringComparison.Ordinal);
            var size = Convert.ToInt32(content[at..line], 16);
            if (size == 0) return body.ToString();
            body.Append(content, line + 2, size);
            at = line + 2 + size + 2;
        }
    }

    Task<Socket> ConnectAsync() => ConnectAsync(_app);

    static async Task<Socket> ConnectAsync(AppProcess app)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(app.BaseAddress.Host, app.BaseAddress.Port);
        return socket;
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await AzuritePool.ReturnAsync(_azurite);
    }
}
