using Functions.Generation;

namespace Functions.Tests.Unit;

public sealed class PromptsInLogsTests
{
    const string Prompt = "a lighthouse at dusk over a quiet sea, painted in oils";

    [Theory]
    [InlineData("openai: Your prompt was rejected: a lighthouse at dusk over a quiet sea, painted in oils", "openai: Your prompt was rejected: <the prompt>")]
    [InlineData("The prompt 'A LIGHTHOUSE AT DUSK over a quiet sea, painted in oils' violates policy", "The prompt '<the prompt>' violates policy")]
    [InlineData("The prompt 'a lighthouse at dusk over a q…' violates policy", "The prompt '<the prompt>…' violates policy")] // its start, cut short
    [InlineData("a lighthouse at dusk: no", "<the prompt>: no")] // 20 characters of its start
    [InlineData("a lighthouse: no", "a lighthouse: no")] // too short a start to tell from ordinary text
    [InlineData("geminigen answered 500", "geminigen answered 500")]
    public void A_prompt_quoted_back_is_replaced(string reason, string logged) => Assert.Equal(logged, PromptsInLogs.Hide(reason, Prompt));

    [Theory]
    [InlineData("cat")] // as short as a word of any message
    [InlineData("   ")]
    [InlineData(null)]
    public void A_prompt_too_short_to_tell_apart_is_left(string? prompt) =>
        Assert.Equal("The cat was rejected", PromptsInLogs.Hide("The cat was rejected", prompt));

    [Theory]
    [InlineData("a secret plan  for the merger of two firms")] // two spaces
    [InlineData("topsecret\tcodeword bluebird in the north")]
    [InlineData("patient name\u202A John Doe, diagnosis attached")] // a bidi control
    [InlineData("line one of the secret\nline two of the secret")]
    public void A_prompt_of_many_lines_or_spaces_is_hidden_in_a_failure_s_one_line_message(string prompt)
    {
        var failure = new GenerationFailedException(GenerationErrors.UpstreamRejected, $"geminigen answered 400: The prompt '{prompt}' violates our policy");

        Assert.Equal("geminigen answered 400: The prompt '<the prompt>' violates our policy", PromptsInLogs.Hide(failure.Message, prompt));
    }

    [Fact]
    public void The_start_of_a_prompt_of_many_lines_is_hidden_in_a_failure_s_one_line_message()
    {
        const string prompt = "the first line of a long prompt\n\nand then its second, cut off by the upstream";
        var failure = new GenerationFailedException(GenerationErrors.UpstreamRejected, "refused: 'the first line of a long prompt\n\nand then…'");

        Assert.Equal("refused: '<the prompt>…'", PromptsInLogs.Hide(failure.Message, prompt));
    }
}
