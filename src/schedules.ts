// What a schedule is once resolved against the configuration, and how BullMQ names the runs of a job scheduler.
// Shared by the producer side (queues/schedules.ts syncs schedulers) and the monitor (src/monitor/schedule-health.ts
// checks that each due run happened), so neither has to know the other.

/** Every schedule runs in UTC, whatever the server's time zone. */
export const SCHEDULE_TZ = 'UTC';

/** A declared schedule resolved against the configuration: what its scheduler should look like. */
export interface ResolvedSchedule {
  id: string;
  /** The queue (= job kind) its runs go to. */
  queue: string;
  /** Cron pattern, or "off" (the scheduler must not exist). */
  pattern: string;
  tz: string;
  /** The payload after its schema's defaults: what every scheduled job gets as data. */
  data: Record<string, unknown>;
}

export function isOff(s: Pick<ResolvedSchedule, 'pattern'>): boolean {
  return s.pattern === 'off';
}

/** The job id BullMQ gives a scheduler's run due at `millis`. */
export function scheduledJobId(schedulerId: string, millis: number): string {
  return `repeat:${schedulerId}:${millis}`;
}

/** The one-off job that stands in for a run a scheduler change dropped (deterministic: N syncs add it once). */
export function catchUpJobId(schedulerId: string, millis: number): string {
  return `catchup-${schedulerId}-${millis}`;
}
