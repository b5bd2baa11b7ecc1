// Bull Board shows every completed job alike, in green: a run that rejected rows or stored bills un-enriched looked
// like a clean one until its return value was unfolded. Two adapter options of Bull Board 9 mark it in its own views
// (the job list and the job page) without changing the job: the name formatter adds "PARTIAL: 9 rows rejected" (or
// "stopped at its limit") to the name shown, and externalJobUrl links the job to its runs in the fetch log. The job's
// Logs tab already lists each rejected row ("rejected <where>: <reason>", workers/ingest-job.ts).
import { joinPath } from './html.js';

/** What Bull Board hands its formatters: the job's JSON (BullMQ Job#toJSON). Only these fields are read. */
export interface JobJson {
  id?: string | number | null;
  name?: string;
  returnvalue?: unknown;
}

interface RunOutcome {
  status: 'success' | 'partial' | 'error';
  error_count: number;
  enrichment_failed: boolean;
  truncated: boolean;
}

/** The run summary a fetch-bills / backfill-session job returned, if this job's return value is one. */
export function runOutcomeOf(returnvalue: unknown): RunOutcome | null {
  let value = returnvalue;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return null;
    }
  }
  if (value === null || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  if (v.status !== 'success' && v.status !== 'partial' && v.status !== 'error') return null;
  if (typeof v.job_kind !== 'string') return null;
  return {
    status: v.status,
    error_count: typeof v.error_count === 'number' ? v.error_count : 0,
    enrichment_failed: v.enrichment_failed === true,
    truncated: v.truncated === true,
  };
}

/** The name Bull Board shows: the job's own, plus what made its run partial, or that it stopped at its limit. */
export function markedJobName(job: JobJson): string {
  const name = job.name ?? '';
  const run = runOutcomeOf(job.returnvalue);
  if (!run) return name;
  if (run.status === 'partial') {
    const why = [
      run.error_count > 0 ? `${run.error_count} ${run.error_count === 1 ? 'row' : 'rows'} rejected` : '',
      run.enrichment_failed ? 'LEGISinfo not read, bills stored un-enriched' : '',
    ].filter(Boolean);
    return `${name} · PARTIAL${why.length ? `: ${why.join('; ')}` : ''}`;
  }
  if (run.truncated) return `${name} · stopped at its limit (truncated)`;
  return name;
}

/** The job's runs in the fetch log ({base}/runs?kind=…&job=…), for jobs that returned a run summary. */
export function runsLinkFor(basePath: string, queue: string) {
  return (job: JobJson): { displayText: string; href: string } | undefined => {
    if (!runOutcomeOf(job.returnvalue) || job.id === undefined || job.id === null) return undefined;
    const q = new URLSearchParams({ kind: queue, job: String(job.id) });
    return { displayText: 'Run in the fetch log', href: `${joinPath(basePath, 'runs')}?${q.toString()}` };
  };
}
