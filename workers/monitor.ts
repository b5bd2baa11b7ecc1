// monitor processor: gathers the fleet's health (fetch log, queues, scheduled runs), checks it against the alert
// thresholds and raises the alerts that are crossed. Crossed thresholds and an unreachable webhook never fail the
// job: its result says what was found and whether the alert went out.
import type { MonitorPayload } from '../queues/monitor.js';
import { evaluateAlerts, raiseAlerts, type Alert, type AlertDelivery } from '../src/monitor/alerts.js';
import { gatherFleetStats, type FleetStats } from '../src/monitor/fleet-stats.js';
import type { JobContext } from './context.js';

export interface MonitorResult extends FleetStats {
  alerts: Alert[];
  alert_delivery: AlertDelivery;
}

export async function processMonitor(payload: MonitorPayload, ctx: JobContext): Promise<MonitorResult> {
  const { deps, log } = ctx;
  const stats = await gatherFleetStats({ pool: deps.pool, redis: deps.redis, config: deps.config, log }, { hoursBack: payload.hoursBack });
  const alerts = evaluateAlerts(stats, deps.config.alerts);
  log.info(
    {
      hoursBack: payload.hoursBack,
      total: stats.total_operations,
      successful: stats.successful,
      partial: stats.partial,
      failed: stats.failed,
      successRate: stats.success_rate,
      lastSuccessAt: stats.last_success_at,
      alerts: alerts.length,
    },
    'fleet checked',
  );
  const { delivery } = await raiseAlerts(alerts, deps.config, log, `monitor job ${ctx.job.id}`);
  if (alerts.length > 0) await ctx.note(`${alerts.length} alert(s): ${alerts.map((a) => a.code).join(', ')}; webhook: ${delivery}`);
  return { ...stats, alerts, alert_delivery: delivery };
}
