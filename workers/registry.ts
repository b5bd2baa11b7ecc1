// Each job kind's processor, by kind name. The mapped type makes a kind without a processor a compile error, and
// indexing it with a generic kind keeps that kind's payload type, so the wrapper below needs no cast.
import {
  KIND_NAMES,
  isKindName,
  jobKinds,
  parsePayloadOrUnrecoverable,
  type KindName,
  type KindQueues,
  type Payload,
} from '../queues/index.js';
import type { Config } from '../src/config.js';
import type { WorkerResources } from '../src/resources.js';
import type { Processor } from './context.js';
import { backfillSessionProcessor } from './backfill-session.js';
import { deliverChangesProcessor } from './deliver-changes.js';
import { fetchBillsProcessor } from './fetch-bills.js';
import { monitorProcessor } from './monitor.js';
import { syncCurrentSessionProcessor } from './sync-current-session.js';
import { bullProcessor, type BullProcessor } from './run-job.js';

export type Processors = { [K in KindName]: Processor<Payload<K>, unknown> };

/**
 * Every kind's processor, built from the worker's resources. Each factory's parameter type names the services that
 * kind may use (a narrow slice of WorkerResources), so a processor never reaches for more than it declares.
 */
export function buildProcessors(resources: WorkerResources, queues: KindQueues): Processors {
  return {
    'fetch-bills': fetchBillsProcessor(resources, queues),
    'backfill-session': backfillSessionProcessor(resources, queues),
    'sync-current-session': syncCurrentSessionProcessor(resources, queues),
    monitor: monitorProcessor(resources),
    'deliver-changes': deliverChangesProcessor(resources),
  };
}

/** The BullMQ processor for kind `name`: payload parsing, logging, the result cache, then the kind's processor. */
export function bullProcessorFor<K extends KindName>(
  name: K,
  processors: Processors,
  resources: Pick<WorkerResources, 'log' | 'cache' | 'redis' | 'config'>,
): BullProcessor {
  const kind = {
    name,
    cacheResults: jobKinds[name].cacheResults,
    parse: (data: unknown) => parsePayloadOrUnrecoverable(name, data),
  };
  return bullProcessor(kind, processors[name], resources);
}

/**
 * The kinds WORKER_QUEUES names. An unknown name exits 2 like any other bad variable (config.ts cannot check it
 * without importing the queues): a worker silently serving fewer queues than asked would look healthy.
 */
export function configuredKindsOrExit(config: Config): KindName[] {
  if (config.worker.queues === undefined) return KIND_NAMES;
  const unknown = config.worker.queues.filter((q) => !isKindName(q));
  if (unknown.length > 0) {
    process.stderr.write(
      `bill-fleet: invalid configuration\n  WORKER_QUEUES: unknown queue(s) ${unknown.join(', ')}; known: ${KIND_NAMES.join(', ')}\n`,
    );
    process.exit(2);
  }
  return config.worker.queues.filter(isKindName);
}
