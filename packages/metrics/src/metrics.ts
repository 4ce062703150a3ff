import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The one Prometheus registry of a process, and every metric the services export. Services import the
 * metric objects and count; `/metrics` renders the registry. Names follow Prometheus conventions
 * (`_total` counters, `_seconds` durations, base units).
 */
export const registry = new Registry();
// Node's default metrics already start with `process_` or `nodejs_`: `cidx_process_cpu_user_seconds_total`.
collectDefaultMetrics({ register: registry, prefix: 'cidx_' });

/** Buckets for request and call latencies, in seconds: 1 ms to 30 s. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const httpRequestDuration = new Histogram({
  name: 'cidx_http_request_duration_seconds',
  help: 'HTTP request latency by service, method, route pattern and status code',
  labelNames: ['service', 'method', 'route', 'status'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const queueJobs = new Gauge({
  name: 'cidx_queue_jobs',
  help: 'Jobs in the queue by state, read from Redis at scrape time',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
});

export const jobDuration = new Histogram({
  name: 'cidx_job_duration_seconds',
  help: 'Time from a job attempt starting to its end, by job name and outcome (completed, failed, retried)',
  labelNames: ['name', 'outcome'] as const,
  buckets: [0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
  registers: [registry],
});

export const jobsFinished = new Counter({
  name: 'cidx_jobs_total',
  help: 'Jobs finished by this process, by job name and outcome (completed, failed, retried)',
  labelNames: ['name', 'outcome'] as const,
  registers: [registry],
});

export const embeddingRequests = new Counter({
  name: 'cidx_embedding_requests_total',
  help: 'Requests to the embeddings API by model and outcome (ok, rate_limited, error)',
  labelNames: ['model', 'outcome'] as const,
  registers: [registry],
});

export const embeddingTokens = new Counter({
  name: 'cidx_embedding_tokens_total',
  help: 'Tokens sent to the embeddings API',
  labelNames: ['model'] as const,
  registers: [registry],
});

export const embeddingRateLimited = new Counter({
  name: 'cidx_embedding_rate_limited_total',
  help: 'Answers 429 from the embeddings API',
  labelNames: ['model'] as const,
  registers: [registry],
});

export const embeddingRetries = new Counter({
  name: 'cidx_embedding_retries_total',
  help: 'Embedding requests sent again after a 5xx, 408, 409, timeout or lost connection (429s: cidx_embedding_rate_limited_total)',
  labelNames: ['model'] as const,
  registers: [registry],
});

export const chunksEmbedded = new Counter({
  name: 'cidx_chunks_embedded_total',
  help: 'Chunks embedded by reindex runs',
  registers: [registry],
});

export const chunksSkipped = new Counter({
  name: 'cidx_chunks_skipped_total',
  help: 'Chunks a reindex run left alone because their content hash was unchanged',
  registers: [registry],
});

export const qdrantCallDuration = new Histogram({
  name: 'cidx_qdrant_call_duration_seconds',
  help: 'Latency of calls to Qdrant by operation and outcome',
  labelNames: ['operation', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const postgresQueryDuration = new Histogram({
  name: 'cidx_postgres_query_duration_seconds',
  help: 'Latency of Postgres queries by operation and outcome',
  labelNames: ['operation', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

/**
 * Times `call` into `histogram` with an `outcome` label of `ok` or `error`; for wrapping Qdrant and
 * Postgres calls: `await timed(qdrantCallDuration, { operation: 'query' }, () => client.query(...))`.
 */
export async function timed<T, L extends string>(
  histogram: Histogram<L | 'outcome'>,
  labels: Partial<Record<L, string>>,
  call: () => Promise<T>,
): Promise<T> {
  const end = histogram.startTimer(labels as Partial<Record<L | 'outcome', string>>);
  try {
    const result = await call();
    end({ outcome: 'ok' } as Partial<Record<L | 'outcome', string>>);
    return result;
  } catch (error) {
    end({ outcome: 'error' } as Partial<Record<L | 'outcome', string>>);
    throw error;
  }
}

/** A Qdrant call observer (the vector store's `observe` option) that records into `cidx_qdrant_call_duration_seconds`. */
export function observeQdrantCall(operation: string, seconds: number, outcome: 'ok' | 'error'): void {
  qdrantCallDuration.observe({ operation, outcome }, seconds);
}

/** The registry in the Prometheus text format, with its content type. */
export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/** Sets the queue depth gauge from BullMQ's job counts (`{waiting: 3, active: 1, …}`). */
export function recordQueueDepth(queue: string, counts: Record<string, number>): void {
  for (const [state, n] of Object.entries(counts)) queueJobs.set({ queue, state }, n);
}

export const indexRunTokens = new Counter({
  name: 'cidx_index_run_tokens_total',
  help: 'Embedding tokens spent by finished reindex runs, as the runs report them',
  registers: [registry],
});
