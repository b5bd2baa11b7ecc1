// Every write of an ingest run, fenced. One PostgreSQL transaction per page holds the page's bills (PostgreSQL
// store), the run's checkpoint and the page's change-feed rows, and checks before committing that the run still holds
// its lease (RunLeases.assertHeld): a worker that lost the run (frozen past its lock, then woken) is refused by the
// database and commits nothing. The fetch log row is written the same way, and its unique (job_key, run_seq) index
// makes a second row for one run impossible.
//
// With the MongoDB store the bills cannot join that transaction: the lease is checked just before the bulk write and
// the change rows and checkpoint follow in a fenced PostgreSQL transaction. A worker frozen between that check and its
// bulk write can still write bills once after losing the run (the same upstream data, upserted idempotently); its
// change rows and checkpoint are refused. docs/operations.md ("Fencing") says so.
import type pg from 'pg';
import { withClient } from '../db.js';
import type { Bill } from '../bills/bill.js';
import { countStatusChanges } from '../bills/changes.js';
import type { BillStore, UpsertResult } from './bill-store.js';
import type { ChangeFeed } from './change-feed.js';
import type { FetchLog, FetchLogEntry } from './fetch-log.js';
import type { RunCheckpoints } from './run-checkpoints.js';
import { FencedOffError, type Lease, type RunLeases } from './run-leases.js';

export interface RunStores {
  pool: pg.Pool;
  billStore: BillStore;
  fetchLog: FetchLog;
  changes: ChangeFeed;
  checkpoints: RunCheckpoints;
  leases: RunLeases;
}

/**
 * A fenced transaction whose client freezes (SIGSTOP, a long GC pause) holds row locks the run's new owner needs;
 * PostgreSQL ends such a session after this long idle inside the transaction, so a frozen worker delays the takeover
 * by at most this much and never blocks it for good.
 */
export const FENCED_TX_IDLE_TIMEOUT_MS = 10_000;

/**
 * How long a page written early waits, idle in its transaction, for the previous page to commit before it rolls back
 * and waits outside a transaction instead: well inside FENCED_TX_IDLE_TIMEOUT_MS, after which PostgreSQL would end
 * the session. The previous page takes milliseconds unless it waits on a lock (another worker taking the run over).
 */
export const PREVIOUS_PAGE_WAIT_MS = FENCED_TX_IDLE_TIMEOUT_MS / 2;

/** The previous page did not commit within PREVIOUS_PAGE_WAIT_MS (internal: writePage then waits and writes afresh). */
class PreviousPageSlowError extends Error {
  constructor() {
    super(`the previous page did not commit within ${PREVIOUS_PAGE_WAIT_MS} ms`);
    this.name = 'PreviousPageSlowError';
  }
}

async function previousPageWithin(previous: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PreviousPageSlowError()), ms);
  });
  try {
    await Promise.race([previous, late]);
  } finally {
    clearTimeout(timer);
  }
}

export class RunWriter {
  /** The previous page was mostly new or changed bills (a first backfill): the next one likely is too. */
  private lastPageMostlyChanged = false;

  constructor(
    private readonly stores: RunStores,
    readonly lease: Lease,
    private readonly meta: { jobKind: string; jobId: string | undefined },
  ) {}

  /**
   * Writes one page and the run's next state. `next` turns the store's result into the state to checkpoint (the
   * counters after this page); it runs inside the transaction, and its result is returned once committed.
   *
   * `after` is the previous page's write, still in flight (the run writes two pages at once): this page's bills are
   * upserted at once, alongside the end of the previous page's transaction, and everything that orders the run (its
   * state, the checkpoint, the change rows, the commit) waits until the previous page has committed. If it fails,
   * this page rolls back with it. So pages commit in order and a checkpoint never passes a page that did not commit.
   */
  async writePage<S>(
    bills: readonly Bill[],
    newlySeen: readonly string[],
    next: (write: UpsertResult & { statusChanges: number }) => S,
    after?: Promise<unknown>,
  ): Promise<{ write: UpsertResult; state: S }> {
    const { billStore } = this.stores;
    const run = this.lease.run;
    if (billStore.joinsRunTransaction) {
      // A second connection only if one is free now: a run never makes another run (or itself) wait for one.
      if (after && !this.hasFreeConnection()) await after;
      try {
        return await this.fenced(
          async (tx) => {
            const write = await billStore.upsertBills(bills, { tx, mostlyChanged: this.lastPageMostlyChanged });
            this.lastPageMostlyChanged = write.created + write.updated > write.unchanged;
            if (after) await previousPageWithin(after, PREVIOUS_PAGE_WAIT_MS);
            const state = next({ ...write, statusChanges: countStatusChanges(write.changes) });
            await this.stores.checkpoints.save(tx, run, this.meta, state, newlySeen);
            return { write, state };
          },
          (tx, { write }) => this.stores.changes.append(tx, run, this.meta, write.changes),
        );
      } catch (err) {
        if (!(err instanceof PreviousPageSlowError)) throw err;
        // Rolled back before PostgreSQL ends this idle transaction (FENCED_TX_IDLE_TIMEOUT_MS): write it afresh
        // once the previous page is done, as if it had never been started early.
        await after;
        return this.writePage(bills, newlySeen, next);
      }
    }
    if (after) await after;
    if (!(await this.stores.leases.isHeld(this.lease))) throw new FencedOffError(this.lease);
    const write = await billStore.upsertBills(bills);
    const state = next({ ...write, statusChanges: countStatusChanges(write.changes) });
    return this.fenced(
      async (tx) => {
        await this.stores.checkpoints.save(tx, run, this.meta, state, newlySeen);
        return { write, state };
      },
      (tx) => this.stores.changes.append(tx, run, this.meta, write.changes),
    );
  }

  private hasFreeConnection(): boolean {
    const { pool } = this.stores;
    return pool.idleCount > 0 || pool.totalCount < (pool.options.max ?? 10);
  }

  /** Records the run in the fetch log and drops its checkpoint; `inserted: false` if this run was already recorded. */
  async record(entry: Omit<FetchLogEntry, 'run'>): Promise<{ id: string | null; inserted: boolean }> {
    return this.fenced(async (tx) => {
      const recorded = await this.stores.fetchLog.record(tx, { ...entry, run: this.lease.run });
      await this.stores.checkpoints.delete(tx, this.lease.run);
      return recorded;
    });
  }

  /**
   * Runs `body` in a transaction that commits only while this run holds its lease: the check locks the lease's row
   * until the commit, so a worker taking the run over waits for this commit, or this transaction fails. `feed` runs
   * after the check, just before the commit: the change feed's append takes a lock that serialises every writing run
   * (ChangeFeed.append), so it comes last and holds that lock as briefly as it can.
   */
  private async fenced<T>(
    body: (tx: pg.PoolClient) => Promise<T>,
    feed?: (tx: pg.PoolClient, result: T) => Promise<unknown>,
  ): Promise<T> {
    return withClient(this.stores.pool, async (tx) => {
      try {
        // One round trip for both (a simple query may hold several statements).
        await tx.query(`BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${FENCED_TX_IDLE_TIMEOUT_MS}`);
        const result = await body(tx);
        await this.stores.leases.assertHeld(tx, this.lease);
        await feed?.(tx, result);
        await tx.query('COMMIT');
        return result;
      } catch (err) {
        const rolledBack = await tx.query('ROLLBACK').then(
          () => true,
          () => false, // the session is gone: PostgreSQL ended it while this worker was frozen
        );
        // A session that ended under a frozen worker means another worker may own the run now: ask the lease.
        if (
          !(err instanceof FencedOffError) &&
          !rolledBack &&
          !(await this.stores.leases.isHeld(this.lease).catch(() => true))
        ) {
          throw new FencedOffError(this.lease);
        }
        throw err;
      }
    });
  }
}
