// A job whose stored data is not valid JSON (written by hand, by a broken producer, cut short) makes BullMQ's
// Job.fromJSON throw inside the Worker's fetch loop: the worker logs "Unexpected end of JSON input" with no job id,
// the job stays `active` under a lock nobody renews, and it cycles through stalled-job recovery. ReadableJob reads
// such a job anyway, with its raw data kept under UNREADABLE_DATA_KEY and BullMQ's own deferred failure set, so the
// Worker fails it at once (UnrecoverableError: no retries, no processor call) with a reason naming it. Queues use it
// too, so getJob and the board show the job instead of throwing.
import { Job, Queue, Worker, type JobJson } from 'bullmq';

/** Where the unreadable raw data (its first UNREADABLE_DATA_KEPT characters) sits in such a job's `data`. */
export const UNREADABLE_DATA_KEY = '_unreadableData';
const UNREADABLE_DATA_KEPT = 500;

export function unreadableDataReason(jobId: string | undefined, err: unknown): string {
  const why = err instanceof Error ? err.message : String(err);
  return `job ${jobId ?? '(no id)'}: its data is not valid JSON (${why}); failed at once, without retries (the raw data is in the job's data under ${UNREADABLE_DATA_KEY})`;
}

export class ReadableJob extends Job {
  /** Set when the stored data could not be parsed; the job then fails at once with this reason. */
  unreadableData?: string;

  static override fromJSON<T = unknown, R = unknown, N extends string = string>(
    queue: Parameters<typeof Job.fromJSON>[0],
    json: JobJson,
    jobId?: string,
  ): Job<T, R, N> {
    try {
      return super.fromJSON<T, R, N>(queue, json, jobId);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      try {
        JSON.parse(json.data || '{}');
      } catch {
        // It is the data (not the options or the progress) that cannot be read: read the job without it.
        const reason = unreadableDataReason(json.id || jobId, err);
        const job = super.fromJSON<T, R, N>(queue, { ...json, data: '{}' }, jobId) as ReadableJob & Job<T, R, N>;
        job.data = { [UNREADABLE_DATA_KEY]: String(json.data).slice(0, UNREADABLE_DATA_KEPT) } as T;
        job.unreadableData = reason;
        job.deferredFailure = reason; // BullMQ fails a job with a deferred failure before calling the processor
        return job;
      }
      throw err;
    }
  }
}

/** The reason, when `job` was read with unreadable data. */
export function unreadableReasonOf(job: Job | undefined): string | undefined {
  return job instanceof ReadableJob ? job.unreadableData : undefined;
}

/** A Worker that reads jobs with ReadableJob (see the top of this file). */
export class FleetWorker extends Worker {
  protected override get Job(): typeof Job {
    return ReadableJob as unknown as typeof Job;
  }
}

/** A Queue that reads jobs with ReadableJob: getJob and Bull Board list a job with unreadable data. */
export class FleetQueue extends Queue {
  protected override get Job(): typeof Job {
    return ReadableJob as unknown as typeof Job;
  }
}
