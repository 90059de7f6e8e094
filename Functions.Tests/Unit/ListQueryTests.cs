using Functions.Contracts.Kiapi;

namespace Functions.Tests.Unit;

/// <summary>The list endpoints' query: a page of 20 unless asked otherwise, and no token longer than the API issues.</summary>
public sealed class ListQueryTests
{
    [Fact]
    public void Without_a_limit_a_page_holds_20()
    {
        Assert.Null(ListQuery.Read(ListQuery.Jobs, null, null, out var limit, out var position));

        Assert.Equal(20, limit);
        Assert.Null(position);
    }

    [Theory]
    [InlineData(754, true)] // a token of exactly 1024 characters
    [InlineData(755, false)] // 1026: longer than any this API issues, refused before it is decoded
    public void A_token_of_up_to_1024_characters_is_read_and_a_longer_one_refused_even_with_a_right_check_value(int positionLength, bool read)
    {
        var position = new string('p', positionLength);
        var token = ContinuationTokens.Encode(ListQuery.Jobs, position);

        var invalid = ListQuery.Read(ListQuery.Jobs, null, token, out _, out var decoded);

        Assert.Equal(read ? 1024 : 1026, token.Length);
        Assert.Equal(read, invalid is null);
        Assert.Equal(read ? position : null, decoded);
    }
}
