// The fleet's health and the alerts it crosses, in one call: what the monitor job acts on and what `npm run status`
// prints. Reading only: raising the alerts (log lines, webhook) is the caller's business.
import { evaluateAlerts, type Alert } from './alerts.js';
import { gatherFleetStats, type FleetStats, type FleetStatsOptions, type FleetStatsSources } from './fleet-stats.js';

export interface FleetReport extends FleetStats {
  /** The alert rules crossed right now (empty when healthy). */
  alerts: Alert[];
}

export async function buildFleetReport(src: FleetStatsSources, options: FleetStatsOptions): Promise<FleetReport> {
  const stats = await gatherFleetStats(src, options);
  return { ...stats, alerts: evaluateAlerts(stats, src.config.alerts) };
}
