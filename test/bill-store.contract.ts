// The one contract every BillStore passes (test/bill-store-postgres.test.ts, test/bill-store-mongo.test.ts): the
// created / updated / unchanged counts, the enrichment rules, timestamps, unicode, concurrency and page size are
// the same whichever store BILL_STORE picks.
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, beforeEach, describe, test } from 'node:test';
import { makeBill, type Bill, type BillEnrichment } from '../src/bills/bill.js';
import { DuplicateBillKeyError, type BillStore, type StoredBill, type UpsertResult } from '../src/stores/bill-store.js';

export interface ContractHarness {
  store: BillStore;
  /** Empties the store between tests (its indexes / constraints stay). */
  reset(): Promise<void>;
  /** Another store on its own connection to the same data; the harness closes it in close(). */
  otherConnection(): Promise<BillStore>;
  /** Closes every connection it opened and removes the test data. */
  close(): Promise<void>;
}

type Source = Parameters<typeof makeBill>[0];

export function source(number: string, overrides: Partial<Source> = {}): Source {
  return {
    session: '44-1',
    number,
    legisinfoId: 11_000_000 + Number(number.replace(/\D/g, '') || 0),
    titleEn: `An Act respecting ${number}`,
    titleFr: `Loi concernant ${number}`,
    introduced: '2022-02-02',
    url: `/bills/44-1/${number}/`,
    ...overrides,
  };
}

export function enrichment(statusEn: string, overrides: Partial<BillEnrichment> = {}): BillEnrichment {
  return {
    shortTitleEn: 'Short title',
    shortTitleFr: 'Titre abrégé',
    statusEn,
    statusFr: `${statusEn} (fr)`,
    sponsorEn: 'Hon. Pablo Rodriguez',
    billTypeEn: 'Government Bill',
    royalAssent: null,
    latestActivityAt: '2022-06-01',
    ...overrides,
  };
}

function page(count: number, session = '44-1', enriched = true): Bill[] {
  return Array.from({ length: count }, (_, i) =>
    makeBill(
      source(`C-${i + 1}`, { session, url: `/bills/${session}/C-${i + 1}/` }),
      enriched ? enrichment('At second reading') : null,
    ),
  );
}

/** What getBill must give back for `bill`: the bill itself plus timestamps. */
/** The three counts of an upsert, without its change list (asserted separately). */
function counts(r: UpsertResult): Omit<UpsertResult, 'changes'> {
  const { changes: _changes, ...rest } = r;
  return rest;
}

function withoutTimestamps(stored: StoredBill | null): Bill | null {
  if (!stored) return null;
  const { firstSeenAt: _f, updatedAt: _u, ...bill } = stored;
  return bill;
}

/**
 * Waits until 2 ms have passed since it was called (just after a write), so that a timestamp a later write sets is
 * visibly later: timestamps read back with millisecond precision, from the store's clock (PostgreSQL's now(), the
 * MongoDB store's Date). The clock moving is the event; no process announces it. Elapsed time, not this process's
 * clock, because the database's clock may differ from it.
 */
async function clockMoves(): Promise<void> {
  const start = performance.now();
  while (performance.now() - start < 2) await delay(1);
}

async function stored(store: BillStore, bill: Pick<Bill, 'session' | 'number'>): Promise<StoredBill> {
  const found = await store.getBill(bill.session, bill.number);
  assert.ok(found, `${bill.session}/${bill.number} should be stored`);
  return found;
}

export function billStoreContract(
  name: string,
  makeStore: () => Promise<ContractHarness>,
  options: { skip?: string } = {},
): void {
  describe(name, { skip: options.skip }, () => {
    let h: ContractHarness;
    let store: BillStore;

    before(async () => {
      h = await makeStore();
      store = h.store;
    });
    after(async () => {
      await h?.close();
    });
    beforeEach(async () => {
      await h.reset();
    });

    test('init can run again (every process calls it at start)', async () => {
      await store.init();
      await store.init();
    });

    test('an empty page writes nothing', async () => {
      assert.deepEqual(counts(await store.upsertBills([])), { created: 0, updated: 0, unchanged: 0 });
    });

    test('new bills are created and read back exactly, with both timestamps set to the same moment', async () => {
      const before = Date.now();
      const bills = [
        makeBill(source('C-11'), enrichment('Royal assent received', { royalAssent: '2023-04-27' })),
        makeBill(source('C-12', { legisinfoId: null, titleFr: null, introduced: null, url: null }), null),
        makeBill(source('S-5'), enrichment('At committee', { shortTitleEn: null, sponsorEn: null })),
      ];
      assert.deepEqual(counts(await store.upsertBills(bills)), { created: 3, updated: 0, unchanged: 0 });
      for (const bill of bills) {
        const got = await stored(store, bill);
        assert.deepEqual(withoutTimestamps(got), bill);
        assert.ok(got.firstSeenAt instanceof Date && got.updatedAt instanceof Date);
        assert.equal(got.updatedAt.getTime(), got.firstSeenAt.getTime());
        assert.ok(
          Math.abs(got.firstSeenAt.getTime() - before) < 60_000,
          `first_seen_at ${got.firstSeenAt.toISOString()} is now`,
        );
      }
    });

    test('the same page again is unchanged and touches no timestamp', async () => {
      const bills = page(3);
      await store.upsertBills(bills);
      const first = await stored(store, bills[0]!);
      await clockMoves();
      assert.deepEqual(counts(await store.upsertBills(bills)), { created: 0, updated: 0, unchanged: 3 });
      const again = await stored(store, bills[0]!);
      assert.equal(again.updatedAt.getTime(), first.updatedAt.getTime());
      assert.equal(again.firstSeenAt.getTime(), first.firstSeenAt.getTime());
    });

    test('a changed title or status is updated: updated_at moves, first_seen_at stays', async () => {
      const original = makeBill(source('C-11'), enrichment('At second reading'));
      const other = makeBill(source('C-12'), enrichment('At second reading'));
      await store.upsertBills([original, other]);
      const first = await stored(store, original);
      await clockMoves();

      const retitled = makeBill(
        source('C-11', { titleEn: 'An Act to amend the Broadcasting Act (amended)' }),
        enrichment('At second reading'),
      );
      const restatused = makeBill(source('C-12'), enrichment('At third reading'));
      assert.deepEqual(counts(await store.upsertBills([retitled, restatused])), {
        created: 0,
        updated: 2,
        unchanged: 0,
      });

      const after = await stored(store, retitled);
      assert.deepEqual(withoutTimestamps(after), retitled);
      assert.deepEqual(withoutTimestamps(await stored(store, restatused)), restatused);
      assert.equal(after.firstSeenAt.getTime(), first.firstSeenAt.getTime());
      assert.ok(after.updatedAt.getTime() > first.updatedAt.getTime(), 'updated_at moved forward');
    });

    test('a mixed page counts created, updated and unchanged separately', async () => {
      const [a, b] = [makeBill(source('C-1'), null), makeBill(source('C-2'), null)];
      await store.upsertBills([a!, b!]);
      const changedB = makeBill(source('C-2', { titleEn: 'Renamed' }), null);
      const newC = makeBill(source('C-3'), null);
      assert.deepEqual(counts(await store.upsertBills([a!, changedB, newC])), { created: 1, updated: 1, unchanged: 1 });
    });

    test('the change feed entries: created with every value from null, updated with from/to per changed field, none when unchanged', async () => {
      const bill = makeBill(source('C-11'), enrichment('At second reading'));
      const created = await store.upsertBills([bill]);
      assert.equal(created.changes.length, 1);
      const [c] = created.changes;
      assert.equal(c!.kind, 'created');
      assert.deepEqual([c!.session, c!.number], ['44-1', 'C-11']);
      assert.deepEqual(c!.changes.status_en, { from: null, to: 'At second reading' });
      assert.deepEqual(c!.changes.title_en, { from: null, to: bill.titleEn });
      assert.deepEqual(c!.changes.legisinfo_id, { from: null, to: bill.legisinfoId });
      assert.equal(c!.changes.royal_assent, undefined, 'a field with no value is not listed for a new bill');

      assert.deepEqual((await store.upsertBills([bill])).changes, [], 'unchanged: no entry');

      const moved = makeBill(
        source('C-11', { titleEn: 'A corrected title' }),
        enrichment('Royal assent received', { royalAssent: '2023-04-27' }),
      );
      const updated = await store.upsertBills([moved]);
      assert.deepEqual(updated.changes, [
        {
          session: '44-1',
          number: 'C-11',
          kind: 'updated',
          changes: {
            title_en: { from: bill.titleEn, to: 'A corrected title' },
            status_en: { from: 'At second reading', to: 'Royal assent received' },
            status_fr: { from: 'At second reading (fr)', to: 'Royal assent received (fr)' },
            royal_assent: { from: null, to: '2023-04-27' },
          },
        },
      ]);

      // Un-enriched (LEGISinfo down): only OpenParliament fields can change; the stored status is kept, not "changed".
      const bare = makeBill(source('C-11', { titleEn: 'Retitled again' }), null);
      assert.deepEqual((await store.upsertBills([bare])).changes, [
        {
          session: '44-1',
          number: 'C-11',
          kind: 'updated',
          changes: { title_en: { from: 'A corrected title', to: 'Retitled again' } },
        },
      ]);
    });

    test('blank names are stored as NULL and read back as NULL, and a name that appears later is a change', async () => {
      const frenchOnly = makeBill(source('C-300', { titleEn: null, titleFr: 'Loi concernant…' }), null);
      const nameless = makeBill(source('C-301', { titleEn: null, titleFr: null, introduced: null }), null);
      assert.deepEqual(counts(await store.upsertBills([frenchOnly, nameless])), {
        created: 2,
        updated: 0,
        unchanged: 0,
      });
      assert.equal((await stored(store, frenchOnly)).titleEn, null);
      assert.equal((await stored(store, nameless)).titleFr, null);
      const named = makeBill(source('C-301', { titleEn: 'An Act to name it', titleFr: null, introduced: null }), null);
      assert.deepEqual((await store.upsertBills([named])).changes[0]?.changes, {
        title_en: { from: null, to: 'An Act to name it' },
      });
    });

    test('an un-enriched bill keeps the stored enrichment and is compared on its OpenParliament fields only', async () => {
      const enriched = makeBill(source('C-11'), enrichment('Royal assent received', { royalAssent: '2023-04-27' }));
      await store.upsertBills([enriched]);
      const first = await stored(store, enriched);
      await clockMoves();

      // LEGISinfo down, same OpenParliament data: nothing to write.
      const sameSourceNoEnrichment = makeBill(source('C-11'), null);
      assert.deepEqual(counts(await store.upsertBills([sameSourceNoEnrichment])), {
        created: 0,
        updated: 0,
        unchanged: 1,
      });
      const kept = await stored(store, enriched);
      assert.deepEqual(withoutTimestamps(kept), enriched, 'enrichment, enriched and content hash are all kept');
      assert.equal(kept.updatedAt.getTime(), first.updatedAt.getTime());

      // LEGISinfo down and the title changed: the OpenParliament fields move, the enrichment stays.
      const retitled = makeBill(source('C-11', { titleEn: 'Online Streaming Act' }), null);
      assert.deepEqual(counts(await store.upsertBills([retitled])), { created: 0, updated: 1, unchanged: 0 });
      const moved = await stored(store, retitled);
      assert.equal(moved.titleEn, 'Online Streaming Act');
      assert.equal(moved.sourceHash, retitled.sourceHash);
      assert.equal(moved.statusEn, 'Royal assent received');
      assert.equal(moved.royalAssent, '2023-04-27');
      assert.equal(moved.enriched, true, 'once enriched, always enriched');
      assert.equal(moved.contentHash, enriched.contentHash, 'the content hash is the one of the stored enrichment');
      assert.ok(moved.updatedAt.getTime() > first.updatedAt.getTime());

      // LEGISinfo back with the same status: the content hash now differs (new title), so the row is rewritten.
      const reEnriched = makeBill(
        source('C-11', { titleEn: 'Online Streaming Act' }),
        enrichment('Royal assent received', { royalAssent: '2023-04-27' }),
      );
      assert.deepEqual(counts(await store.upsertBills([reEnriched])), { created: 0, updated: 1, unchanged: 0 });
      assert.deepEqual(withoutTimestamps(await stored(store, reEnriched)), reEnriched);
    });

    test('a bill first stored un-enriched takes its enrichment later, and keeps it', async () => {
      const bare = makeBill(source('C-21'), null);
      assert.deepEqual(counts(await store.upsertBills([bare])), { created: 1, updated: 0, unchanged: 0 });
      assert.equal((await stored(store, bare)).enriched, false);

      const enriched = makeBill(source('C-21'), enrichment('At report stage'));
      assert.deepEqual(counts(await store.upsertBills([enriched])), { created: 0, updated: 1, unchanged: 0 });
      assert.deepEqual(withoutTimestamps(await stored(store, enriched)), enriched);

      assert.deepEqual(counts(await store.upsertBills([bare])), { created: 0, updated: 0, unchanged: 1 });
      const after = await stored(store, bare);
      assert.equal(after.enriched, true);
      assert.equal(after.statusEn, 'At report stage');
    });

    test('LEGISinfo knowing a bill but with every field empty hashes like no enrichment: unchanged, still un-enriched', async () => {
      const bare = makeBill(source('C-22'), null);
      await store.upsertBills([bare]);
      const emptyEnrichment = makeBill(
        source('C-22'),
        enrichment('', {
          shortTitleEn: null,
          shortTitleFr: null,
          statusEn: null,
          statusFr: null,
          sponsorEn: null,
          billTypeEn: null,
          latestActivityAt: null,
        }),
      );
      assert.equal(emptyEnrichment.contentHash, bare.contentHash);
      assert.deepEqual(counts(await store.upsertBills([emptyEnrichment])), { created: 0, updated: 0, unchanged: 1 });
      assert.equal((await stored(store, bare)).enriched, false);
    });

    test('a page that repeats a key breaks the precondition: DuplicateBillKeyError, and nothing of the page is written', async () => {
      const a = makeBill(source('C-1'), null);
      const b = makeBill(source('C-2'), null);
      const conflicting = makeBill(source('C-1', { titleEn: 'Another title' }), null);
      await assert.rejects(store.upsertBills([a, b, conflicting]), (err: unknown) => {
        assert.ok(err instanceof DuplicateBillKeyError, `expected DuplicateBillKeyError, got ${String(err)}`);
        assert.equal(err.key, '44-1/C-1');
        assert.match(err.message, /44-1\/C-1 appears more than once/);
        return true;
      });
      await assert.rejects(store.upsertBills([a, a]), DuplicateBillKeyError, 'an identical repeat is rejected too');
      assert.equal(await store.countBySession('44-1'), 0);
    });

    test('unicode titles come back byte for byte (accents, combining marks, curly quotes, emoji, CJK)', async () => {
      const titles = {
        titleEn: 'An Act respecting “online streaming” — the ‘Bill’ 🇨🇦 👩🏽‍⚖️',
        titleFr: 'Loi modifiant la Loi sur la radiodiffusion — « diffusion en continu » : élèves, Œuvre, ça, naïve',
      };
      const decomposed = 'Cafe\u0301 Que\u0301bec'; // NFD: must not be normalised to NFC
      const cjk = '加拿大议会法案 · 캐나다 법안 · カナダ法案';
      const bill = makeBill(
        source('C-99', titles),
        enrichment('À l’étape du rapport', { shortTitleEn: decomposed, shortTitleFr: cjk }),
      );
      await store.upsertBills([bill]);
      const got = await stored(store, bill);
      for (const [field, want] of [
        ['titleEn', titles.titleEn],
        ['titleFr', titles.titleFr],
        ['shortTitleEn', decomposed],
        ['shortTitleFr', cjk],
        ['statusEn', 'À l’étape du rapport'],
      ] as const) {
        assert.deepEqual(Buffer.from(got[field] ?? '', 'utf8'), Buffer.from(want, 'utf8'), `${field} is byte-exact`);
      }
      assert.deepEqual(
        counts(await store.upsertBills([bill])),
        { created: 0, updated: 0, unchanged: 1 },
        'and hashes the same next time',
      );
    });

    test('two connections upserting the same page at once create each bill exactly once', async () => {
      const other = await h.otherConnection();
      for (const session of ['44-1', '43-2', '42-1']) {
        const bills = page(300, session);
        const [a, b] = await Promise.all([store.upsertBills(bills), other.upsertBills(bills)]);
        assert.equal(a.created + b.created, 300, `${session}: created adds up to the page (${JSON.stringify([a, b])})`);
        assert.equal(a.updated + b.updated, 0);
        assert.equal(a.created + a.unchanged, 300);
        assert.equal(b.created + b.unchanged, 300);
        assert.equal(await store.countBySession(session), 300, 'no duplicates');

        const changed = bills.map((bill) =>
          makeBill(
            source(bill.number, { session, url: bill.url, titleEn: `${bill.titleEn} (amended)` }),
            enrichment('At second reading'),
          ),
        );
        const [c, d] = await Promise.all([store.upsertBills(changed), other.upsertBills(changed)]);
        assert.equal(c.updated + d.updated, 300, `${session}: each change is written once (${JSON.stringify([c, d])})`);
        assert.equal(c.created + d.created, 0);
        assert.equal(c.changes.length + d.changes.length, 300, 'each change reported once, by the writer that made it');
        assert.equal(await other.countBySession(session), 300);
        assert.equal((await other.getBill(session, 'C-150'))?.titleEn, 'An Act respecting C-150 (amended)');
      }
    });

    test('a 1,000-bill page goes in one call, and comes back unchanged, then partly updated', async () => {
      const bills = page(1000);
      assert.deepEqual(counts(await store.upsertBills(bills)), { created: 1000, updated: 0, unchanged: 0 });
      assert.equal(await store.countBySession('44-1'), 1000);
      assert.deepEqual(counts(await store.upsertBills(bills)), { created: 0, updated: 0, unchanged: 1000 });
      const everyTenthChanged = bills.map((bill, i) =>
        i % 10 === 0
          ? makeBill(source(bill.number, { titleEn: `${bill.titleEn}, as amended` }), enrichment('At second reading'))
          : bill,
      );
      assert.deepEqual(counts(await store.upsertBills(everyTenthChanged)), {
        created: 0,
        updated: 100,
        unchanged: 900,
      });
      assert.equal((await stored(store, bills[990]!)).titleEn, 'An Act respecting C-991, as amended');
    });

    test('countBySession and getBill tell sessions apart; an unknown bill is null', async () => {
      await store.upsertBills([...page(3, '44-1'), ...page(2, '43-2', false)]);
      assert.equal(await store.countBySession('44-1'), 3);
      assert.equal(await store.countBySession('43-2'), 2);
      assert.equal(await store.countBySession('41-1'), 0);
      assert.equal((await stored(store, { session: '43-2', number: 'C-1' })).url, '/bills/43-2/C-1/');
      assert.equal((await stored(store, { session: '43-2', number: 'C-1' })).enriched, false);
      assert.equal(await store.getBill('44-1', 'C-404'), null);
      assert.equal(await store.getBill('41-1', 'C-1'), null);
    });

    test('searchBills: a number in every session, words that begin title words in any case, newest first', async () => {
      const bill = (session: string, number: string, introduced: string | null, titles: Partial<Source>) =>
        makeBill(
          source(number, { session, introduced, url: `/bills/${session}/${number}/`, ...titles }),
          enrichment('At second reading', { shortTitleEn: null, shortTitleFr: null }),
        );
      await store.upsertBills([
        bill('44-1', 'C-11', '2022-02-02', {
          titleEn: 'An Act to amend the Broadcasting Act (online streaming)',
          titleFr: 'Loi modifiant la Loi sur la radiodiffusion',
        }),
        bill('44-1', 'C-21', '2022-05-30', {
          titleEn: 'An Act respecting firearms',
          titleFr: 'Loi sur les armes à feu',
        }),
        bill('44-1', 'S-5', null, { titleEn: 'Strengthening Environmental Protection for a Healthier Canada Act' }),
      ]);
      await store.upsertBills([
        makeBill(
          source('C-11', {
            session: '43-2',
            introduced: '2020-11-03',
            url: '/bills/43-2/C-11/',
            titleEn: 'Digital Charter Implementation Act',
            titleFr: 'Loi de mise en œuvre de la Charte du numérique',
          }),
          enrichment('Dissolution', { shortTitleEn: 'Online privacy and data', shortTitleFr: 'Matière numérique' }),
        ),
        bill('45-1', 'C-2', '2025-06-05', { titleEn: null, titleFr: 'Loi visant une sécurité accrue à la frontière' }),
      ]);
      const keys = (bills: StoredBill[]) => bills.map((b) => `${b.session}/${b.number}`);

      assert.deepEqual(keys(await store.searchBills({ number: 'C-11', limit: 10 })), ['44-1/C-11', '43-2/C-11']);
      assert.deepEqual(keys(await store.searchBills({ number: 'C-11', session: '43-2', limit: 10 })), ['43-2/C-11']);
      assert.deepEqual(keys(await store.searchBills({ number: 'C-404', limit: 10 })), []);
      const c11 = (await store.searchBills({ number: 'C-11', session: '44-1', limit: 1 }))[0];
      assert.deepEqual(withoutTimestamps(c11 ?? null), withoutTimestamps(await store.getBill('44-1', 'C-11')));

      assert.deepEqual(keys(await store.searchBills({ words: ['stream'], limit: 10 })), ['44-1/C-11'], 'a prefix');
      assert.deepEqual(keys(await store.searchBills({ words: ['ONLINE'], limit: 10 })), ['44-1/C-11', '43-2/C-11']);
      assert.deepEqual(keys(await store.searchBills({ words: ['online', 'privacy'], limit: 10 })), ['43-2/C-11']);
      assert.deepEqual(keys(await store.searchBills({ words: ['line'], limit: 10 })), [], 'not inside a word');
      assert.deepEqual(keys(await store.searchBills({ words: ['online', 'firearms'], limit: 10 })), [], 'every word');
      assert.deepEqual(keys(await store.searchBills({ words: ['radiodiffusion'], limit: 10 })), ['44-1/C-11']);
      assert.deepEqual(keys(await store.searchBills({ words: ['matière'], limit: 10 })), ['43-2/C-11'], 'short titles');
      assert.deepEqual(keys(await store.searchBills({ words: ['sécurité'], limit: 10 })), ['45-1/C-2']);
      assert.deepEqual(keys(await store.searchBills({ words: ['(feu)', 'armes!'], limit: 10 })), ['44-1/C-21']);
      assert.deepEqual(
        keys(await store.searchBills({ words: ['act'], limit: 10 })),
        ['44-1/C-21', '44-1/C-11', '43-2/C-11', '44-1/S-5'],
        'newest introduced first, no date last',
      );
      assert.deepEqual(keys(await store.searchBills({ words: ['act'], limit: 2 })), ['44-1/C-21', '44-1/C-11']);
      assert.deepEqual(keys(await store.searchBills({ words: ['act'], session: '43-2', limit: 10 })), ['43-2/C-11']);
      assert.deepEqual(keys(await store.searchBills({ words: ['online'], number: 'C-11', limit: 10 })), [
        '44-1/C-11',
        '43-2/C-11',
      ]);
      assert.deepEqual(await store.searchBills({ limit: 10 }), [], 'nothing asked, nothing found');
      assert.deepEqual(await store.searchBills({ words: ['&', '|', ':*'], limit: 10 }), [], 'punctuation is no word');
    });
  });
}
