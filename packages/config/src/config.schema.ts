import { z } from 'zod';

/** Default embedding sizes of the OpenAI models the product knows. */
export const MODEL_DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-large': 3072,
  'text-embedding-3-small': 1536,
  'text-embedding-ada-002': 1536,
};

const port = z.coerce
  .number({ error: 'must be a port number (1-65535)' })
  .int('must be a port number (1-65535)')
  .min(1, 'must be a port number (1-65535)')
  .max(65535, 'must be a port number (1-65535)');
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const url = (protocols: string[]) =>
  optionalString.refine(
    (v) => {
      if (v === undefined) return true;
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );
/** A worker's HTTP port; 0 picks a free one (logged). */
const workerPort = z.coerce
  .number({ error: 'must be a port number (0-65535; 0 picks a free one)' })
  .int('must be a port number (0-65535; 0 picks a free one)')
  .min(0, 'must be a port number (0-65535; 0 picks a free one)')
  .max(65535, 'must be a port number (0-65535; 0 picks a free one)');
const positiveInt = z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').positive('must be more than 0');
/** Qdrant's collection parameters are uint32 with a minimum of 1 (`CreateCollection` in its OpenAPI spec). */
const uint32 = positiveInt.max(4_294_967_295, 'must be at most 4294967295');
const weight = z.coerce
  .number({ error: 'must be a number from 0 to 100' })
  .min(0, 'must be a number from 0 to 100')
  .max(100, 'must be a number from 0 to 100');
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * The environment the services read, as raw strings. Both the names of existing installs
 * (`QDRANT_HOST`, `POSTGRES_DB`, …) and URL forms (`DATABASE_URL`, `REDIS_URL`, `QDRANT_URL`) are accepted;
 * a URL form wins over the separate parts.
 */
export const envSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  DATABASE_URL: url(['postgres:', 'postgresql:']),
  POSTGRES_HOST: z.string().min(1).default('127.0.0.1'),
  POSTGRES_PORT: port.default(5432),
  POSTGRES_DB: z.string().min(1).default('catalog_indexer'),
  POSTGRES_USER: z.string().min(1).default('postgres'),
  POSTGRES_PASSWORD: optionalString,
  DB_POOL_SIZE: positiveInt.max(100).default(10),
  DB_MIGRATE_ON_START: bool.default(true),
  DB_PROCESS_COUNT: positiveInt.max(10_000).default(4),

  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  REDIS_CLUSTER: bool.default(false),
  REDIS_CLUSTER_NODES: optionalString.pipe(
    z
      .string()
      .regex(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, 'list seed nodes as host:port,host:port')
      .optional(),
  ),
  QUEUE_PREFIX: z
    .string()
    .regex(
      /^(\{[A-Za-z0-9_-]+\})?[A-Za-z0-9_-]*$/,
      'use letters, digits, "_" or "-", optionally after one hash tag such as "{cidx}" (no ":")',
    )
    .refine((v) => v.length > 0, 'must not be empty')
    .default('cidx'),

  QDRANT_URL: url(['http:', 'https:']),
  QDRANT_HOST: optionalString,
  QDRANT_PORT: port.default(6333),
  QDRANT_API_KEY: optionalString,
  QDRANT_COLLECTION_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,255}$/, 'use 1-255 letters, digits, "_" or "-"')
    .default('embeddings'),
  QDRANT_TIMEOUT_MS: positiveInt.default(30_000),
  QDRANT_SHARD_NUMBER: uint32.optional(),
  QDRANT_REPLICATION_FACTOR: uint32.optional(),
  QDRANT_WRITE_CONSISTENCY_FACTOR: uint32.optional(),
  // Points (upsert, delete, scroll, count, query) over gRPC or REST; collections and aliases always use REST.
  QDRANT_TRANSPORT: z.enum(['grpc', 'rest']).default('grpc'),
  QDRANT_GRPC_PORT: port.default(6334),

  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: url(['http:', 'https:']),
  EMBEDDING_MODEL: z.string().min(1).default('text-embedding-3-large'),
  EMBEDDING_DIMENSIONS: positiveInt.max(65536).optional(),
  EMBEDDING_ENCODING: z.enum(['base64', 'float']).default('base64'),
  EMBEDDING_BATCH_MAX_TOKENS: positiveInt.max(300_000).default(100_000),
  EMBEDDING_BATCH_MAX_INPUTS: positiveInt.max(2048).default(512),
  EMBEDDING_MAX_RETRIES: z.coerce.number().int().min(0).max(20).default(5),
  EMBEDDING_TIMEOUT_MS: positiveInt.default(60_000),
  // The API's limits for the key and model, shared by every worker through Redis; unset = not limited here.
  EMBEDDING_RPM: positiveInt.optional(),
  EMBEDDING_TPM: positiveInt.optional(),
  // The part of EMBEDDING_RPM / EMBEDDING_TPM reserved for the query service's questions; workers get the rest.
  QUERY_EMBEDDING_SHARE: z.coerce
    .number({ error: 'must be a number between 0 and 1 (exclusive), e.g. 0.1' })
    .gt(0, 'must be more than 0 (the query service needs a part of the budget)')
    .lt(1, 'must be less than 1 (the workers need a part of the budget)')
    .default(0.1),

  API_HOST: z.string().min(1).default('0.0.0.0'),
  API_PORT: port.default(3000),
  QUERY_HOST: z.string().min(1).default('0.0.0.0'),
  QUERY_PORT: port.default(3001),
  MAX_UPLOAD_BYTES: positiveInt.default(20 * 1024 * 1024),

  WORKER_CONCURRENCY: positiveInt.max(64).default(2),
  WORKER_LOCK_DURATION_MS: positiveInt.min(1_000).default(30_000),
  WORKER_STALLED_INTERVAL_MS: positiveInt.min(1_000).default(30_000),
  WORKER_MAX_STALLED_COUNT: positiveInt.max(1_000).default(50),
  WORKER_SHUTDOWN_TIMEOUT_MS: positiveInt.min(1_000).default(30_000),
  CATALOG_LEASE_TTL_MS: positiveInt.min(1_000).default(60_000),
  RECONCILE_INTERVAL_MS: z.coerce.number({ error: 'must be a whole number of milliseconds (0 turns it off)' }).int().min(0).default(300_000),

  HYBRID_DENSE_WEIGHT: weight.optional(),
  HYBRID_SPARSE_WEIGHT: weight.optional(),
  HYBRID_RRF_K: positiveInt.max(1000).default(2),
  RETRIEVAL_CANDIDATES: positiveInt.max(1000).default(200),
  // One port per worker for /healthz, /readyz and /metrics. The two names of earlier releases, one port each,
  // still name it when WORKER_PORT is not set (the health port first: orchestrators probe it).
  WORKER_PORT: workerPort.optional(),
  WORKER_HEALTH_PORT: workerPort.optional(),
  WORKER_METRICS_PORT: workerPort.optional(),

  API_KEYS: optionalString.transform((v) => (v === undefined ? [] : v.split(',').map((k) => k.trim()).filter((k) => k.length > 0))),
  IMPORT_CONNECT_TIMEOUT_MS: positiveInt.max(120_000).default(10_000),
  IMPORT_STATEMENT_TIMEOUT_MS: positiveInt.max(600_000).default(30_000),
  // Database servers that import and migration endpoints may connect to: host names, addresses, CIDR ranges.
  IMPORT_ALLOWED_HOSTS: z
    .string()
    .default('127.0.0.0/8,::1/128')
    .transform((v) => v.split(',').map((h) => h.trim()).filter((h) => h.length > 0))
    .refine((hosts) => hosts.length > 0, 'list at least one host name or CIDR range (default: 127.0.0.0/8,::1/128)')
    .refine((hosts) => hosts.every((h) => /^[A-Za-z0-9.:-]+(\/\d{1,3})?$/.test(h)), 'give host names, IP addresses or CIDR ranges separated by commas, e.g. db.internal,10.0.0.0/8'),
  // The secret the key that encrypts connection strings in Redis is derived from (api and workers share it).
  SOURCE_VAULT_KEY: optionalString.refine((v) => v === undefined || v.length >= 16, 'give a secret of at least 16 characters (e.g. openssl rand -hex 32)'),
});

export type RawEnv = z.input<typeof envSchema>;
export type ParsedEnv = z.output<typeof envSchema>;
