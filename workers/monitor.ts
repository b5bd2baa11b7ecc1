// monitor processor: gathers the fleet's health (fetch log, queues, scheduled runs), checks it against the alert
// thresholds and raises the alerts that are crossed. Crossed thresholds and an unreachable webhook never fail the
// job: its result says what was found and whether the alert went out.
import { fleetReport, type FleetReportSources } from '../queues/fleet-report.js';
import type { MonitorPayload } from '../queues/monitor.js';
import type { Config } from '../src/config.js';
import { raiseAlerts, type AlertDelivery } from '../src/monitor/alerts.js';
import type { FleetReport } from '../src/monitor/report.js';
import type { Processor } from './context.js';

export interface MonitorResult extends FleetReport {
  alert_delivery: AlertDelivery;
}

export function monitorProcessor(
  services: Omit<FleetReportSources, 'log'> & { config: Config },
): Processor<MonitorPayload, MonitorResult> {
  return async (payload, ctx) => {
    const { log } = ctx;
    // The same numbers and rules as `npm run status`.
    const report = await fleetReport({ ...services, log }, { hoursBack: payload.hoursBack });
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
    const { delivery } = await raiseAlerts(alerts, services.config, log, `monitor job ${ctx.job.id}`);
    if (alerts.length > 0)
      await ctx.note(`${alerts.length} alert(s): ${alerts.map((a) => a.code).join(', ')}; webhook: ${delivery}`);
    return { ...report, alert_delivery: delivery };
  };
}
