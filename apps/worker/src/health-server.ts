import { createServer, type Server } from 'node:http';
import { type DataSource } from '@catalog-indexer/db';
import { checkReadiness, READINESS_TIMEOUT_MS } from '@catalog-indexer/http';
import { queueReadiness, type Queue, type QueueReadiness, type Worker } from '@catalog-indexer/queue';

export interface WorkerHealthDeps {
  dataSource: DataSource;
  /** A queue handle on the worker's connection and prefix: readiness asks it for job counts. */
  queue: Queue;
  worker: Worker;
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
      let queue: QueueReadiness = { ready: false, error: 'no answer' };
      const { ready, checks, problems } = await checkReadiness({
        postgres: () => deps.dataSource.query('SELECT 1').then(() => true),
        redis: async () => {
          queue = await queueReadiness(deps.queue, READINESS_TIMEOUT_MS);
          return queue.ready || (queue.error ?? false);
        },
        worker: () => Promise.resolve(deps.worker.isRunning() && !deps.worker.isPaused() ? true : 'the worker is not taking jobs (paused, closing or stopped)'),
      });
      send(ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks, problems, queue });
    })();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
