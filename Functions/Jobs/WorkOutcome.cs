namespace Functions.Jobs;

/// <summary>What the queue should do with a job's message after the worker ran.</summary>
public enum WorkOutcome
{
    /// <summary>The job reached an end (or there is nothing to do): delete the message.</summary>
    Done,

    /// <summary>A passing failure: make the message visible again after a back-off.</summary>
    Retry,

    /// <summary>Delivered too often: the job was failed; move the message to the poison queue.</summary>
    Poison,
}
