import http from 'node:http';
import { ApiKeySet } from '@catalog-indexer/http';
import { type Logger } from '@catalog-indexer/logger';
import { chunksEmbedded, chunksSkipped, indexRunTokens, jobDuration, jobsFinished, renderMetrics } from '@catalog-indexer/metrics';
import { type Job, type Worker } from '@catalog-indexer/queue';

export interface MetricsServerOptions {
  host: string;
  /** 0 picks a free port; the one chosen is logged. */
  port: number;
  /** When set, `/metrics` requires `Authorization: Bearer <key>` like the api; `/healthz` stays open. */
  apiKeys: readonly string[];
  logger: Logger;
}

function authorised(header: string | undefined, keys: ApiKeySet): boolean {
  if (!keys.enabled) return true;
  const key = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '')?.[1];
  return key !== undefined && keys.matches(key);
}

/**
 * The worker's own small HTTP port: `/metrics` (Prometheus) and `/healthz`. A port already taken (several
 * workers on one host with the same setting) is logged and skipped: metrics are not worth stopping work for.
 */
export function startMetricsServer(options: MetricsServerOptions): Promise<http.Server | undefined> {
  const keys = new ApiKeySet(options.apiKeys);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (req.method === 'GET' && path === '/metrics') {
      if (!authorised(req.headers.authorization, keys)) {
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="catalog-indexer"' });
        res.end(JSON.stringify({ error: { code: 'unauthorized', message: 'send one of the API keys as Authorization: Bearer <key>' } }));
        return;
      }
      renderMetrics().then(
        ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'not_found', message: 'GET /metrics or /healthz' } }));
    }
  });
  return new Promise((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      options.logger.warn({ err: error, port: options.port }, `worker metrics not served: port ${options.port} is not available (${error.code ?? error.message}); set WORKER_METRICS_PORT`);
      resolve(undefined);
    });
    server.listen(options.port, options.host, () => {
      const { port } = server.address() as { port: number };
      options.logger.info({ port }, `worker metrics on http://${options.host}:${port}/metrics`);
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
    if (final) jobDuration.observe({ name: job.name, outcome }, seconds(job));
  });
}
