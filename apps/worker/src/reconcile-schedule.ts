import { type Queue } from '@catalog-indexer/queue';

/** The id of the one periodic reconcile of a deployment (every worker writes the same one). */
export const RECONCILE_SCHEDULER_ID = 'reconcile-all';

/**
 * Writes the periodic reconcile for `RECONCILE_INTERVAL_MS`: every `intervalMs`, or, with 0, removes a
 * schedule an earlier start left in Redis, so that "on demand only" holds for an existing deployment too.
 */
export async function scheduleReconcile(queue: Queue, intervalMs: number): Promise<void> {
  if (intervalMs === 0) {
    await queue.removeJobScheduler(RECONCILE_SCHEDULER_ID);
    return;
  }
  await queue.upsertJobScheduler(RECONCILE_SCHEDULER_ID, { every: intervalMs }, { name: 'reconcile', data: {} });
}
