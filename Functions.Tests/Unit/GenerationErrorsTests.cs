using Functions.Generation;

namespace Functions.Tests.Unit;

public sealed class GenerationErrorsTests
{
    /// <summary>README's generate errors: a job that ends with a code answers the status that says whose fault it was.</summary>
    [Theory]
    [InlineData(GenerationErrors.TokenNotConfigured, 400)] // a token removed while its job ran
    [InlineData(GenerationErrors.ReferenceNotFound, 400)] // a reference file deleted before its job read it
    [InlineData(GenerationErrors.ContentFiltered, 400)]
    [InlineData(GenerationErrors.UpstreamRejected, 400)]
    [InlineData(GenerationErrors.UpstreamError, 502)]
    [InlineData(GenerationErrors.UpstreamRateLimited, 502)]
    [InlineData(GenerationErrors.InvalidUpstreamImage, 502)]
    [InlineData(GenerationErrors.UpstreamUnauthorized, 502)]
    [InlineData(GenerationErrors.UpstreamNoCredit, 502)]
    [InlineData(GenerationErrors.ProviderUnavailable, 503)]
    [InlineData(GenerationErrors.StoppedByCancel, 409)] // as a canceled job
    [InlineData(GenerationErrors.UpstreamTimeout, 504)]
    [InlineData(GenerationErrors.AttemptsExhausted, 500)]
    [InlineData(GenerationErrors.GenerationFailed, 500)]
    [InlineData(null, 500)]
    public void Each_code_a_job_ends_with_answers_the_status_readme_gives_it(string? code, int status)
    {
        Assert.Equal(status, GenerationErrors.StatusOf(code));
    }
}
