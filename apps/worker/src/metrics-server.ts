import http from 'node:http';
import { ApiKeySet } from '@catalog-indexer/http';
import { type Logger } from '@catalog-indexer/logger';
import { chunksEmbedded, chunksSkipped, indexRunTokens, jobDuration, jobsFinished, renderMetrics } from '@catalog-indexer/metrics';
import { type Job, type Worker } from '@catalog-indexer/queue';
import { checkReadiness, type WorkerHealthDeps } from './health-server';

export interface WorkerServerOptions {
  host: string;
  /** 0 picks a free port; the one chosen is logged. */
  port: number;
  /** When set, `/metrics` requires `Authorization: Bearer <key>` like the api; `/healthz` and `/readyz` stay open. */
  apiKeys: readonly string[];
  logger: Logger;
  /** What `/readyz` checks; without it `/readyz` answers 404 (tests of the metrics alone). */
  health?: WorkerHealthDeps;
}

function authorised(header: string | undefined, keys: ApiKeySet): boolean {
  if (!keys.enabled) return true;
  const key = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '')?.[1];
  return key !== undefined && keys.matches(key);
}

const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

/**
 * The worker's one HTTP port (`WORKER_PORT`): `/healthz` (alive), `/readyz` (Postgres, a real queue call,
 * the worker running) and `/metrics` (Prometheus). A port already taken is logged and skipped: the worker
 * still works its jobs, and its orchestrator sees it as not ready.
 */
export function startWorkerServer(options: WorkerServerOptions): Promise<http.Server | undefined> {
  const keys = new ApiKeySet(options.apiKeys);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return json(res, 405, { error: { code: 'method_not_allowed', message: 'use GET' } });
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz' && options.health) {
      checkReadiness(options.health).then(
        ({ ready, body }) => json(res, ready ? 200 : 503, body),
        () => json(res, 503, { status: 'not ready' }),
      );
      return;
    }
    if (path === '/metrics') {
      if (!authorised(req.headers.authorization, keys)) {
        return json(
          res,
          401,
          { error: { code: 'unauthorized', message: 'send one of the API keys as Authorization: Bearer <key>' } },
          { 'www-authenticate': 'Bearer realm="catalog-indexer"' },
        );
      }
      renderMetrics().then(
        ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
        () => res.writeHead(500).end(),
      );
      return;
    }
    json(res, 404, { error: { code: 'not_found', message: 'GET /healthz, /readyz or /metrics' } });
  });
  return new Promise((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      options.logger.warn(
        { err: error, port: options.port },
        `worker health and metrics not served: port ${options.port} is not available (${error.code ?? error.message}); give each worker its own WORKER_PORT`,
      );
      resolve(undefined);
    });
    server.listen(options.port, options.host, () => {
      const { port } = server.address() as { port: number };
      options.logger.info({ port }, `worker health and metrics on http://${options.host}:${port} (/healthz, /readyz, /metrics)`);
      resolve(server);
    });
  });
}

interface RunResult {
  embedded?: unknown;
  skipped?: unknown;
  tokens?: unknown;
}

const seconds = (job: Job) => (job.finishedOn && job.processedOn ? (job.finishedOn - job.processedOn) / 1000 : 0);
const attemptSeconds = (job: Job) => (job.processedOn ? Math.max(0, Date.now() - job.processedOn) / 1000 : 0);
const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);

/** Counts each finished job (duration, outcome), the chunks and tokens its batches embedded and the chunks skipped. */
export function observeJobs(worker: Worker): void {
  worker.on('completed', (job: Job) => {
    jobDuration.observe({ name: job.name, outcome: 'completed' }, seconds(job));
    jobsFinished.inc({ name: job.name, outcome: 'completed' });
    const result = (job.returnvalue ?? {}) as RunResult;
    // A reindex's chunks are embedded by its batch jobs, on whichever process runs them: each batch counts
    // what it embedded and paid; the parent counts only what it skipped (its totals repeat the batches').
    if (job.name === 'embed-batch') {
      chunksEmbedded.inc(count(result.embedded));
      indexRunTokens.inc(count(result.tokens));
    }
    if (job.name === 'reindex') chunksSkipped.inc(count(result.skipped));
  });
  worker.on('failed', (job: Job | undefined) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || job.finishedOn !== undefined;
    const outcome = final ? 'failed' : 'retried';
    jobsFinished.inc({ name: job.name, outcome });
    // A failed attempt that will be retried has no finishedOn: its time is from its start until now.
    jobDuration.observe({ name: job.name, outcome }, final ? seconds(job) : attemptSeconds(job));
  });
}
