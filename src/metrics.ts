// Prometheus metrics for one process: one Registry, every family registered once (npm start runs the board and
// the workers in the same process and shares one FleetMetrics). Queue and fetch-log figures are read at scrape
// time, so they are true for the whole fleet no matter which replica did the work; upstream counters are
// per-process (each worker exposes its own), job durations are observed by the board from BullMQ events.
import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FetchLog } from './stores/fetch-log.js';
import type { ResponseEvent } from './upstream/http.js';

/** The states BullMQ reports in getJobCounts, in the order operators read them. */
export const JOB_STATES = [
  'waiting',
  'prioritized',
  'delayed',
  'active',
  'waiting-children',
  'completed',
  'failed',
] as const;

export interface ScrapeSources {
  queues?: readonly Queue[];
  fetchLog?: Pick<FetchLog, 'totals'>;
}

export class FleetMetrics {
  readonly registry = new Registry();
  private sources: ScrapeSources = {};
  private readonly upstreamRequests: Counter<'host' | 'status'>;
  private readonly upstreamDuration: Histogram<'host'>;
  private readonly jobDuration: Histogram<'queue' | 'outcome'>;
  private readonly sourceUp: Gauge<'source'>;
  private readonly queuePaused: Gauge<'queue'>;
  private readonly queueJobs: Gauge<'queue' | 'state'>;
  private readonly lastSuccess: Gauge<'job_kind'>;
  private readonly runs: Gauge<'job_kind' | 'status'>;
  private readonly bills: Gauge<'job_kind' | 'outcome'>;
  private readonly authFailures: Counter<'realm' | 'outcome'>;
  private inFlight: Promise<void> | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];

    // prom-client collects every family concurrently; they all await one shared read of Redis and PostgreSQL.
    const refresh = () => (this.inFlight ??= this.readSources().finally(() => (this.inFlight = undefined)));
    const collect = async () => void (await refresh());

    this.sourceUp = new Gauge({
      name: 'bill_fleet_scrape_source_up',
      help: 'Whether the last scrape could read a source (1) or not (0): redis (queue counts), postgres (fetch log).',
      labelNames: ['source'],
      registers,
      collect,
    });
    this.queuePaused = new Gauge({
      name: 'bill_fleet_queue_paused',
      help: 'Whether the queue is paused (1): its waiting jobs are not being picked up.',
      labelNames: ['queue'],
      registers,
      collect,
    });
    this.queueJobs = new Gauge({
      name: 'bill_fleet_queue_jobs',
      help: 'Jobs per queue and state, read from BullMQ at scrape time.',
      labelNames: ['queue', 'state'],
      registers,
      collect,
    });
    this.lastSuccess = new Gauge({
      name: 'bill_fleet_fetch_last_success_timestamp_seconds',
      help: 'Unix time of the newest successful run in the fetch log, per job kind.',
      labelNames: ['job_kind'],
      registers,
      collect,
    });
    this.runs = new Gauge({
      name: 'bill_fleet_fetch_log_runs',
      help: 'Runs recorded in the fetch log, per job kind and status (success, partial, error).',
      labelNames: ['job_kind', 'status'],
      registers,
      collect,
    });
    this.bills = new Gauge({
      name: 'bill_fleet_fetch_log_bills',
      help: 'Bill counters summed over the runs in the fetch log, per job kind and outcome.',
      labelNames: ['job_kind', 'outcome'],
      registers,
      collect,
    });

    this.jobDuration = new Histogram({
      name: 'bill_fleet_job_duration_seconds',
      help: 'Time from a job starting to finishing (finishedOn - processedOn), per queue and outcome.',
      labelNames: ['queue', 'outcome'],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });
    this.authFailures = new Counter({
      name: 'bill_fleet_auth_failures_total',
      help: 'Refused credentials seen by this process, per realm (board: basic auth; metrics: bearer token) and outcome (rejected: wrong credentials; throttled: refused unchecked while the client is blocked).',
      labelNames: ['realm', 'outcome'],
      registers,
    });
    this.upstreamRequests = new Counter({
      name: 'bill_fleet_upstream_requests_total',
      help: 'Upstream HTTP responses seen by this process, per host and status (or network / timeout).',
      labelNames: ['host', 'status'],
      registers,
    });
    this.upstreamDuration = new Histogram({
      name: 'bill_fleet_upstream_request_duration_seconds',
      help: 'Upstream HTTP request time seen by this process, per host.',
      labelNames: ['host'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 60],
      registers,
    });
  }

  /** Read these at scrape time. Call once per source; later calls add to what is already watched. */
  watch(sources: ScrapeSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  /** Pass to openFleet's onUpstreamResponse. */
  readonly observeUpstream = (event: ResponseEvent): void => {
    this.upstreamRequests.inc({ host: event.host, status: String(event.status) });
    this.upstreamDuration.observe({ host: event.host }, event.durationMs / 1000);
  };

  observeAuthFailure(realm: 'board' | 'metrics', outcome: 'rejected' | 'throttled'): void {
    this.authFailures.inc({ realm, outcome });
  }

  observeJob(queue: string, outcome: 'completed' | 'failed', seconds: number): void {
    this.jobDuration.observe({ queue, outcome }, seconds);
  }

  private async readSources(): Promise<void> {
    const { queues, fetchLog } = this.sources;
    await Promise.all([queues && this.readQueues(queues), fetchLog && this.readFetchLog(fetchLog)]);
  }

  private async readQueues(queues: readonly Queue[]): Promise<void> {
    try {
      const read = await Promise.all(
        queues.map(async (q) => ({
          name: q.name,
          counts: await q.getJobCounts(...JOB_STATES),
          paused: await q.isPaused(),
        })),
      );
      this.queueJobs.reset();
      this.queuePaused.reset();
      for (const { name, counts, paused } of read) {
        for (const state of JOB_STATES) this.queueJobs.set({ queue: name, state }, counts[state] ?? 0);
        this.queuePaused.set({ queue: name }, paused ? 1 : 0);
      }
      this.sourceUp.set({ source: 'redis' }, 1);
    } catch {
      // An unreachable Redis must not turn the whole scrape into a 500, nor leave stale counts that look current.
      this.queueJobs.reset();
      this.queuePaused.reset();
      this.sourceUp.set({ source: 'redis' }, 0);
    }
  }

  private async readFetchLog(fetchLog: Pick<FetchLog, 'totals'>): Promise<void> {
    try {
      const rows = await fetchLog.totals();
      this.runs.reset();
      this.bills.reset();
      this.lastSuccess.reset();
      for (const r of rows) {
        this.runs.set({ job_kind: r.jobKind, status: r.status }, r.runs);
        for (const outcome of ['created', 'updated', 'unchanged', 'errors'] as const) {
          this.bills.inc({ job_kind: r.jobKind, outcome }, r[outcome]);
        }
        if (r.lastSuccess !== null) this.lastSuccess.set({ job_kind: r.jobKind }, r.lastSuccess);
      }
      this.sourceUp.set({ source: 'postgres' }, 1);
    } catch {
      this.runs.reset();
      this.bills.reset();
      this.lastSuccess.reset();
      this.sourceUp.set({ source: 'postgres' }, 0);
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
