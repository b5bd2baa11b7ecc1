// sync-current-session: resolves the current session(s) (CURRENT_SESSIONS, else detected upstream) and re-reads each
// one whole through a backfill-session job with trigger "sync" (forcing out a finished backfill of the session, never
// one that is waiting or running: that one serves as this sync). The backfill writes only what changed and records
// the run; this job says which sessions it synced and how.
import { submission, submit, type SubmitResult } from '../queues/submit.js';
import type { KindQueues } from '../queues/index.js';
import type { SyncCurrentSessionPayload } from '../queues/sync-current-session.js';
import type { Config } from '../src/config.js';
import { resolveCurrentSessions } from '../src/ingest/current-sessions.js';
import type { WorkerResources } from '../src/resources.js';
import type { Processor } from './context.js';

/** A sync never stops at a limit: a session has about a thousand bills, far below this. */
export const SYNC_LIMIT = 100_000;

export interface SyncResult {
  reason: SyncCurrentSessionPayload['reason'];
  source: string;
  sessions: Array<{ session: string; jobId: string; outcome: SubmitResult['outcome']; state?: string }>;
}

export function syncCurrentSessionProcessor(
  services: Pick<WorkerResources, 'currentSessions' | 'openParliament' | 'legisInfo'> & {
    config: Pick<Config, 'currentSessions'>;
  },
  queues: Pick<KindQueues, 'get'>,
): Processor<SyncCurrentSessionPayload, SyncResult> {
  const { currentSessions } = services;
  return async (payload, ctx) => {
    const resolved =
      payload.sessions && payload.sessions.length > 0
        ? { sessions: payload.sessions, source: 'payload' }
        : await resolveCurrentSessions(
            services.config.currentSessions,
            { openParliament: services.openParliament, legisInfo: services.legisInfo, currentSessions },
            ctx.log,
            ctx.signal,
          );
    const result: SyncResult = { reason: payload.reason, source: resolved.source, sessions: [] };
    for (const session of resolved.sessions) {
      const [parliament, number] = session.split('-').map(Number) as [number, number];
      const s = await submit(
        queues.get('backfill-session'),
        submission('backfill-session', { parliament, session: number, limit: SYNC_LIMIT, trigger: 'sync' }),
        { force: true },
      );
      const jobId = s.job.id!;
      result.sessions.push({ session, jobId, outcome: s.outcome, ...('state' in s ? { state: s.state } : {}) });
      const line =
        s.outcome === 'created'
          ? `${session}: sync enqueued as ${jobId}${s.replaced ? ` (replacing the ${s.replaced} one)` : ''}`
          : `${session}: ${jobId} is already ${'state' in s ? s.state : 'there'}; it serves as this sync`;
      ctx.log.info({ session, jobId, outcome: s.outcome, source: resolved.source }, line);
      await ctx.note(line);
    }
    return result;
  };
}
