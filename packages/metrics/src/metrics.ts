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

const registers = [registry];
function counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
  return new Counter({ name, help, labelNames, registers });
}
function gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
  return new Gauge({ name, help, labelNames, registers });
}
function histogram<L extends string>(name: string, help: string, buckets: number[], labelNames: readonly L[]): Histogram<L> {
  return new Histogram({ name, help, buckets, labelNames, registers });
}

export const httpRequestDuration = histogram(
  'cidx_http_request_duration_seconds',
  'HTTP request latency by service, method, route pattern and status code',
  LATENCY_BUCKETS,
  ['service', 'method', 'route', 'status'] as const,
);

export const queueJobs = gauge(
  'cidx_queue_jobs',
  'Jobs in the queue by state, read from Redis at scrape time',
  ['queue', 'state'] as const,
);

export const jobDuration = histogram(
  'cidx_job_duration_seconds',
  'Time from a job attempt starting to its end, by job name and outcome (completed, failed, retried)',
  [0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
  ['name', 'outcome'] as const,
);

export const jobsFinished = counter(
  'cidx_jobs_total',
  'Jobs finished by this process, by job name and outcome (completed, failed, retried)',
  ['name', 'outcome'] as const,
);

export const embeddingRequests = counter(
  'cidx_embedding_requests_total',
  'Requests to the embeddings API by model and outcome (ok, rate_limited, error)',
  ['model', 'outcome'] as const,
);

export const embeddingTokens = counter(
  'cidx_embedding_tokens_total',
  'Tokens sent to the embeddings API',
  ['model'] as const,
);

export const embeddingRateLimited = counter(
  'cidx_embedding_rate_limited_total',
  'Answers 429 from the embeddings API',
  ['model'] as const,
);

export const embeddingRetries = counter(
  'cidx_embedding_retries_total',
  'Embedding requests sent again after a 5xx, 408, 409, timeout or lost connection (429s: cidx_embedding_rate_limited_total)',
  ['model'] as const,
);

export const chunksEmbedded = counter('cidx_chunks_embedded_total', 'Chunks embedded by reindex runs', [] as const);

export const chunksSkipped = counter(
  'cidx_chunks_skipped_total',
  'Chunks a reindex run left alone because their content hash was unchanged',
  [] as const,
);

export const qdrantCallDuration = histogram(
  'cidx_qdrant_call_duration_seconds',
  'Latency of calls to Qdrant by operation and outcome',
  LATENCY_BUCKETS,
  ['operation', 'outcome'] as const,
);

export const postgresQueryDuration = histogram(
  'cidx_postgres_query_duration_seconds',
  'Latency of Postgres queries by operation and outcome',
  LATENCY_BUCKETS,
  ['operation', 'outcome'] as const,
);

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

export const indexRunTokens = counter(
  'cidx_index_run_tokens_total',
  'Embedding tokens spent by finished reindex runs, as the runs report them',
  [] as const,
);
