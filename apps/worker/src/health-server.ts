import { type DataSource } from '@catalog-indexer/db';
import { identityName, type EmbedderIdentity } from '@catalog-indexer/embeddings';
import { type QdrantStore } from '@catalog-indexer/vector-store';
import { checkReadiness as checkDependencies, READINESS_TIMEOUT_MS, withinMs } from '@catalog-indexer/http';
import { queueReadiness, type Queue, type QueueReadiness, type Worker } from '@catalog-indexer/queue';

export interface WorkerHealthDeps {
  dataSource: DataSource;
  /** A queue handle on the worker's connection and prefix: readiness asks it for job counts. */
  queue: Queue;
  worker: Worker;
  /** What `/readyz` reports of the embedder ({@link embeddingReadiness}); informative, not a check. */
  embedding?: () => Promise<Record<string, unknown>>;
}

/**
 * The worker's embedder identity and the space the served collection holds: `switching` while they differ
 * (the index is being moved to the worker's space in the background).
 */
export async function embeddingReadiness(embedder: EmbedderIdentity, store: QdrantStore): Promise<Record<string, unknown>> {
  const configured = identityName(embedder);
  try {
    const served = await store.served();
    if (served === null) return { configured, served: null, collection: null, switching: false };
    const name = identityName({ ...served, provider: served.provider ?? 'unknown' });
    return { configured, served: name, collection: served.collection, switching: name !== configured };
  } catch (error) {
    return { configured, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The worker's readiness for `/readyz`: Postgres answers, the queue answers a real call, the worker runs.
 * Served on the worker's one port beside `/healthz` and `/metrics` (see `startWorkerServer`).
 */
export async function checkReadiness(deps: WorkerHealthDeps): Promise<{ ready: boolean; body: unknown }> {
  let queue: QueueReadiness = { ready: false, error: 'no answer' };
  // Every dependency bounded (READINESS_TIMEOUT_MS), all at once: the answer comes in time whatever one does.
  const [readiness, embedder] = await Promise.all([
    checkDependencies({
      postgres: () => deps.dataSource.query('SELECT 1').then(() => true),
      redis: async () => {
        queue = await queueReadiness(deps.queue, READINESS_TIMEOUT_MS);
        return queue.ready || (queue.error ?? false);
      },
      worker: () => Promise.resolve(deps.worker.isRunning() && !deps.worker.isPaused() ? true : 'the worker is not taking jobs (paused, closing or stopped)'),
    }),
    deps.embedding ? withinMs(deps.embedding(), READINESS_TIMEOUT_MS, 'the vector store').catch((error: unknown) => ({ error: error instanceof Error ? error.message : String(error) })) : undefined,
  ]);
  const { ready, checks, problems } = readiness;
  return { ready, body: { status: ready ? 'ready' : 'not ready', checks, problems, queue, ...(embedder ? { embedder } : {}) } };
}
