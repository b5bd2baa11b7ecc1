// Unit tests of the pure parts of the schedules: what each job kind declares under a configuration (DESIGN.md's
// scheduler ids, their queues, `<ID_IN_UPPER_SNAKE>_CRON` overrides, "off"), and schedulerMatches, which decides
// whether `npm run schedules` leaves a stored scheduler untouched (a needless upsert drops a due run: see
// queues/schedules.ts). No server; test/schedules.test.ts then sees the same rules against BullMQ in Redis.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JobSchedulerJson } from 'bullmq';
import { getKind } from '../queues/index.js';
import { declaredSchedules, isOff, schedulerMatches, type DeclaredSchedule } from '../queues/schedules.js';
import { loadConfig } from '../src/config.js';

const byId = (schedules: DeclaredSchedule[], id: string): DeclaredSchedule => {
  const found = schedules.find((s) => s.id === id);
  assert.ok(found, `${id} is declared`);
  return found;
};

/** The scheduler BullMQ stores for `wanted`, as getJobScheduler reads it back (job options through JSON). */
function storedFor(wanted: DeclaredSchedule): JobSchedulerJson {
  const kind = getKind(wanted.queue);
  return {
    key: wanted.id,
    name: kind.name,
    pattern: wanted.pattern,
    tz: wanted.tz,
    next: Date.parse('2026-03-10T03:00:00Z'),
    iterationCount: 4,
    template: {
      data: structuredClone(wanted.data),
      opts: JSON.parse(JSON.stringify(kind.defaultJobOptions)) as Record<string, unknown>,
    },
  } as JobSchedulerJson;
}

describe('declared schedules', () => {
  test("the defaults: DESIGN.md's schedulers, each on its queue, in UTC, with its payload after the schema's defaults", () => {
    const declared = declaredSchedules(loadConfig({}));
    assert.deepEqual(declared.map((s) => [s.id, s.queue, s.pattern, s.tz]).sort(), [
      ['fetch-bills-daily', 'fetch-bills', '0 2 * * *', 'UTC'],
      ['fetch-bills-hourly', 'fetch-bills', '0 * * * *', 'UTC'],
      ['monitor-daily', 'monitor', '0 3 * * *', 'UTC'],
      ['sync-current-session', 'sync-current-session', '30 3 * * *', 'UTC'],
    ]);
    assert.deepEqual(byId(declared, 'fetch-bills-hourly').data, { limit: 50 });
    assert.deepEqual(byId(declared, 'fetch-bills-daily').data, { limit: 100 });
    assert.deepEqual(byId(declared, 'monitor-daily').data, { hoursBack: 24 });
    assert.deepEqual(
      declared.filter((s) => s.runOnCreate).map((s) => s.id),
      ['sync-current-session'],
      'only the sync runs once when its scheduler first appears',
    );
  });

  test('every schedule is overridden by <ID_IN_UPPER_SNAKE>_CRON: a 5- or 6-field pattern, or "off"', () => {
    for (const { id } of declaredSchedules(loadConfig({}))) {
      const variable = `${id.toUpperCase().replace(/-/g, '_')}_CRON`;
      const changed = byId(declaredSchedules(loadConfig({ [variable]: ' 15 4 * * 1 ' })), id);
      assert.equal(changed.pattern, '15 4 * * 1', `${variable} sets ${id}'s pattern, trimmed`);
      assert.equal(
        byId(declaredSchedules(loadConfig({ [variable]: '*/5 * * * * *' })), id).pattern,
        '*/5 * * * * *',
        `${variable} takes seconds`,
      );
      const off = byId(declaredSchedules(loadConfig({ [variable]: 'off' })), id);
      assert.ok(isOff(off), `${variable}=off switches ${id} off (declared, so the sync removes it)`);
    }
  });
});

describe('schedulerMatches (an unchanged scheduler is left alone)', () => {
  const declared = declaredSchedules(loadConfig({}));
  const hourly = byId(declared, 'fetch-bills-hourly');
  const kind = getKind('fetch-bills');

  test('the scheduler as stored matches its declaration, whatever its next run or key order', () => {
    for (const wanted of declared)
      assert.ok(schedulerMatches(storedFor(wanted), wanted, getKind(wanted.queue)), wanted.id);
    const reordered = storedFor(byId(declared, 'monitor-daily'));
    reordered.template = {
      data: { hoursBack: 24 },
      opts: Object.fromEntries(Object.entries(reordered.template!.opts!).reverse()),
    };
    assert.ok(schedulerMatches(reordered, byId(declared, 'monitor-daily'), getKind('monitor')));
  });

  test('job options compare as stored: a field left undefined in the declaration is no difference', () => {
    const stored = storedFor(hourly);
    const withUndefined = { ...kind, defaultJobOptions: { ...kind.defaultJobOptions, priority: undefined } };
    assert.ok(schedulerMatches(stored, hourly, withUndefined));
  });

  test('a stored scheduler without data matches a declaration whose payload is empty, and only that', () => {
    const stored = { ...storedFor(hourly), template: { opts: storedFor(hourly).template!.opts } };
    assert.ok(schedulerMatches(stored, { ...hourly, data: {} }, kind));
    assert.equal(schedulerMatches(stored, hourly, kind), false);
  });

  test('any difference that changes the runs is a change: pattern, time zone, every, job name, data, job options', () => {
    const changes: Array<[string, (s: JobSchedulerJson) => JobSchedulerJson]> = [
      ['pattern', (s) => ({ ...s, pattern: '30 * * * *' })],
      ['time zone', (s) => ({ ...s, tz: 'America/Toronto' })],
      ['every instead of a pattern', (s) => ({ ...s, every: 3_600_000 })],
      ['job name', (s) => ({ ...s, name: 'fetch-bills-old' })],
      ['data value', (s) => ({ ...s, template: { ...s.template, data: { limit: 51 } } })],
      ['extra data', (s) => ({ ...s, template: { ...s.template, data: { limit: 50, session: 1 } } })],
      ['attempts', (s) => ({ ...s, template: { ...s.template, opts: { ...s.template!.opts, attempts: 1 } } })],
      [
        'retention',
        (s) => ({ ...s, template: { ...s.template, opts: { ...s.template!.opts, removeOnComplete: true } } }),
      ],
    ];
    assert.ok(schedulerMatches(storedFor(hourly), hourly, kind), 'the baseline matches');
    for (const [what, change] of changes)
      assert.equal(schedulerMatches(change(storedFor(hourly)), hourly, kind), false, what);
  });
});
