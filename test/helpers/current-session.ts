// The current session (45-1) as the upstream serves it in tests, and what the database must hold for it, worked out
// from the upstream's data independently of the ingest code: the oracle of the sync and new-fleet tests.
import type pg from 'pg';
import type { TrackedField } from '../../src/bills/changes.js';
import {
  fixtureBills,
  fixtureLegisInfo,
  type FixtureServer,
  type LegisInfoBill,
  type OpBill,
} from './fixture-server.js';

export const SESSION = '45-1';
const ID_OFFSET = 90_000_000;

/** Session 45-1 in the real shapes: the fixture bills moved to 45-1, LEGISinfo rows flagged current. */
export function currentSession(): { bills: OpBill[]; legisinfo: LegisInfoBill[] } {
  const bills = fixtureBills().map((b) => ({
    ...b,
    session: SESSION,
    url: `/bills/${SESSION}/${b.number}/`,
    legisinfo_id: b.legisinfo_id === null ? null : b.legisinfo_id + ID_OFFSET,
  }));
  const legisinfo = fixtureLegisInfo().map((r) => ({
    ...r,
    BillId: r.BillId + ID_OFFSET,
    ParlSessionCode: SESSION,
    IsFromCurrentSession: true,
  }));
  return { bills, legisinfo };
}

export type Row = Record<TrackedField, string | number | null>;

const blank = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
const date = (v: unknown): string | null =>
  typeof v === 'string' && /^\d{4}-\d\d-\d\d/.test(v) && !v.startsWith('0001-') ? v.slice(0, 10) : null;

/**
 * What the database must hold for the session, worked out here from the upstream's data (independently of the
 * ingest code): OpenParliament's fields, LEGISinfo's where it has the bill (else what an earlier sync stored).
 */
export function expectedRows(up: FixtureServer, previous: Map<string, Row> = new Map()): Map<string, Row> {
  const li = new Map((up.legisinfo.get(SESSION) ?? []).map((r) => [r.BillId, r]));
  const rows = new Map<string, Row>();
  for (const b of up.bills.filter((x) => x.session === SESSION)) {
    const r = b.legisinfo_id === null ? undefined : li.get(b.legisinfo_id);
    const kept = previous.get(b.number);
    rows.set(b.number, {
      legisinfo_id: b.legisinfo_id,
      title_en: blank(b.name.en),
      title_fr: blank(b.name.fr),
      introduced: b.introduced,
      url: b.url,
      short_title_en: r ? blank(r.ShortTitleEn) : (kept?.short_title_en ?? null),
      short_title_fr: r ? blank(r.ShortTitleFr) : (kept?.short_title_fr ?? null),
      status_en: r ? blank(r.CurrentStatusEn) : (kept?.status_en ?? null),
      status_fr: r ? blank(r.CurrentStatusFr) : (kept?.status_fr ?? null),
      sponsor_en: r ? blank(r.SponsorEn) : (kept?.sponsor_en ?? null),
      bill_type_en: r ? blank(r.BillTypeEn) : (kept?.bill_type_en ?? null),
      royal_assent: r ? date(r.ReceivedRoyalAssentDateTime) : (kept?.royal_assent ?? null),
      latest_activity_at: r ? date(r.LatestActivityDateTime) : (kept?.latest_activity_at ?? null),
    });
  }
  return rows;
}

/** The session's stored rows, by number, in the same shape. */
export async function storedRows(pool: pg.Pool): Promise<Map<string, Row>> {
  const { rows } = await pool.query<Row & { number: string }>(
    `SELECT number, legisinfo_id::int AS legisinfo_id, title_en, title_fr, introduced::text AS introduced, url,
            short_title_en, short_title_fr, status_en, status_fr, sponsor_en, bill_type_en,
            royal_assent::text AS royal_assent, latest_activity_at::text AS latest_activity_at
       FROM bills WHERE session = $1`,
    [SESSION],
  );
  return new Map(rows.map(({ number, ...row }) => [number, row]));
}
