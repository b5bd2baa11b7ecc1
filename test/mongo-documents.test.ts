// The MongoDB store's filters, updates and documents, checked exactly and without a server, so CI exercises the
// logic that decides created / updated / unchanged even where the contract suite is skipped.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeBill } from '../src/bills/bill.js';
import {
  billUpsertOps,
  fromDocument,
  insertIfMissingOp,
  searchFilter,
  toDocument,
  updateIfChangedOp,
  type BillDocument,
} from '../src/stores/mongo-documents.js';
import { enrichment, source } from './bill-store.contract.js';

const now = new Date('2025-03-04T05:06:07.089Z');
const enriched = makeBill(source('C-11'), enrichment('Royal assent received', { royalAssent: '2023-04-27' }));
const bare = makeBill(source('C-12', { legisinfoId: null, titleFr: null, introduced: null, url: null }), null);

const enrichedSource = {
  legisinfo_id: 11_000_011,
  title_en: 'An Act respecting C-11',
  title_fr: 'Loi concernant C-11',
  introduced: '2022-02-02',
  url: '/bills/44-1/C-11/',
  source_hash: enriched.sourceHash,
};
const enrichedEnrichment = {
  short_title_en: 'Short title',
  short_title_fr: 'Titre abrégé',
  status_en: 'Royal assent received',
  status_fr: 'Royal assent received (fr)',
  sponsor_en: 'Hon. Pablo Rodriguez',
  bill_type_en: 'Government Bill',
  royal_assent: '2023-04-27',
  latest_activity_at: '2022-06-01',
};

describe('MongoDB bill documents', () => {
  test('toDocument uses the Postgres column names, dates as YYYY-MM-DD strings, one timestamp for both', () => {
    assert.deepEqual(toDocument(enriched, now), {
      session: '44-1',
      number: 'C-11',
      ...enrichedSource,
      ...enrichedEnrichment,
      enriched: true,
      content_hash: enriched.contentHash,
      first_seen_at: now,
      updated_at: now,
    } satisfies BillDocument);
  });

  test('document → StoredBill round trip gives back the bill and its timestamps', () => {
    for (const bill of [enriched, bare]) {
      assert.deepEqual(fromDocument(toDocument(bill, now)), { ...bill, firstSeenAt: now, updatedAt: now });
    }
  });

  test('fromDocument ignores _id and reads a missing optional field as null', () => {
    const { title_fr: _omitted, ...rest } = toDocument(bare, now);
    const withId = { _id: 'ignored', ...rest } as unknown as BillDocument;
    const got = fromDocument(withId);
    assert.equal(got.titleFr, null);
    assert.equal('_id' in got, false);
  });

  test('insert-if-missing: equality on the key only, everything else in $setOnInsert, upsert', () => {
    const { session: _s, number: _n, ...insert } = toDocument(enriched, now);
    assert.deepEqual(insertIfMissingOp(enriched, now), {
      updateOne: { filter: { session: '44-1', number: 'C-11' }, update: { $setOnInsert: insert }, upsert: true },
    });
    assert.equal(
      '$set' in (insertIfMissingOp(enriched, now) as { updateOne: { update: object } }).updateOne.update,
      false,
      'never modifies a match',
    );
  });

  test('update-if-changed, enriched: content_hash condition, every field set, enriched becomes true, no upsert', () => {
    assert.deepEqual(updateIfChangedOp(enriched, now), {
      updateOne: {
        filter: { session: '44-1', number: 'C-11', content_hash: { $ne: enriched.contentHash } },
        update: {
          $set: {
            ...enrichedSource,
            ...enrichedEnrichment,
            enriched: true,
            content_hash: enriched.contentHash,
            updated_at: now,
          },
        },
      },
    });
  });

  test('update-if-changed, un-enriched: source_hash condition, only OpenParliament fields and updated_at set', () => {
    const op = updateIfChangedOp(bare, now) as {
      updateOne: { filter: object; update: { $set: Record<string, unknown> } };
    };
    assert.deepEqual(op, {
      updateOne: {
        filter: { session: '44-1', number: 'C-12', source_hash: { $ne: bare.sourceHash } },
        update: {
          $set: {
            legisinfo_id: null,
            title_en: 'An Act respecting C-12',
            title_fr: null,
            introduced: null,
            url: null,
            source_hash: bare.sourceHash,
            updated_at: now,
          },
        },
      },
    });
    for (const kept of ['enriched', 'content_hash', 'status_en', 'royal_assent', 'first_seen_at']) {
      assert.equal(kept in op.updateOne.update.$set, false, `${kept} keeps its stored value`);
    }
  });

  test('a page becomes two operations per bill, in page order', () => {
    const ops = billUpsertOps([enriched, bare], now);
    assert.deepEqual(ops, [
      insertIfMissingOp(enriched, now),
      updateIfChangedOp(enriched, now),
      insertIfMissingOp(bare, now),
      updateIfChangedOp(bare, now),
    ]);
    assert.deepEqual(billUpsertOps([], now), []);
  });

  test('a search: session and number as equalities, each word a case-insensitive word start in any title field', () => {
    const wordStart = (w: string) => ({ $regex: `(?:^|[^\\p{L}\\p{N}])${w}`, $options: 'i' });
    const anyTitle = (w: string) => ({
      $or: ['title_en', 'title_fr', 'short_title_en', 'short_title_fr'].map((f) => ({ [f]: wordStart(w) })),
    });
    assert.deepEqual(searchFilter({ number: 'C-11', session: '44-1', words: ['Online', 'stream!'], limit: 5 }), {
      $and: [{ session: '44-1' }, { number: 'C-11' }, anyTitle('online'), anyTitle('stream')],
    });
    assert.deepEqual(searchFilter({ words: ['(.*)', 'a|b'], limit: 5 }), { $and: [anyTitle('a'), anyTitle('b')] });
    assert.equal(searchFilter({ limit: 5 }), null, 'nothing asked');
    assert.equal(searchFilter({ words: ['.*', '$'], limit: 5 }), null, 'no word in it');
  });
});
