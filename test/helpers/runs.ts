// Reading a run's bookkeeping from PostgreSQL in tests: its checkpoint (src/stores/run-checkpoints.ts), by job.
import type { Job } from 'bullmq';
import type pg from 'pg';
import type { RunState } from '../../src/ingest/run.js';

/** The key a job's runs are recorded under (workers/run-job.ts builds the same). */
export function jobKeyOf(job: Pick<Job, 'queueName' | 'id' | 'timestamp'>): string {
  return `${job.queueName}/${job.id}/${job.timestamp}`;
}

/** The checkpoint of the job's current run, if it has one (none before its first page, none once recorded). */
export async function checkpointOf(
  pool: pg.Pool,
  job: Pick<Job, 'queueName' | 'id' | 'timestamp'>,
): Promise<RunState | undefined> {
  const { rows } = await pool.query<{ state: RunState }>(
    'SELECT state FROM run_checkpoints WHERE job_key = $1 ORDER BY run_seq DESC LIMIT 1',
    [jobKeyOf(job)],
  );
  return rows[0]?.state;
}
