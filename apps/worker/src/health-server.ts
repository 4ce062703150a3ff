import { type DataSource } from '@catalog-indexer/db';
import { queueReadiness, type Queue, type Worker } from '@catalog-indexer/queue';

export interface WorkerHealthDeps {
  dataSource: DataSource;
  /** A queue handle on the worker's connection and prefix: readiness asks it for job counts. */
  queue: Queue;
  worker: Worker;
}

/**
 * The worker's readiness for `/readyz`: Postgres answers, the queue answers a real call, the worker runs.
 * Served on the worker's one port beside `/healthz` and `/metrics` (see `startWorkerServer`).
 */
export async function checkReadiness(deps: WorkerHealthDeps): Promise<{ ready: boolean; body: unknown }> {
  const queue = await queueReadiness(deps.queue);
  const checks = {
    postgres: await deps.dataSource.query('SELECT 1').then(() => true, () => false),
    redis: queue.ready,
    worker: deps.worker.isRunning() && !deps.worker.isPaused(),
  };
  const ready = Object.values(checks).every(Boolean);
  return { ready, body: { status: ready ? 'ready' : 'not ready', checks, queue } };
}
