// monitor processor: gathers the fleet's health (fetch log, queues, scheduled runs), checks it against the alert
// thresholds and raises the alerts that are crossed. Crossed thresholds and an unreachable webhook never fail the
// job: its result says what was found and whether the alert went out.
import type { MonitorPayload } from '../queues/monitor.js';
import { raiseAlerts, type AlertDelivery } from '../src/monitor/alerts.js';
import { fleetReport } from '../queues/fleet-report.js';
import type { FleetReport } from '../src/monitor/report.js';
import type { JobContext } from './context.js';

export interface MonitorResult extends FleetReport {
  alert_delivery: AlertDelivery;
}

export async function processMonitor(payload: MonitorPayload, ctx: JobContext): Promise<MonitorResult> {
  const { deps, log } = ctx;
  // The same numbers and rules as `npm run status` (src/monitor/report.ts).
  const report = await fleetReport(
    { pool: deps.pool, redis: deps.redis, config: deps.config, log },
    { hoursBack: payload.hoursBack },
  );
  const { alerts } = report;
  log.info(
    {
      hoursBack: payload.hoursBack,
      total: report.total_operations,
      successful: report.successful,
      partial: report.partial,
      failed: report.failed,
      successRate: report.success_rate,
      lastSuccessAt: report.last_success_at,
      alerts: alerts.length,
    },
    'fleet checked',
  );
  const { delivery } = await raiseAlerts(alerts, deps.config, log, `monitor job ${ctx.job.id}`);
  if (alerts.length > 0)
    await ctx.note(`${alerts.length} alert(s): ${alerts.map((a) => a.code).join(', ')}; webhook: ${delivery}`);
  return { ...report, alert_delivery: delivery };
}
