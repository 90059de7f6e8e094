using System.Buffers.Text;
using Functions.Storage;

namespace Functions.Tests.Storage;

/// <summary>A list's token gives back its position for its own list, to any instance, and nothing for a token the service did not seal.</summary>
public sealed class ListPositionsTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    ListPositions NewInstance() => new(storage.Table(StorageNames.SettingsTable), storage.Bootstrap);

    [Theory]
    [InlineData("2!96!MDAwMDE4IWZpbGVfZmU1ZGU4OGFhM2EzY2FjYzVmZmNmYzk5MTVkMyEw-")] // an Azure list marker
    [InlineData("file_fe5de88aa3a3cacc5ffcfc9915d3")] // Azurite's: a blob's name, which the token must not show
    [InlineData("{\"NextPartitionKey\":\"job_0fe5\",\"NextRowKey\":\"\"}")] // the Durable engine's
    public async Task A_token_gives_back_its_position_for_its_own_list_on_any_instance_and_does_not_show_it(string position)
    {
        var token = (await NewInstance().SealAsync("files", position, default))!;

        Assert.Equal((true, position), await NewInstance().OpenAsync("files", token, default));
        Assert.Equal((false, null), await NewInstance().OpenAsync("jobs", token, default));
        Assert.DoesNotContain(position, System.Text.Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token)));
        Assert.NotEqual(token, await NewInstance().SealAsync("files", position, default)); // a new nonce each time
    }

    [Fact]
    public async Task No_position_is_no_token_and_no_token_is_the_first_page()
    {
        Assert.Null(await NewInstance().SealAsync("jobs", null, default));
        Assert.Equal((true, null), await NewInstance().OpenAsync("jobs", null, default));
    }

    [Fact]
    public async Task An_edited_cut_or_made_up_token_is_refused()
    {
        var positions = NewInstance();
        var token = (await positions.SealAsync("files", "file_0001", default))!;
        var bytes = Base64Url.DecodeFromChars(token);
        bytes[^1] ^= 1;

        foreach (var bad in new[] { Base64Url.EncodeToString(bytes), token[..^4], token[..20], "not base64url!", "", Base64Url.EncodeToString(new byte[40]) })
            Assert.Equal((false, null), await positions.OpenAsync("files", bad, default));
    }
}
