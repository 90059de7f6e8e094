using System.Buffers.Text;
using System.Text;
using Functions.Contracts.Kiapi;

namespace Functions.Tests.Unit;

/// <summary>A list's token gives back the position it wraps, and nothing for a token this API did not issue for that list.</summary>
public sealed class ContinuationTokensTests
{
    static string Raw(string text) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));

    [Theory]
    [InlineData("2!96!MDAwMDE4IWZpbGVfZmU1ZGU4OGFhM2EzY2FjYzVmZmNmYzk5MTVkMyEw-")] // an Azure list marker
    [InlineData("file_fe5de88aa3a3cacc5ffcfc9915d3")] // Azurite's
    [InlineData("{\"NextPartitionKey\":\"job_0fe5\",\"NextRowKey\":\"\"}")]
    public void A_token_gives_back_its_position_for_its_own_list_only(string position)
    {
        var token = ContinuationTokens.Encode("files", position);

        Assert.Equal(position, ContinuationTokens.Decode("files", token));
        Assert.Null(ContinuationTokens.Decode("jobs", token));
    }

    [Fact]
    public void An_edited_or_made_up_token_is_refused()
    {
        var token = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(ContinuationTokens.Encode("files", "file_0001")));

        Assert.Null(ContinuationTokens.Decode("files", Raw(token.Replace("file_0001", "file_0002"))));
        Assert.Null(ContinuationTokens.Decode("jobs", Raw("jobs" + token["files".Length..]))); // a files token with its list tag edited
        Assert.Null(ContinuationTokens.Decode("files", Raw(token[.."files:".Length] + token.Substring("files:".Length, 8) + "-" + token[("files:".Length + 9)..])));
        Assert.Null(ContinuationTokens.Decode("files", Raw("files:file_0001")));
        Assert.Null(ContinuationTokens.Decode("files", Raw("files:")));
        Assert.Null(ContinuationTokens.Decode("files", "not base64url!"));
    }

    [Fact]
    public void A_token_wraps_no_empty_position() => Assert.Null(ContinuationTokens.Decode("jobs", ContinuationTokens.Encode("jobs", "")));

    [Theory]
    [InlineData("file\u0000")]
    [InlineData("file\u001f")]
    [InlineData("file\uffff")]
    [InlineData("fichier_é")]
    public void A_position_with_characters_no_storage_marker_has_is_refused_even_with_a_right_check_value(string position) =>
        Assert.Null(ContinuationTokens.Decode("files", ContinuationTokens.Encode("files", position)));
}
