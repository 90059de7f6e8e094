using Azure;
using Grpc.Core;

namespace Functions.Hosting;

/// <summary>
/// One short line for the log on what a storage or job-engine call met. The SDKs' own texts run to hundreds of
/// characters (the storage retry's repeats each try's message, with advice on its settings; a gRPC status carries its
/// debug exception), and a burst of outage lines buried the log.
/// </summary>
public static class FaultText
{
    public static string Of(Exception error) => error switch
    {
        AggregateException { InnerExceptions.Count: > 0 } tries => $"{tries.InnerExceptions.Count} tries, the last: {Of(tries.InnerExceptions[^1])}",
        RequestFailedException { Status: > 0 } refused => $"storage answered {refused.Status}{(refused.ErrorCode is { } code ? " " + code : "")}",
        RequestFailedException { InnerException: { } inner } => Of(inner),
        RpcException rpc => $"{rpc.StatusCode}: {FirstSentence(rpc.Status.Detail)}",
        _ => FirstSentence(error.Message),
    };

    // "The operation was cancelled because it exceeded the configured timeout of 0:00:10. Network timeout can be adjusted in …"
    static string FirstSentence(string text) => text.IndexOf(". ", StringComparison.Ordinal) is var end and > 0 ? text[..(end + 1)] : text;
}
