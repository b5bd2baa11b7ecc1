// `npm run status` as text: the fleet report (src/monitor/report.ts) laid out for a person, problems first in
// each section's own words. The JSON form is the report itself; this only formats, it decides nothing.
import type { AlertThresholds } from './alerts.js';
import type { FleetReport } from './report.js';

/** "2026-03-10 02:00:00Z" (UTC, to the second), or "-". */
function when(iso: string | null): string {
  return iso === null ? '-' : `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

/** A duration in words: "45 s", "12 min", "3 h 05 min", "2 d 4 h". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** "(3 h 05 min ago)" / "(in 12 min)" relative to the report's time. */
function relative(iso: string | null, now: number): string {
  if (iso === null) return '';
  const seconds = (now - Date.parse(iso)) / 1000;
  return seconds >= 0 ? ` (${duration(seconds)} ago)` : ` (in ${duration(-seconds)})`;
}

/** Left-aligned first column, right-aligned numbers after it, columns two spaces apart. */
function table(header: string[], rows: string[][], leftColumns = 1): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function redisMemory(report: FleetReport): string {
  const m = report.redis_memory;
  if (!m) return '- (INFO memory not available)';
  const used = `${(m.used_bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (m.percent === null) return `${used} (no maxmemory limit)`;
  return `${used} of ${(m.maxmemory_bytes / 1024 / 1024).toFixed(1)} MiB (${m.percent}%)`;
}

const indent = (lines: string[]) => lines.map((l) => `  ${l}`);

export function renderStatus(report: FleetReport, thresholds: AlertThresholds): string {
  const now = Date.parse(report.generated_at);
  const out: string[] = [];
  const verdict =
    report.alerts.length === 0
      ? 'OK: no alert threshold crossed'
      : `${report.alerts.length} ALERT${report.alerts.length === 1 ? '' : 'S'} (listed at the end)`;
  out.push(`Bill Fleet status at ${when(report.generated_at)}: ${verdict}`, '');

  out.push(`Runs in the fetch log, last ${report.hours_back} h (since ${when(report.since)})`);
  const kinds = Object.entries(report.by_kind)
    .map(([kind, k]) => `${kind} ${k.total} (${k.successful} ok, ${k.partial} partial, ${k.failed} failed)`)
    .join('; ');
  const rows: Array<[string, string]> = [
    ['total_operations', String(report.total_operations)],
    ['successful', String(report.successful)],
    ['failed', String(report.failed)],
    ['partial', String(report.partial)],
    ['success_rate', report.total_operations === 0 ? '- (no runs)' : `${report.success_rate}%`],
    ['avg_duration_seconds', String(report.avg_duration_seconds)],
    ['records_persisted', String(report.records_persisted)],
    ['duplicates_skipped', String(report.duplicates_skipped)],
    ['filtered_pre_2015', String(report.filtered_pre_2015)],
    ['latest_introduced_at', report.latest_introduced_at ?? '-'],
    [
      'last_success_at',
      report.last_success_at === null
        ? 'never'
        : `${when(report.last_success_at)}${relative(report.last_success_at, now)}`,
    ],
    ['by kind', kinds || '-'],
    ['redis_memory', redisMemory(report)],
  ];
  const labelWidth = Math.max(...rows.map(([label]) => label.length));
  out.push(...indent(rows.map(([label, value]) => `${label.padEnd(labelWidth)}  ${value}`)), '');

  out.push('Queues');
  out.push(
    ...indent(
      table(
        ['queue', 'waiting', 'active', 'delayed', 'failed', `failed ${report.hours_back}h`, 'oldest waiting'],
        report.queues.map((q) => [
          `${q.queue}${q.paused ? ' (PAUSED)' : ''}`,
          String(q.waiting),
          String(q.active),
          String(q.delayed),
          String(q.failed),
          String(q.failed_in_window),
          q.oldest_waiting_age_seconds === null
            ? '-'
            : `${duration(q.oldest_waiting_age_seconds)} (${q.oldest_waiting_job_id})`,
        ]),
      ),
    ),
    '',
  );

  out.push('Current session sync (a complete re-read of each current session; SYNC_CURRENT_SESSION_CRON)');
  if (report.sync.off)
    out.push(...indent(['off: only new bills are fetched (the watermark); statuses are not refreshed']));
  else if (report.sync.current_sessions.length === 0) out.push(...indent(['no current session resolved yet']));
  else
    out.push(
      ...indent(
        table(
          ['session', 'source', 'last sync', 'created', 'updated', 'status changes'],
          report.sync.current_sessions.map((c) => [
            c.session,
            c.source,
            c.last_sync_at === null ? 'never' : `${when(c.last_sync_at)}${relative(c.last_sync_at, now)}`,
            c.created === null ? '-' : String(c.created),
            c.updated === null ? '-' : String(c.updated),
            c.status_changes === null ? '-' : String(c.status_changes),
          ]),
          3,
        ),
      ),
    );
  out.push('');

  out.push('Schedules (UTC)');
  out.push(
    ...indent(
      table(
        ['schedule', 'pattern', 'state', 'next run', 'last due run'],
        report.schedules.map((s) => [
          s.id,
          s.pattern,
          s.state,
          s.next_run_at === null ? '-' : `${when(s.next_run_at)}${relative(s.next_run_at, now)}`,
          s.last_due_at === null ? '-' : `${when(s.last_due_at)} ${s.last_due_job_id ?? ''}`.trimEnd(),
        ]),
        5,
      ),
    ),
  );
  out.push(''); // a schedule in trouble is spelled out under Alerts (scheduled_run)

  out.push(
    `Alerts (thresholds: success_rate >= ${thresholds.minSuccessRatePercent}%, a success within ${thresholds.maxHoursSinceSuccess} h, a sync within ${thresholds.maxHoursSinceSync} h, ` +
      `failed jobs <= ${thresholds.maxFailedJobs}, oldest waiting <= ${thresholds.maxWaitingAgeMinutes} min, scheduled runs on time, ` +
      `Redis memory < ${thresholds.redisMemoryPercent}% of maxmemory)`,
  );
  out.push(
    ...indent(report.alerts.length === 0 ? ['none crossed'] : report.alerts.map((a) => `! ${a.code}: ${a.message}`)),
  );
  return `${out.join('\n')}\n`;
}
