namespace Functions.Hosting;

/// <summary>
/// Every answer names its request in <see cref="Header"/>, by the id the service's log lines about it carry, so that a
/// client's report finds them: the local host's request id (its console shows each line's request scope), the Functions
/// host's invocation id (Application Insights keeps it with each line).
/// </summary>
public static class RequestIds
{
    public const string Header = "X-Request-Id";

    /// <summary>Names the request in its answer's headers however the answer is then written (a function, an error page).</summary>
    public static void NameInAnswer(this HttpResponse response, string id) =>
        response.OnStarting(static state =>
        {
            var (answer, named) = ((HttpResponse, string))state;
            answer.Headers[Header] = named;
            return Task.CompletedTask;
        }, (response, id));
}
