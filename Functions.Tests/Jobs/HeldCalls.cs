using Grpc.Core;
using Grpc.Core.Interceptors;
using P = Microsoft.DurableTask.Protobuf;

namespace Functions.Tests.Jobs;

/// <summary>
/// Holds the calls of one gRPC method of the Durable protocol until a gate opens, then sends them on unchanged: a
/// seam in the engine's own protocol, so a test can catch a job at a point the engine passes in milliseconds.
/// </summary>
public sealed class HeldCalls(string method, Func<Task> gate) : Interceptor
{
    /// <summary>Completes when the first call of the method has come (and is held).</summary>
    public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request,
        ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        if (context.Method.Name != method) return continuation(request, context);
        var call = AfterGateAsync(() => continuation(request, context), context.Options.CancellationToken);
        async Task<TResponse> ResponseAsync() => await (await call).ResponseAsync;
        async Task<Metadata> HeadersAsync() => await (await call).ResponseHeadersAsync;
        return new AsyncUnaryCall<TResponse>(ResponseAsync(), HeadersAsync(), () => Started(call)?.GetStatus() ?? Status.DefaultCancelled,
            () => Started(call)?.GetTrailers() ?? [], () => Started(call)?.Dispose());
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request,
        ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        if (context.Method.Name != method) return continuation(request, context);
        var call = AfterGateAsync(() => continuation(request, context), context.Options.CancellationToken);
        async Task<Metadata> HeadersAsync() => await (await call).ResponseHeadersAsync;
        return new AsyncServerStreamingCall<TResponse>(new HeldStream<TResponse>(call), HeadersAsync(),
            () => Started(call)?.GetStatus() ?? Status.DefaultCancelled, () => Started(call)?.GetTrailers() ?? [], () => Started(call)?.Dispose());
    }

    async Task<T> AfterGateAsync<T>(Func<T> start, CancellationToken cancellationToken)
    {
        Reached.TrySetResult();
        await gate().WaitAsync(cancellationToken);
        return start();
    }

    static T? Started<T>(Task<T> call) where T : class => call.IsCompletedSuccessfully ? call.Result : null;

    sealed class HeldStream<T>(Task<AsyncServerStreamingCall<T>> call) : IAsyncStreamReader<T>
    {
        public T Current => call.Result.ResponseStream.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken) =>
            await (await call.WaitAsync(cancellationToken)).ResponseStream.MoveNext(cancellationToken);
    }
}

/// <summary>Runs an action once a call of one unary gRPC method has been answered.</summary>
public sealed class AfterCalls(string method, Action answered) : Interceptor
{
    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request,
        ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        var call = continuation(request, context);
        if (context.Method.Name != method) return call;
        async Task<TResponse> ThenAsync()
        {
            var response = await call.ResponseAsync;
            answered();
            return response;
        }
        return new AsyncUnaryCall<TResponse>(ThenAsync(), call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }
}

/// <summary>
/// Holds each work item the engine streams to the worker until the gate the test gives for it opens: a seam between
/// the engine's dispatch of a step and the step's run.
/// </summary>
public sealed class HeldWorkItems(Func<P.WorkItem, Task> gate) : Interceptor
{
    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request,
        ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        var call = continuation(request, context);
        if (context.Method.Name != "GetWorkItems") return call;
        return new AsyncServerStreamingCall<TResponse>(new GatedStream<TResponse>(call.ResponseStream, gate), call.ResponseHeadersAsync,
            call.GetStatus, call.GetTrailers, call.Dispose);
    }

    sealed class GatedStream<T>(IAsyncStreamReader<T> stream, Func<P.WorkItem, Task> gate) : IAsyncStreamReader<T>
    {
        public T Current => stream.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (!await stream.MoveNext(cancellationToken)) return false;
            if (stream.Current is P.WorkItem item) await gate(item).WaitAsync(cancellationToken);
            return true;
        }
    }
}

/// <summary>
/// Fails every terminate as the engine being unreachable (503 <c>jobs_unavailable</c> to the DELETE), once the gate the
/// test gives has opened; everything else goes through.
/// </summary>
public sealed class UnreachableTerminates(Func<Task>? gate = null) : Interceptor
{
    static readonly Status Unreachable = new(StatusCode.Unavailable, "the engine is not reachable");

    /// <summary>Completes when the first terminate has come (and waits at the gate).</summary>
    public TaskCompletionSource Asked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the first terminate has failed.</summary>
    public TaskCompletionSource Failed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request,
        ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        if (request is not P.TerminateRequest) return continuation(request, context);
        async Task<TResponse> FailAsync()
        {
            Asked.TrySetResult();
            if (gate is not null) await gate();
            Failed.TrySetResult();
            throw new RpcException(Unreachable);
        }
        return new AsyncUnaryCall<TResponse>(FailAsync(), Task.FromResult(new Metadata()), () => Unreachable, () => [], () => { });
    }
}
