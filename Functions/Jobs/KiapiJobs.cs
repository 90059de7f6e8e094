using System.Text.Json.Nodes;
using System.Text.Json;
using Functions.Contracts.Kiapi;

namespace Functions.Jobs;

public static class KiapiJobs
{
    /// <summary>Stands for the reference image a job was sent inline: neither its bytes nor the id of the private copy it reads.</summary>
    public const string InlineReference = "<sent inline; not shown>";

    /// <summary>A stored job in the kiapi Job shape; params never include the reference image's bytes.</summary>
    public static KiapiJob ToKiapi(this JobRecord job, Func<string, string> fileUrl)
    {
        var parameters = JsonSerializer.SerializeToNode(job.Request, AppJsonContext.Api.GenerationRequest)!.AsObject();
        // A private file's id is what opens it, and anyone may list a public job: the copy's id stays with the job.
        if (job.ReferenceIsCopy)
        {
            parameters["referenceFileId"] = null;
            parameters["referenceImageBase64"] = InlineReference;
        }
        JsonObject? result = job.Result is { } r
            ? new JsonObject
            {
                ["image_id"] = r.ImageId, ["file_id"] = r.FileId, ["image_url"] = fileUrl(r.FileId), ["image_bytes"] = r.ImageBytes,
                ["width"] = r.Width, ["height"] = r.Height, ["content_type"] = r.ContentType,
            }
            : null;
        return new KiapiJob(job.Id, JobRecord.Type, job.Status.ToWire(), parameters, result,
            job.Result is { } done ? [done.FileId] : [],
            job.Status == JobStatus.Failed ? job.Error : null, // the contract: "Error message when status is failed; otherwise null"
            UnixSeconds(job.CreatedAt), UnixSeconds(job.StartedAt), UnixSeconds(job.FinishedAt), job.Progress, job.ProgressLabel);
    }

    static double UnixSeconds(DateTimeOffset time) => time.ToUnixTimeMilliseconds() / 1000.0;

    static double? UnixSeconds(DateTimeOffset? time) => time is { } t ? UnixSeconds(t) : null;
}
