using Functions.Contracts.Kiapi;

namespace Functions.Tests.Unit;

/// <summary>The list endpoints' query: a page of 20 unless asked otherwise, and no token longer than the API issues.</summary>
public sealed class ListQueryTests
{
    [Fact]
    public void Without_a_limit_a_page_holds_20()
    {
        Assert.Null(ListQuery.Read(null, null, out var limit));

        Assert.Equal(20, limit);
    }

    [Theory]
    [InlineData(1024, true)]
    [InlineData(1025, false)] // longer than any this API issues, refused before it is opened
    public void A_token_of_up_to_1024_characters_is_read_and_a_longer_one_refused(int tokenLength, bool read) =>
        Assert.Equal(read, ListQuery.Read(null, new string('p', tokenLength), out _) is null);
}
