// Alert rules over the fleet's health (thresholds from the environment, ALERT_*), the alert message, and raising
// alerts: always a log line at error level with the numbers, plus a webhook POST when ALERT_WEBHOOK_URL is set.
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { FleetStats } from './fleet-stats.js';
import { postWebhook, type WebhookMessage, type WebhookResult } from './webhook.js';

export type AlertCode =
  | 'success_rate'
  | 'no_recent_success'
  | 'watermark_stuck'
  | 'sync_stale'
  | 'failed_jobs'
  | 'waiting_age'
  | 'scheduled_run'
  | 'redis_memory'
  | 'dead_letter';

export interface Alert {
  code: AlertCode;
  /** One line an operator can act on, with the numbers. */
  message: string;
  value?: number | string | null;
  threshold?: number;
}

export type AlertThresholds = Pick<
  Config['alerts'],
  | 'minSuccessRatePercent'
  | 'maxHoursSinceSuccess'
  | 'maxHoursSinceSync'
  | 'maxFailedJobs'
  | 'maxWaitingAgeMinutes'
  | 'redisMemoryPercent'
>;

export function evaluateAlerts(stats: FleetStats, t: AlertThresholds): Alert[] {
  const alerts: Alert[] = [];
  const window = `the last ${stats.hours_back} h`;

  // With no runs at all the rate means nothing; "no successful fetch" below covers that case.
  if (stats.total_operations > 0 && stats.success_rate < t.minSuccessRatePercent) {
    alerts.push({
      code: 'success_rate',
      value: stats.success_rate,
      threshold: t.minSuccessRatePercent,
      message: `success rate ${stats.success_rate}% over ${window} is below ${t.minSuccessRatePercent}%: ${stats.successful} of ${stats.total_operations} runs succeeded, ${stats.partial} partial, ${stats.failed} failed`,
    });
  }

  if (stats.hours_since_success === null || stats.hours_since_success > t.maxHoursSinceSuccess) {
    alerts.push({
      code: 'no_recent_success',
      value: stats.hours_since_success,
      threshold: t.maxHoursSinceSuccess,
      message:
        stats.last_success_at === null
          ? `no successful fetch on record (threshold ${t.maxHoursSinceSuccess} h)`
          : `no successful fetch for ${stats.hours_since_success} h (last at ${stats.last_success_at}; threshold ${t.maxHoursSinceSuccess} h)`,
    });
  }

  // Every incremental fetch stopped at its limit: each one read an arbitrary subset of a wide window and the
  // watermark cannot advance (a new fleet with no complete run yet, or a gap after a long outage). Runs "succeed",
  // so nothing else here would say it.
  // Only where the daily sync is off: with it on, a stuck watermark costs nothing (the sync reads the whole session).
  if (stats.sync.off && stats.incremental_runs > 0 && stats.incremental_runs_truncated === stats.incremental_runs) {
    alerts.push({
      code: 'watermark_stuck',
      value: stats.incremental_runs_truncated,
      message: `all ${stats.incremental_runs} scheduled fetch-bills run(s) over ${window} stopped at their limit, so the watermark is not advancing and bills outside what they read are missed: backfill the current session (npm run backfill -- --parliament P --session S), which sets the watermark, or raise FETCH_BILLS_HOURLY_LIMIT / FETCH_BILLS_DAILY_LIMIT`,
    });
  }

  if (!stats.sync.off) {
    if (stats.sync.current_sessions.length === 0) {
      alerts.push({
        code: 'sync_stale',
        value: null,
        threshold: t.maxHoursSinceSync,
        message:
          'no current session resolved yet: the sync-current-session job has not run or could not tell the current session (see its failed jobs), so statuses are not being refreshed; set CURRENT_SESSIONS (e.g. 45-1) or enqueue it: npm run enqueue -- sync-current-session',
      });
    }
    for (const s of stats.sync.current_sessions) {
      if (s.hours_since_sync !== null && s.hours_since_sync <= t.maxHoursSinceSync) continue;
      alerts.push({
        code: 'sync_stale',
        value: s.hours_since_sync,
        threshold: t.maxHoursSinceSync,
        message:
          s.last_sync_at === null
            ? `current session ${s.session} has never been synced completely (threshold ${t.maxHoursSinceSync} h): its statuses and late bills are not being refreshed; see the sync-current-session and backfill-session queues`
            : `current session ${s.session} has had no successful sync for ${s.hours_since_sync} h (last at ${s.last_sync_at}; threshold ${t.maxHoursSinceSync} h): see the sync-current-session and backfill-session queues`,
      });
    }
  }

  const failedQueues = stats.queues.filter((q) => q.failed_in_window > 0);
  const failed = failedQueues.reduce((n, q) => n + q.failed_in_window, 0);
  if (failed > t.maxFailedJobs) {
    alerts.push({
      code: 'failed_jobs',
      value: failed,
      threshold: t.maxFailedJobs,
      message: `${failed} job(s) failed for good over ${window} (threshold ${t.maxFailedJobs}): ${failedQueues.map((q) => `${q.queue} ${q.failed_in_window}`).join(', ')}`,
    });
  }

  for (const q of stats.queues) {
    const age = q.oldest_waiting_age_seconds;
    if (age !== null && age > t.maxWaitingAgeMinutes * 60) {
      alerts.push({
        code: 'waiting_age',
        value: Math.round(age / 60),
        threshold: t.maxWaitingAgeMinutes,
        message: `queue ${q.queue}: the oldest waiting job (${q.oldest_waiting_job_id}) has waited ${Math.round(age / 60)} min (threshold ${t.maxWaitingAgeMinutes} min; ${q.waiting} waiting, ${q.active} active${q.paused ? ', queue PAUSED' : ''})`,
      });
    }
  }

  // With maxmemory-policy noeviction a full Redis refuses every write: jobs cannot be added, started or finished.
  const mem = stats.redis_memory;
  if (mem && mem.percent !== null && mem.percent >= t.redisMemoryPercent) {
    alerts.push({
      code: 'redis_memory',
      value: mem.percent,
      threshold: t.redisMemoryPercent,
      message: `Redis uses ${mem.percent}% of its maxmemory (${mib(mem.used_bytes)} of ${mib(mem.maxmemory_bytes)}; threshold ${t.redisMemoryPercent}%): at 100% it refuses every write and no job can be added, started or finished. Find what grows under the prefix (completed/failed retention, the result cache) or raise maxmemory`,
    });
  }

  for (const s of stats.schedules) {
    if (s.state === 'missed' || s.state === 'late' || s.state === 'not-registered') {
      alerts.push({ code: 'scheduled_run', value: s.state, message: s.problem ?? `scheduler ${s.id}: ${s.state}` });
    }
  }
  return alerts;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export interface AlertContext {
  title: string;
  environment: string;
  /** What raised the alerts, e.g. "monitor job 1234". */
  source: string;
}

export function alertMessage(alerts: Alert[], ctx: AlertContext): WebhookMessage {
  const heading = `:rotating_light: ${ctx.title} (${ctx.environment}): ${alerts.length} alert${alerts.length === 1 ? '' : 's'}`;
  const lines = alerts.map((a) => `• ${a.message}`);
  return {
    text: [heading, ...lines, `(from ${ctx.source})`].join('\n'),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${heading}*` } },
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `from ${ctx.source}` }] },
    ],
  };
}

/** none: nothing to raise; not-configured: logged only (no ALERT_WEBHOOK_URL); sent / failed: the webhook POST. */
export type AlertDelivery = 'none' | 'not-configured' | 'sent' | 'failed';

/** Logs each alert at error level and, if a webhook is configured, posts them as one message. Never throws. */
export async function raiseAlerts(
  alerts: Alert[],
  config: Config,
  log: Logger,
  source: string,
): Promise<{ delivery: AlertDelivery; webhook?: WebhookResult }> {
  if (alerts.length === 0) return { delivery: 'none' };
  for (const a of alerts)
    log.error({ alert: a.code, value: a.value, threshold: a.threshold, source }, `ALERT: ${a.message}`);
  const url = config.alerts.webhookUrl;
  if (!url) return { delivery: 'not-configured' };
  const message = alertMessage(alerts, { title: config.board.title, environment: config.board.environment, source });
  const webhook = await postWebhook(url, message, {
    timeoutMs: config.alerts.webhookTimeoutMs,
    log: log.child({ component: 'alert-webhook' }),
  });
  return { delivery: webhook.ok ? 'sent' : 'failed', webhook };
}
