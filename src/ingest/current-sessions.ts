// Which sessions are "current": CURRENT_SESSIONS when set, else detected upstream. Both APIs say it: the newest
// session in OpenParliament's unfiltered listing, and the session LEGISinfo's rows flag IsFromCurrentSession. The
// newer of the two wins (LEGISinfo can open a session before OpenParliament lists its first bill: its sync is then a
// clean run with 0 bills). If one API is down the other decides; if both are, the last sessions resolved (in
// PostgreSQL) stand, and only with none on record does resolving fail (the sync job retries).
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CurrentSessions, SessionSource } from '../stores/current-sessions.js';
import type { LegisInfoClient } from '../upstream/legisinfo.js';
import { compareSessionCodes, type OpenParliamentClient } from '../upstream/openparliament.js';

export interface ResolvedSessions {
  sessions: string[];
  source: SessionSource | 'last-known';
}

/** Neither upstream could say, and no session was ever resolved: nothing to sync yet. */
export class CurrentSessionUnknownError extends Error {
  constructor(reasons: string[]) {
    super(`cannot tell the current session: ${reasons.join('; ')}; set CURRENT_SESSIONS (e.g. 45-1) to skip detection`);
    this.name = 'CurrentSessionUnknownError';
  }
}

export async function resolveCurrentSessions(
  configured: readonly string[] | undefined,
  sources: {
    openParliament: Pick<OpenParliamentClient, 'newestSession'>;
    legisInfo: Pick<LegisInfoClient, 'currentSessions'>;
    currentSessions: CurrentSessions;
  },
  log: Logger,
  signal?: AbortSignal,
): Promise<ResolvedSessions> {
  if (configured && configured.length > 0) {
    await sources.currentSessions.replace(configured, 'config');
    return { sessions: [...configured], source: 'config' };
  }
  const reasons: string[] = [];
  const [fromOp, fromLi] = await Promise.all([
    sources.openParliament.newestSession(signal).catch((err: unknown) => {
      signal?.throwIfAborted();
      reasons.push(`OpenParliament: ${errorMessage(err)}`);
      return null;
    }),
    sources.legisInfo.currentSessions(signal).catch((err: unknown) => {
      signal?.throwIfAborted();
      reasons.push(`LEGISinfo: ${errorMessage(err)}`);
      return [] as string[];
    }),
  ]);
  const newestLi = [...fromLi].sort(compareSessionCodes).at(-1) ?? null;
  if (fromOp === null && reasons.length === 0) reasons.push('OpenParliament lists no bill');
  if (newestLi === null && !reasons.some((r) => r.startsWith('LEGISinfo')))
    reasons.push('LEGISinfo flags no current session');

  const candidates = [fromOp, newestLi].filter((s): s is string => s !== null).sort(compareSessionCodes);
  const newest = candidates.at(-1);
  if (newest !== undefined) {
    const source: SessionSource =
      fromOp !== null && newestLi !== null
        ? fromOp === newestLi
          ? 'openparliament+legisinfo'
          : newest === fromOp
            ? 'openparliament'
            : 'legisinfo'
        : fromOp !== null
          ? 'openparliament'
          : 'legisinfo';
    if (fromOp !== null && newestLi !== null && fromOp !== newestLi) {
      log.warn(
        { openParliament: fromOp, legisInfo: newestLi, chosen: newest },
        'the two APIs disagree on the current session; syncing the newer one',
      );
    }
    await sources.currentSessions.replace([newest], source);
    return { sessions: [newest], source };
  }
  const known = await sources.currentSessions.list();
  if (known.length > 0) {
    log.warn(
      { reasons, sessions: known.map((k) => k.session) },
      'could not detect the current session upstream; syncing the last one resolved',
    );
    return { sessions: known.map((k) => k.session), source: 'last-known' };
  }
  throw new CurrentSessionUnknownError(reasons);
}
