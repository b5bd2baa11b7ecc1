// Fencing: who may write for a run. BullMQ's job lock says which worker should be running a job, but a worker that
// froze (GC pause, SIGSTOP, a stalled VM) wakes up still believing it owns the job after another worker took it
// over. So every run claims a lease in PostgreSQL when it starts or resumes, and every write of the run commits only
// if its claim is still the newest one: the database refuses the stale worker, not a flag in its own memory.
//
// A lease is per *lease key*, not per job: "fetch-bills" (one fetch-bills run at a time across the fleet) and
// "backfill-session:44-1" (one writer per session), so a new run of the same scope fences off any zombie of an
// older one too.
import type pg from 'pg';

export interface RunId {
  /** `${queue}/${jobId}/${job timestamp}`: one BullMQ job, across its attempts. */
  jobKey: string;
  /** 1 for the job's first run; a failed-for-good run that an operator retries starts run 2, and so on. */
  seq: number;
}

export interface Lease {
  key: string;
  epoch: number;
  run: RunId;
}

/** The lease was claimed by a newer run (or attempt) after this one: its writes are refused. */
export class FencedOffError extends Error {
  constructor(
    readonly lease: Lease,
    readonly holder?: { jobKey: string; seq: number; owner: string; epoch: number },
  ) {
    super(
      `fenced off: lease ${lease.key} was claimed by ${holder ? `${holder.owner} for ${holder.jobKey}#${holder.seq} (epoch ${holder.epoch})` : 'a newer run'} after this worker's claim (epoch ${lease.epoch}); this worker no longer owns the run and wrote nothing more`,
    );
    this.name = 'FencedOffError';
  }
}

export class RunLeases {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Takes the lease for `run`, fencing off every earlier claim. Called when a run starts and whenever an attempt
   * resumes it (another worker's, or this one's after a retry).
   */
  async claim(key: string, run: RunId, owner: string): Promise<Lease> {
    const { rows } = await this.pool.query<{ epoch: string }>(
      `INSERT INTO run_leases AS l (lease_key, epoch, job_key, run_seq, owner) VALUES ($1, 1, $2, $3, $4)
       ON CONFLICT (lease_key) DO UPDATE
         SET epoch = l.epoch + 1, job_key = EXCLUDED.job_key, run_seq = EXCLUDED.run_seq, owner = EXCLUDED.owner,
             claimed_at = now()
       RETURNING epoch`,
      [key, run.jobKey, run.seq, owner],
    );
    return { key, epoch: Number(rows[0]!.epoch), run };
  }

  /**
   * The last statement of every fenced transaction: succeeds only while `lease` is the newest claim. Under READ
   * COMMITTED the UPDATE re-reads the row a concurrent claim committed, so a claim that lands first makes this match
   * nothing; a claim that comes later waits for this transaction and then fences off whatever follows it.
   */
  async assertHeld(tx: pg.ClientBase, lease: Lease): Promise<void> {
    const { rowCount } = await tx.query(
      'UPDATE run_leases SET written_at = now() WHERE lease_key = $1 AND epoch = $2',
      [lease.key, lease.epoch],
    );
    if (rowCount !== 1) throw new FencedOffError(lease, await this.holder(tx, lease.key));
  }

  /** A cheap check before expensive work (downloading the next page): is this claim still the newest? */
  async isHeld(lease: Lease): Promise<boolean> {
    const { rows } = await this.pool.query<{ epoch: string }>('SELECT epoch FROM run_leases WHERE lease_key = $1', [
      lease.key,
    ]);
    return rows[0] !== undefined && Number(rows[0].epoch) === lease.epoch;
  }

  private async holder(db: pg.ClientBase, key: string): Promise<FencedOffError['holder']> {
    const { rows } = await db.query<{ job_key: string; run_seq: number; owner: string; epoch: string }>(
      'SELECT job_key, run_seq, owner, epoch FROM run_leases WHERE lease_key = $1',
      [key],
    );
    const r = rows[0];
    return r ? { jobKey: r.job_key, seq: r.run_seq, owner: r.owner, epoch: Number(r.epoch) } : undefined;
  }
}
