// MongoDB bill store (BILL_STORE=mongodb): one `bills` collection, one unordered bulkWrite per page, the same
// created/updated/unchanged semantics as PostgresBillStore (the operations are built in mongo-documents.ts).
// Loaded on demand by create-bill-store.ts, so a PostgreSQL deployment never loads the driver.
import {
  MongoBulkWriteError,
  MongoClient,
  type AnyBulkWriteOperation,
  type Collection,
  type WriteError,
} from 'mongodb';
import type { Bill } from '../bills/bill.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { redactText, redactUrl } from '../redact.js';
import { errorLog } from '../rate-limited-log.js';
import {
  BillStoreUnavailableError,
  assertUniqueBillKeys,
  type BillSearch,
  type BillStore,
  type StoredBill,
  type UpsertOptions,
  type UpsertResult,
} from './bill-store.js';
import {
  BILLS_COLLECTION,
  BILL_INDEXES,
  CHANGE_PROJECTION,
  SEARCH_SORT,
  billUpsertOps,
  fromDocument,
  keyFilter,
  pageChanges,
  searchFilter,
  type BillDocument,
  type FoundDocument,
} from './mongo-documents.js';

const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 5_000;
const DUPLICATE_KEY = 11000;

export interface MongoStoreOptions {
  /**
   * How long to look for a usable server before an operation fails (the driver's default is 30 s). Precedence:
   * this option, then serverSelectionTimeoutMS in MONGODB_URL, then 5 s.
   */
  serverSelectionTimeoutMS?: number;
}

/**
 * The scheme and hosts of a MongoDB URL, for messages: never the user, the password or the options. Built on
 * redactUrl (src/redact.ts), so a password with an unescaped '/' does not leak either.
 */
export function mongoTarget(url: string): string {
  if (!/^mongodb(\+srv)?:\/\//.test(url)) return 'MongoDB (unrecognised URL)';
  const redacted = redactUrl(url).replace('://***@', '://');
  const scheme = redacted.slice(0, redacted.indexOf('://') + 3);
  return `${scheme}${redacted.slice(scheme.length).split(/[/?]/)[0]}`;
}

/** serverSelectionTimeoutMS from the URL's query (option names are case-insensitive there), if it sets one. */
function timeoutFromUrl(url: string): number | undefined {
  const query = url.split('?')[1];
  if (!query) return undefined;
  for (const [name, value] of new URLSearchParams(query)) {
    if (name.toLowerCase() === 'serverselectiontimeoutms' && /^\d+$/.test(value)) return Number(value);
  }
  return undefined;
}

/** A driver message without the URL's credentials, in case one ever echoes the connection string or the password. */
function redact(message: string, url: string): string {
  return redactText(message, url);
}

function writeErrorsOf(err: MongoBulkWriteError): readonly WriteError[] {
  const { writeErrors } = err;
  return Array.isArray(writeErrors) ? writeErrors : [writeErrors as WriteError];
}

export class MongoBillStore implements BillStore {
  readonly kind = 'mongodb' as const;
  readonly joinsRunTransaction = false;
  private readonly bills: Collection<BillDocument>;

  /** The client belongs to the store: close() closes it. */
  constructor(
    private readonly client: MongoClient,
    database: string,
    private readonly url: string,
    private readonly log: Logger,
  ) {
    this.bills = client.db(database).collection<BillDocument>(BILLS_COLLECTION);
  }

  async init(): Promise<void> {
    try {
      await this.bills.createIndexes(BILL_INDEXES);
    } catch (err) {
      if ((err as { code?: unknown }).code === DUPLICATE_KEY) {
        throw this.unavailable(
          new Error(
            `cannot create the unique index on ${BILLS_COLLECTION} {session, number}: the collection already holds ` +
              `several documents for one bill (${(err as Error).message}); remove the duplicates, or point ` +
              `MONGODB_DATABASE at a fresh database`,
          ),
        );
      }
      throw this.unavailable(err);
    }
  }

  /** MongoDB cannot join the fetch log's PostgreSQL transaction: `options.tx` is ignored (see RunWriter). */
  async upsertBills(bills: readonly Bill[], _options: UpsertOptions = {}): Promise<UpsertResult> {
    assertUniqueBillKeys(bills);
    if (bills.length === 0) return { created: 0, updated: 0, unchanged: 0, changes: [] };
    // The feed's `from` values: what the page's bills hold now (one query, key fields and tracked fields only).
    let found: FoundDocument[];
    try {
      found = await this.bills
        .find<FoundDocument>(
          { $or: bills.map((b) => keyFilter(b.session, b.number)) },
          { projection: CHANGE_PROJECTION },
        )
        .toArray();
    } catch (err) {
      throw this.unavailable(err);
    }
    const changes = pageChanges(bills, found);
    const ops = billUpsertOps(bills, new Date());
    const { created, updated } = await this.write(ops, true);
    return { created, updated, unchanged: bills.length - created - updated, changes };
  }

  async countBySession(session: string): Promise<number> {
    try {
      return await this.bills.countDocuments({ session });
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  async getBill(session: string, number: string): Promise<StoredBill | null> {
    let doc;
    try {
      doc = await this.bills.findOne(keyFilter(session, number), { projection: { _id: 0 } });
    } catch (err) {
      throw this.unavailable(err);
    }
    return doc ? fromDocument(doc) : null;
  }

  async searchBills(search: BillSearch): Promise<StoredBill[]> {
    const filter = searchFilter(search);
    if (filter === null) return [];
    try {
      const docs = await this.bills
        .find(filter, { projection: { _id: 0 } })
        .sort(SEARCH_SORT)
        .limit(search.limit)
        .toArray();
      return docs.map(fromDocument);
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /**
   * Runs the ops unordered. Every op is idempotent, so ops that failed with a duplicate key (an upsert that raced
   * another connection on a server that does not retry it itself) are run once more: the bill now exists and
   * the retry counts it as unchanged or updated, never twice as created.
   */
  private async write(
    ops: AnyBulkWriteOperation<BillDocument>[],
    retryDuplicates: boolean,
  ): Promise<{ created: number; updated: number }> {
    try {
      const result = await this.bills.bulkWrite(ops, { ordered: false });
      return { created: result.upsertedCount, updated: result.modifiedCount };
    } catch (err) {
      if (!(err instanceof MongoBulkWriteError) || err.err !== undefined) throw this.unavailable(err);
      const failed = writeErrorsOf(err);
      if (!retryDuplicates || failed.length === 0 || failed.some((e) => e.code !== DUPLICATE_KEY))
        throw this.unavailable(err);
      this.log.warn(
        { component: 'mongo-bill-store', ops: failed.length },
        'duplicate-key race on upsert; retrying those operations once',
      );
      const retried = await this.write(
        failed.map((e) => ops[e.index]!),
        false,
      );
      return {
        created: err.result.upsertedCount + retried.created,
        updated: err.result.modifiedCount + retried.updated,
      };
    }
  }

  private unavailable(err: unknown): BillStoreUnavailableError {
    const message = err instanceof Error ? err.message : String(err);
    return new BillStoreUnavailableError(
      'mongodb',
      new Error(`${mongoTarget(this.url)}: ${redact(message, this.url)}`),
    );
  }
}

/**
 * Connects (failing within serverSelectionTimeoutMS when MongoDB is unreachable, naming the host, never the
 * password), creates the indexes and returns a ready store. The caller closes it.
 */
export async function openMongoBillStore(
  settings: Config['mongodb'],
  log: Logger,
  options: MongoStoreOptions = {},
): Promise<MongoBillStore> {
  const { url, database } = settings;
  if (!url)
    throw new BillStoreUnavailableError('mongodb', new Error('MONGODB_URL is not set (BILL_STORE=mongodb needs it)'));
  const timeoutMs = options.serverSelectionTimeoutMS ?? timeoutFromUrl(url) ?? DEFAULT_SERVER_SELECTION_TIMEOUT_MS;
  const target = mongoTarget(url);

  let client: MongoClient;
  try {
    client = new MongoClient(url, { serverSelectionTimeoutMS: timeoutMs, appName: 'bill-fleet' });
  } catch (err) {
    throw new BillStoreUnavailableError(
      'mongodb',
      new Error(`MONGODB_URL (${target}) is not a valid connection string: ${redact((err as Error).message, url)}`),
    );
  }
  // The driver reports most trouble through rejected operations; this listener only keeps a stray 'error' event
  // from crashing the process, as for every other connection of the fleet.
  client.on('error', (err: Error) =>
    errorLog.error(log, { component: 'mongodb', err: redact(err.message, url) }, 'MongoDB client error'),
  );

  try {
    await client.connect();
  } catch (err) {
    await client.close().catch(() => undefined);
    throw new BillStoreUnavailableError(
      'mongodb',
      new Error(
        `cannot reach MongoDB at ${target} within ${timeoutMs / 1000} s: ${redact((err as Error).message, url)}`,
      ),
    );
  }

  const store = new MongoBillStore(client, database, url, log);
  try {
    await store.init();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  log.info({ component: 'mongodb', target, database }, 'MongoDB bill store ready');
  return store;
}
