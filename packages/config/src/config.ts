import { envSchema, MODEL_DIMENSIONS, type ParsedEnv } from './config.schema';
import { ConfigError } from './config.error';

/** The validated configuration of every service. Built once at start by {@link loadConfig}. */
export interface Config {
  logLevel: ParsedEnv['LOG_LEVEL'];
  postgres: {
    /** Connection URL, with the password if one is configured. Never log it; see `maskUrl`. */
    url: string;
    poolSize: number;
    migrateOnStart: boolean;
    /**
     * How many processes (api, query and every worker, on all hosts) open a pool of `poolSize` on this
     * database: `DB_PROCESS_COUNT`. Only used to warn at start when the pools would not fit.
     */
    processCount: number;
  };
  redis: {
    url: string;
    /** True with `REDIS_CLUSTER=true` or `REDIS_CLUSTER_NODES`: every role uses an ioredis `Cluster`. */
    cluster: boolean;
    /** Seed nodes of the cluster: `REDIS_CLUSTER_NODES`, else the host and port of `REDIS_URL`. */
    nodes: { host: string; port: number }[];
  };
  queue: {
    prefix: string;
    /**
     * The prefix's hash tag with its braces (`{cidx}`), or undefined. Keys that must share a Redis Cluster
     * slot with the queue (locks, rate limits) start with it.
     */
    hashTag: string | undefined;
  };
  qdrant: {
    url: string;
    apiKey: string | undefined;
    collection: string;
    timeoutMs: number;
    /** Collection parameters for Qdrant's distributed mode; Qdrant's defaults when undefined. */
    shardNumber: number | undefined;
    replicationFactor: number | undefined;
    writeConsistencyFactor: number | undefined;
    /** How points are written and read: gRPC (`grpcUrl`) or REST (`url`); collections and aliases use REST. */
    transport: 'grpc' | 'rest';
    /** Qdrant's gRPC endpoint: the REST URL's scheme and host with `QDRANT_GRPC_PORT`. */
    grpcUrl: string;
    /** False when neither `QDRANT_URL` nor `QDRANT_HOST` was given: the URL is the local default. */
    configured: boolean;
  };
  embeddings: {
    /** `openai` when an API key is set, else the local deterministic embedder. */
    provider: 'openai' | 'local';
    apiKey: string | undefined;
    baseUrl: string | undefined;
    model: string;
    dimensions: number;
    encoding: 'base64' | 'float';
    batchMaxTokens: number;
    batchMaxInputs: number;
    maxRetries: number;
    timeoutMs: number;
    /** Requests per minute all workers together may send (`EMBEDDING_RPM`); undefined = no client-side limit. */
    requestsPerMinute: number | undefined;
    /** Tokens per minute all workers together may send (`EMBEDDING_TPM`); undefined = no client-side limit. */
    tokensPerMinute: number | undefined;
    /**
     * The part of each limit reserved for the query service (`QUERY_EMBEDDING_SHARE`); the workers share
     * the rest. See `createRateLimiter`.
     */
    queryShare: number;
  };
  api: { host: string; port: number; maxUploadBytes: number };
  query: { host: string; port: number };
  worker: {
    concurrency: number;
    /** BullMQ job lock: a killed process's jobs are taken up again after at most this plus `stalledIntervalMs`. */
    lockDurationMs: number;
    stalledIntervalMs: number;
    maxStalledCount: number;
    /**
     * On SIGTERM, how long the jobs in flight may take to finish (`WORKER_SHUTDOWN_TIMEOUT_MS`); past it the
     * process logs what it abandons and exits non-zero.
     */
    shutdownTimeoutMs: number;
    /** How long a catalog's write lease lives without renewal (a dead holder keeps it at most this long). */
    leaseTtlMs: number;
    /** Period of the reconcile job (0: only on demand). */
    reconcileIntervalMs: number;
    /**
     * The worker's one HTTP port for `/healthz`, `/readyz` and `/metrics` (`WORKER_PORT`, else
     * `WORKER_HEALTH_PORT`, else `WORKER_METRICS_PORT`, else 9464; 0 picks a free one).
     */
    port: number;
  };
  /** How the query service ranks (see apps/query). */
  retrieval: {
    /**
     * Weights of the dense and the sparse (lexical) prefetch in weighted reciprocal rank fusion. Defaults
     * depend on the embedder: the local hashing embedder only sees shared words, so the lexical side,
     * which weighs words by rarity, leads (1 : 3); a real embedding model weighs both equally (1 : 1).
     */
    denseWeight: number;
    sparseWeight: number;
    /**
     * RRF's `k` (Qdrant's default, 2): how flat the rank curve is. Qdrant divides a rank by its weight,
     * `1 / ((rank + 1) / weight + k − 1)`, so a small `k` lets the weights tell.
     */
    rrfK: number;
    /** Chunks each prefetch returns and the service ranks tables over; wide, so one wide table cannot fill it. */
    candidates: number;
  };
  /** API keys required by api and query (Bearer) and Bull Board (Basic); none means open. Never log them. */
  auth: { apiKeys: string[] };
  /** Limits of reading a live database for `POST /v1/catalogs/import`. */
  /** Reading live databases: timeouts, and the servers that may be read (host names, addresses, CIDR ranges). */
  import: { connectTimeoutMs: number; statementTimeoutMs: number; allowedHosts: string[] };
  /**
   * The secret the key of the source vault (connection strings kept encrypted in Redis for a job) is derived
   * from: `SOURCE_VAULT_KEY`, else the Postgres connection string (its password), which api and workers share.
   * Never log it.
   */
  sourceVault: { secret: string };
}

/** The hash tag a queue prefix starts with (`{cidx}` of `{cidx}` or `{cidx}e2e`), or undefined. */
export function hashTagOf(prefix: string): string | undefined {
  return /^\{[^{}]+\}/.exec(prefix)?.[0];
}

function redisNodes(env: ParsedEnv): { host: string; port: number }[] {
  if (env.REDIS_CLUSTER_NODES) {
    return env.REDIS_CLUSTER_NODES.split(',').map((entry) => {
      const at = entry.lastIndexOf(':');
      return { host: entry.slice(0, at), port: Number(entry.slice(at + 1)) };
    });
  }
  const u = new URL(env.REDIS_URL);
  return [{ host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : 6379 }];
}

/** Dense and sparse weights per embedder when the environment does not set them. */
export const DEFAULT_FUSION_WEIGHTS = {
  local: { dense: 1, sparse: 3 },
  openai: { dense: 1, sparse: 1 },
} as const;

function postgresUrl(env: ParsedEnv): string {
  if (env.DATABASE_URL) return env.DATABASE_URL;
  const u = new URL('postgres://localhost');
  u.hostname = env.POSTGRES_HOST;
  u.port = String(env.POSTGRES_PORT);
  u.username = env.POSTGRES_USER;
  if (env.POSTGRES_PASSWORD) u.password = env.POSTGRES_PASSWORD;
  u.pathname = `/${env.POSTGRES_DB}`;
  return u.toString();
}

/**
 * Validates the environment and builds the {@link Config}. Throws one {@link ConfigError} that names every
 * bad key. Tests pass a plain object instead of `process.env`.
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(source);
  const problems: { key: string; message: string }[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push({ key: String(issue.path[0] ?? '(environment)'), message: issue.message });
    }
  }
  if (parsed.success) {
    const env = parsed.data;
    const known = MODEL_DIMENSIONS[env.EMBEDDING_MODEL];
    if (env.EMBEDDING_DIMENSIONS === undefined && known === undefined) {
      problems.push({
        key: 'EMBEDDING_DIMENSIONS',
        message: `required for model "${env.EMBEDDING_MODEL}", whose default size is not known`,
      });
    }
    if (known !== undefined && env.EMBEDDING_DIMENSIONS !== undefined && env.EMBEDDING_DIMENSIONS > known) {
      problems.push({
        key: 'EMBEDDING_DIMENSIONS',
        message: `${env.EMBEDDING_DIMENSIONS} is more than ${env.EMBEDDING_MODEL} returns (${known})`,
      });
    }
    const cluster = env.REDIS_CLUSTER || env.REDIS_CLUSTER_NODES !== undefined;
    if (cluster && hashTagOf(env.QUEUE_PREFIX) === undefined) {
      problems.push({
        key: 'QUEUE_PREFIX',
        message:
          `"${env.QUEUE_PREFIX}" has no hash tag: in Redis Cluster mode BullMQ needs every key of a queue in one ` +
          `slot, so start the prefix with one, e.g. QUEUE_PREFIX={${env.QUEUE_PREFIX}}`,
      });
    }
    for (const entry of (env.REDIS_CLUSTER_NODES ?? '').split(',').filter(Boolean)) {
      const port = Number(entry.slice(entry.lastIndexOf(':') + 1));
      if (port < 1 || port > 65535) problems.push({ key: 'REDIS_CLUSTER_NODES', message: `${entry}: port must be 1-65535` });
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const env = parsed.data;
  const provider = env.OPENAI_API_KEY ? 'openai' : 'local';
  const qdrantUrl = env.QDRANT_URL ?? `http://${env.QDRANT_HOST ?? '127.0.0.1'}:${env.QDRANT_PORT}`;
  return {
    logLevel: env.LOG_LEVEL,
    postgres: {
      url: postgresUrl(env),
      poolSize: env.DB_POOL_SIZE,
      migrateOnStart: env.DB_MIGRATE_ON_START,
      processCount: env.DB_PROCESS_COUNT,
    },
    redis: {
      url: env.REDIS_URL,
      cluster: env.REDIS_CLUSTER || env.REDIS_CLUSTER_NODES !== undefined,
      nodes: redisNodes(env),
    },
    queue: { prefix: env.QUEUE_PREFIX, hashTag: hashTagOf(env.QUEUE_PREFIX) },
    qdrant: {
      url: qdrantUrl.replace(/\/+$/, ''),
      apiKey: env.QDRANT_API_KEY,
      collection: env.QDRANT_COLLECTION_NAME,
      timeoutMs: env.QDRANT_TIMEOUT_MS,
      shardNumber: env.QDRANT_SHARD_NUMBER,
      replicationFactor: env.QDRANT_REPLICATION_FACTOR,
      writeConsistencyFactor: env.QDRANT_WRITE_CONSISTENCY_FACTOR,
      transport: env.QDRANT_TRANSPORT,
      grpcUrl: grpcUrlOf(qdrantUrl, env.QDRANT_GRPC_PORT),
      configured: env.QDRANT_URL !== undefined || env.QDRANT_HOST !== undefined,
    },
    embeddings: {
      provider,
      apiKey: env.OPENAI_API_KEY,
      baseUrl: env.OPENAI_BASE_URL,
      model: env.EMBEDDING_MODEL,
      dimensions: env.EMBEDDING_DIMENSIONS ?? MODEL_DIMENSIONS[env.EMBEDDING_MODEL] ?? 0,
      encoding: env.EMBEDDING_ENCODING,
      batchMaxTokens: env.EMBEDDING_BATCH_MAX_TOKENS,
      batchMaxInputs: env.EMBEDDING_BATCH_MAX_INPUTS,
      maxRetries: env.EMBEDDING_MAX_RETRIES,
      timeoutMs: env.EMBEDDING_TIMEOUT_MS,
      requestsPerMinute: env.EMBEDDING_RPM,
      tokensPerMinute: env.EMBEDDING_TPM,
      queryShare: env.QUERY_EMBEDDING_SHARE,
    },
    api: { host: env.API_HOST, port: env.API_PORT, maxUploadBytes: env.MAX_UPLOAD_BYTES },
    query: { host: env.QUERY_HOST, port: env.QUERY_PORT },
    worker: {
      concurrency: env.WORKER_CONCURRENCY,
      lockDurationMs: env.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
      maxStalledCount: env.WORKER_MAX_STALLED_COUNT,
      shutdownTimeoutMs: env.WORKER_SHUTDOWN_TIMEOUT_MS,
      leaseTtlMs: env.CATALOG_LEASE_TTL_MS,
      reconcileIntervalMs: env.RECONCILE_INTERVAL_MS,
      port: env.WORKER_PORT ?? env.WORKER_HEALTH_PORT ?? env.WORKER_METRICS_PORT ?? 9464,
    },
    retrieval: {
      denseWeight: env.HYBRID_DENSE_WEIGHT ?? DEFAULT_FUSION_WEIGHTS[provider].dense,
      sparseWeight: env.HYBRID_SPARSE_WEIGHT ?? DEFAULT_FUSION_WEIGHTS[provider].sparse,
      rrfK: env.HYBRID_RRF_K,
      candidates: env.RETRIEVAL_CANDIDATES,
    },
    auth: { apiKeys: env.API_KEYS },
    import: { connectTimeoutMs: env.IMPORT_CONNECT_TIMEOUT_MS, statementTimeoutMs: env.IMPORT_STATEMENT_TIMEOUT_MS, allowedHosts: env.IMPORT_ALLOWED_HOSTS },
    sourceVault: { secret: env.SOURCE_VAULT_KEY ?? postgresUrl(env) },
  };
}

/** The gRPC URL beside a REST URL: same scheme (TLS for `https`) and host, the gRPC port, no path. */
function grpcUrlOf(restUrl: string, grpcPort: number): string {
  const url = new URL(restUrl);
  // `hostname` keeps the brackets of an IPv6 address.
  return `${url.protocol}//${url.hostname}:${grpcPort}`;
}
