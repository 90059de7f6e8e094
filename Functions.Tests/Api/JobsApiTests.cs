using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Functions.Generation;

namespace Functions.Tests.Api;

[RunsLong]
public sealed class JobsApiTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task An_instance_row_without_a_name_is_no_job_and_fails_no_list()
    {
        // What the engine leaves when it writes a step's status to a row whose start it never recorded (one purged while
        // a step of it still ran): status and output only. One such row made every list answer 500.
        var jobId = Functions.Jobs.JobIds.New(DateTimeOffset.UtcNow, isPrivate: false);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/api/v1/jobs")).StatusCode); // once the engine has made its task hub
        await new Azure.Data.Tables.TableClient(app.Azurite.ConnectionString, "ImageJobsInstances").UpsertEntityAsync(
            new Azure.Data.Tables.TableEntity(jobId, "") { ["RuntimeStatus"] = "Failed", ["Output"] = "The job gave up after 4 attempts at SubmitGeneration." });

        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync($"/api/v1/jobs/{jobId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.DeleteAsync($"/api/v1/jobs/{jobId}")).StatusCode);
        foreach (var list in new[] { "/api/v1/jobs?limit=100", "/api/v1/jobs?status=failed&limit=100" })
        {
            var response = await app.Client.GetAsync(list);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain(jobId, await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task A_full_page_of_jobs_with_the_longest_prompts_is_listed_in_one_answer()
    {
        // About 100 KB a job with its input and output (the prompt is in both, each emoji escaped in 12 bytes): 45 of
        // them are over the 4 MiB a gRPC answer may carry, which the engine's one page of 100 was (500 internal_error).
        var prompt = string.Concat(Enumerable.Repeat("\U0001F600", GenerateImageValidator.MaxPromptLength));
        var paths = await Task.WhenAll(Enumerable.Range(0, 45).Select(async _ =>
            (await SubmitAsyncAsync(app.Client, new { prompt })).Headers.Location!.AbsolutePath));
        foreach (var path in paths) Assert.Equal("succeeded", (await PollAsync(app.Client, path, seconds: 120)).GetProperty("status").GetString());

        var response = await app.Client.GetAsync("/api/v1/jobs?limit=100");

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var listed = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data").EnumerateArray()
            .Select(job => job.GetProperty("id").GetString()!).ToHashSet();
        Assert.Empty(paths.Select(path => path.Split('/')[^1]).Except(listed)); // every one of them on this page, the newest
    }

    [Fact]
    public async Task Prefer_respond_async_answers_202_at_once_with_the_job_where_to_poll_and_statusQueryGetUri()
    {
        var response = await SubmitAsyncAsync(app.Client, new { prompt = "async please", style = "anime" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("respond-async", response.Headers.GetValues("Preference-Applied").Single());
        Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter?.Delta); // README: "Retry-After: 2"
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>();
        var location = response.Headers.Location!;
        Assert.True(location.IsAbsoluteUri);
        Assert.Equal(location.ToString(), accepted.GetProperty("statusQueryGetUri").GetString());
        Assert.Equal($"/api/v1/jobs/{accepted.GetProperty("id").GetString()}", location.AbsolutePath);
        Assert.Equal("queued", accepted.GetProperty("status").GetString());

        var job = await PollAsync(app.Client, location.AbsolutePath);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal(accepted.GetProperty("created_at").GetDouble(), job.GetProperty("created_at").GetDouble()); // the 202's, not the engine's later one
        Assert.False(job.TryGetProperty("statusQueryGetUri", out _));
        PngChecker.Check(await app.Client.GetByteArrayAsync(job.GetProperty("result").GetProperty("image_url").GetString()));
    }

    [Fact]
    public async Task Prefer_wait_zero_shortens_the_sync_wait_to_nothing()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/images/generate") { Content = JsonContent.Create(new { prompt = "no wait" }) };
        request.Headers.Add("Prefer", "wait=0");

        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await PollAsync(app.Client, response.Headers.Location!.AbsolutePath);
    }

    [Fact]
    public async Task Jobs_list_newest_first_in_pages_filters_by_status_and_hides_private_jobs()
    {
        var mine = new List<string>();
        foreach (var prompt in new[] { "list one", "list two", "list three" })
            mine.Add(await SubmitAndFinishAsync(app.Client, new { prompt }));
        var hidden = await SubmitAndFinishAsync(app.Client, new { prompt = "list private", isPrivate = true });

        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await app.Client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs?limit=2{(token is null ? "" : "&continuation_token=" + token)}");
            Assert.Equal("list", page.GetProperty("object").GetString());
            var data = page.GetProperty("data").EnumerateArray().ToList();
            Assert.True(data.Count <= 2); // and may be none: the jobs of its span may all be hidden (private, or forgotten)
            seen.AddRange(data.Select(j => j.GetProperty("id").GetString()!));
            token = page.GetProperty("continuation_token").GetString();
            Assert.Equal(token is not null, page.GetProperty("has_more").GetBoolean());
            pages++;
        } while (token is not null);

        Assert.True(pages >= 2);
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Equal(seen.OrderBy(id => id, StringComparer.Ordinal), seen); // ids sort newest first
        Assert.Equal(((IEnumerable<string>)mine).Reverse(), seen.Where(mine.Contains));
        Assert.DoesNotContain(hidden, seen);

        var succeeded = await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?status=succeeded&limit=100");
        Assert.All(succeeded.GetProperty("data").EnumerateArray(), j => Assert.Equal("succeeded", j.GetProperty("status").GetString()));
        Assert.Contains(succeeded.GetProperty("data").EnumerateArray(), j => j.GetProperty("id").GetString() == mine[0]);
        var canceled = await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?status=canceled");
        Assert.DoesNotContain(canceled.GetProperty("data").EnumerateArray(), j => mine.Contains(j.GetProperty("id").GetString()!));
    }

    [Theory]
    [InlineData("/api/v1/jobs?status=done", "query", "status")]
    [InlineData("/api/v1/jobs?status=QUEUED", "query", "status")]
    [InlineData("/api/v1/jobs?limit=0", "query", "limit")]
    [InlineData("/api/v1/jobs?limit=101", "query", "limit")]
    [InlineData("/api/v1/jobs?limit=ten", "query", "limit")]
    [InlineData("/api/v1/jobs?limit=1%00", "query", "limit")]
    [InlineData("/api/v1/jobs?continuation_token=abc", "query", "continuation_token")]
    [InlineData("/api/v1/jobs?continuation_token=ZmlsZXM6YWJj", "query", "continuation_token")] // a files list's token
    [InlineData("/api/v1/jobs?continuation_token=am9iczp4", "query", "continuation_token")] // "jobs:x": no check value, once a first page
    [InlineData("/api/v1/jobs/job_", "path", "job_id")] // no digits
    [InlineData("/api/v1/jobs/job_XYZ", "path", "job_id")]
    [InlineData("/api/v1/jobs/123", "path", "job_id")]
    [InlineData("/api/v1/jobs/job_0abc%0A", "path", "job_id")]
    public async Task Malformed_job_queries_and_ids_get_422_in_the_validation_shape(string url, string location, string name)
    {
        var response = await app.Client.GetAsync(url);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var issue = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail")[0];
        Assert.Equal([location, name], issue.GetProperty("loc").EnumerateArray().Select(e => e.GetString()));
        Assert.False(string.IsNullOrEmpty(issue.GetProperty("msg").GetString()));
    }

    [Fact]
    public async Task A_token_the_service_did_not_seal_for_the_jobs_list_gets_422_even_with_a_right_check_value()
    {
        for (var i = 0; i < 3; i++) (await ImageCheckTests.UploadAsync(app.Client, TestImages.Png(2, 2), $"token{i}.png")).EnsureSuccessStatusCode(); // a files list with a next page
        var filesToken = (await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/files?limit=1")).GetProperty("continuation_token").GetString()!;
        // The token's earlier form: list, an unkeyed check value and the engine's position in the clear, so anyone could make one up.
        const string madeUp = "{\"NextPartitionKey\":\"job_0zzzz\",\"NextRowKey\":\"\"}";
        var check = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("jobs:" + madeUp)))[..8];
        var earlierForm = Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"jobs:{check}:{madeUp}"));

        foreach (var token in new[] { filesToken, earlierForm, filesToken[..^2] + (filesToken[^2] == 'A' ? "B" : "A") + filesToken[^1] })
        {
            var response = await app.Client.GetAsync("/api/v1/jobs?continuation_token=" + token);

            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            Assert.Equal("invalid_token", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail")[0].GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task A_token_pages_only_the_status_filter_it_came_from_which_it_resumes_when_the_status_is_not_sent_again()
    {
        var older = await SubmitAndFinishAsync(app.Client, new { prompt = "filtered page, older" });
        var (canceled, _) = await SubmitThenDeleteAsync(app.Client, "filtered page, canceled between"); // a page that lost the filter shows it
        Assert.Equal("canceled", (await app.Client.GetFromJsonAsync<JsonElement>(canceled)).GetProperty("status").GetString());
        await SubmitAndFinishAsync(app.Client, new { prompt = "filtered page, newer" });
        var token = (await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?status=succeeded&limit=1")).GetProperty("continuation_token").GetString()!;

        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync($"/api/v1/jobs?status=succeeded&limit=1&continuation_token={token}")).StatusCode);
        foreach (var other in new[] { "status=failed&", "status=canceled&" }) // once: a page of another listing, jobs skipped
            Assert.Equal(HttpStatusCode.UnprocessableEntity, (await app.Client.GetAsync($"/api/v1/jobs?{other}continuation_token={token}")).StatusCode);
        // As the README has it: the token alone goes back for the next page, of the same listing.
        var next = await app.Client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs?limit=1&continuation_token={token}");
        Assert.Equal(older, next.GetProperty("data")[0].GetProperty("id").GetString());
    }

    [Theory]
    [InlineData("-1", "out_of_range")] // an integer, out of range: not "not a valid integer"
    [InlineData("9223372036854775808", "out_of_range")]
    [InlineData("ten", "int_parsing")]
    [InlineData("1.5", "int_parsing")]
    public async Task A_limit_says_whether_it_is_no_integer_or_out_of_range(string limit, string type)
    {
        foreach (var list in new[] { "jobs", "files" })
        {
            var response = await app.Client.GetAsync($"/api/v1/{list}?limit={limit}");

            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            Assert.Equal(type, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail")[0].GetProperty("type").GetString());
        }
    }

    [Theory]
    [InlineData("GET", "/api/v1/jobs/job_")]
    [InlineData("DELETE", "/api/v1/jobs/job_")]
    [InlineData("GET", "/api/v1/files/file_")]
    [InlineData("GET", "/api/v1/files/file_{0}/download")]
    [InlineData("DELETE", "/api/v1/files/file_")]
    public async Task An_id_of_the_contracts_shape_longer_than_any_the_service_makes_is_404_before_storage_sees_it(string method, string path)
    {
        var digits = new string('a', 5000); // the contract's pattern sets no length: such an id is valid, and cannot exist
        var url = path.Contains("{0}") ? string.Format(path, digits) : path + digits;

        var response = await app.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), url));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var detail = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.EndsWith("not found", detail);
        Assert.True(detail.Length < 200); // the id quoted cut short
    }

    [Theory]
    [InlineData("job_0", 64, HttpStatusCode.NotFound, null)] // as long as an id may be: looked up
    [InlineData("job_X", 64, HttpStatusCode.UnprocessableEntity, "string_pattern_mismatch")]
    [InlineData("job_0", 65, HttpStatusCode.NotFound, null)] // one over: not looked up, as it cannot exist
    [InlineData("job_X", 65, HttpStatusCode.UnprocessableEntity, "string_pattern_mismatch")]
    public async Task An_id_of_the_longest_length_is_looked_up_and_one_over_is_not_found(string prefix, int length, HttpStatusCode status, string? type)
    {
        var id = prefix.PadRight(length, 'a');

        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Delete })
        {
            var response = await app.Client.SendAsync(new HttpRequestMessage(method, $"/api/v1/jobs/{id}"));

            Assert.Equal(status, response.StatusCode);
            if (type is not null)
                Assert.Equal(type, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail")[0].GetProperty("type").GetString());
        }
    }

    [Theory]
    [InlineData("/api/v1/jobs?limit=0&limit=1")]
    [InlineData("/api/v1/jobs?status=done&status=succeeded")]
    public async Task Of_a_repeated_query_value_the_last_counts(string url)
    {
        var response = await app.Client.GetAsync(url);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/api/v1/jobs?limit=")]
    [InlineData("/api/v1/jobs?status=")]
    [InlineData("/api/v1/jobs?continuation_token=")]
    [InlineData("/api/v1/files?limit=")]
    [InlineData("/api/v1/files?continuation_token=")]
    public async Task A_long_query_value_is_422_and_quoted_back_cut_short_as_a_long_id_is(string url)
    {
        var response = await app.Client.GetAsync(url + new string('9', 5000));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail")[0].GetProperty("input").GetString()!.Length < 100);
    }

    [Fact]
    public async Task Delete_with_a_malformed_id_is_422_and_an_unknown_job_404()
    {
        var malformed = await app.Client.DeleteAsync("/api/v1/jobs/job-1");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, malformed.StatusCode);

        var unknown = await app.Client.DeleteAsync("/api/v1/jobs/job_0123456789abcdef0123");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("not found", (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Deleting_an_ended_job_forgets_it_and_keeps_its_image()
    {
        var jobId = await SubmitAndFinishAsync(app.Client, new { prompt = "forget me" });
        var job = await app.Client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{jobId}");
        var fileId = job.GetProperty("result").GetProperty("file_id").GetString();

        var response = await app.Client.DeleteAsync($"/api/v1/jobs/{jobId}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("deleted").GetBoolean());
        Assert.False(body.GetProperty("was_running").GetBoolean());
        Assert.Equal(jobId, body.GetProperty("job_id").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync($"/api/v1/jobs/{jobId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync($"/api/v1/files/{fileId}/download")).StatusCode);
    }

    [Fact]
    public async Task Health_reports_ok_warm_queue_length_storage_and_memory()
    {
        var response = await app.Client.GetAsync("/api/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.True(health.GetProperty("warm").GetBoolean());
        Assert.Equal(JsonValueKind.Number, health.GetProperty("queue_len").ValueKind); // what it counts: CancelQueuedTests
        Assert.Equal("ok", health.GetProperty("storage").GetString());
        Assert.True(health.GetProperty("memory").GetProperty("budget_gb").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Array, health.GetProperty("memory").GetProperty("loaded").ValueKind);
    }

    public static async Task<HttpResponseMessage> SubmitAsyncAsync(HttpClient client, object body, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/images/generate") { Content = JsonContent.Create(body) };
        request.Headers.Add("Prefer", "respond-async");
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await client.SendAsync(request);
    }

    /// <summary>Submits a job with <paramref name="prompt"/> (202 at once), then sends its DELETE: the job's path and the DELETE's answer.</summary>
    public static async Task<(string Path, HttpResponseMessage Deleted)> SubmitThenDeleteAsync(HttpClient client, string prompt)
    {
        var path = (await SubmitAsyncAsync(client, new { prompt })).Headers.Location!.AbsolutePath;
        return (path, await client.DeleteAsync(path));
    }

    /// <summary>
    /// Submits with respond-async and an Idempotency-Key, and sends it again, as a client would, while the answer is a
    /// 503 (the engine not reachable yet, or slow to confirm on a loaded machine) or a 409 with Retry-After (the key's
    /// first try still scheduling), until the deadline. The key makes each repeat answer for one job.
    /// </summary>
    public static async Task<HttpResponseMessage> SubmitThroughOutagesAsync(HttpClient client, object body, int seconds)
    {
        var key = Guid.NewGuid().ToString("N");
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var response = await SubmitAsyncAsync(client, body, key);
            var again = response.StatusCode == HttpStatusCode.ServiceUnavailable
                || response.StatusCode == HttpStatusCode.Conflict && response.Headers.RetryAfter is not null;
            if (!again || DateTime.UtcNow >= deadline) return response;
            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Submits with respond-async, polls the job to its end and returns its id.</summary>
    public static async Task<string> SubmitAndFinishAsync(HttpClient client, object body)
    {
        var response = await SubmitAsyncAsync(client, body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await PollAsync(client, response.Headers.Location!.AbsolutePath);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        return job.GetProperty("id").GetString()!;
    }

    /// <summary>
    /// Polls a job until it ends. With <paramref name="throughOutages"/>, a 503 with Retry-After (the engine slow to
    /// answer on a loaded machine) is polled again, as a client would, until the deadline.
    /// </summary>
    public static async Task<JsonElement> PollAsync(HttpClient client, string path, int seconds = 30, int everyMs = 50, bool throughOutages = false)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var response = await client.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            if (throughOutages && response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter is not null
                && DateTime.UtcNow < deadline)
            {
                await Task.Delay(everyMs);
                continue;
            }
            // The kiapi contract answers 200 with the job whatever its status; Retry-After only while it has not ended.
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} polling {path}: {body}");
            var job = JsonDocument.Parse(body).RootElement;
            if (job.GetProperty("status").GetString() is "succeeded" or "failed" or "canceled")
            {
                Assert.Null(response.Headers.RetryAfter);
                return job;
            }
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.True(DateTime.UtcNow < deadline, $"job still {job.GetProperty("status")} after {seconds} s");
            await Task.Delay(everyMs);
        }
    }
}
