import { createServer, type Server } from 'node:http';
import { type DataSource } from '@catalog-indexer/db';
import { identityName, type EmbedderIdentity } from '@catalog-indexer/embeddings';
import { type QdrantStore } from '@catalog-indexer/vector-store';
import { queueReadiness, type Queue, type Worker } from '@catalog-indexer/queue';

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
 * `/healthz` (the process is alive) and `/readyz` (Postgres answers, the queue answers a real call, the
 * worker runs) for orchestrators. Plain `node:http`: a worker has no other HTTP to serve.
 */
export function startHealthServer(deps: WorkerHealthDeps, port: number, host = '0.0.0.0'): Promise<Server> {
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return send(405, { error: { code: 'method_not_allowed', message: 'use GET' } });
    if (req.url === '/healthz') return send(200, { status: 'ok' });
    if (req.url !== '/readyz') return send(404, { error: { code: 'not_found', message: 'try /healthz or /readyz' } });
    void (async () => {
      const queue = await queueReadiness(deps.queue);
      const checks = {
        postgres: await deps.dataSource.query('SELECT 1').then(() => true, () => false),
        redis: queue.ready,
        worker: deps.worker.isRunning() && !deps.worker.isPaused(),
      };
      const ready = Object.values(checks).every(Boolean);
      const embedder = deps.embedding ? await deps.embedding() : undefined;
      send(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks, queue, ...(embedder ? { embedder } : {}) });
    })();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
