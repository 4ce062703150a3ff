import { envSchema, MODEL_DIMENSIONS, type ParsedEnv } from './config.schema';
import { ConfigError } from './config.error';

/** The validated configuration of every service. Built once at start by {@link loadConfig}. */
export interface Config {
  env: ParsedEnv['NODE_ENV'];
  logLevel: ParsedEnv['LOG_LEVEL'];
  postgres: {
    /** Connection URL, with the password if one is configured. Never log it; see `maskUrl`. */
    url: string;
    poolSize: number;
    migrateOnStart: boolean;
  };
  redis: { url: string };
  queue: { prefix: string };
  qdrant: {
    url: string;
    apiKey: string | undefined;
    collection: string;
    grpcPort: number;
    timeoutMs: number;
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
  };
  api: { host: string; port: number; maxUploadBytes: number };
  query: { host: string; port: number };
  worker: { concurrency: number; metricsPort: number };
  /** API keys required by api and query (Bearer) and Bull Board (Basic); none means open. Never log them. */
  auth: { apiKeys: string[] };
  /** Limits of reading a live database for `POST /v1/catalogs/import`. */
  import: { connectTimeoutMs: number; statementTimeoutMs: number };
}

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
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const env = parsed.data;
  const qdrantUrl = env.QDRANT_URL ?? `http://${env.QDRANT_HOST ?? '127.0.0.1'}:${env.QDRANT_PORT}`;
  return {
    env: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    postgres: { url: postgresUrl(env), poolSize: env.DB_POOL_SIZE, migrateOnStart: env.DB_MIGRATE_ON_START },
    redis: { url: env.REDIS_URL },
    queue: { prefix: env.QUEUE_PREFIX },
    qdrant: {
      url: qdrantUrl.replace(/\/+$/, ''),
      apiKey: env.QDRANT_API_KEY,
      collection: env.QDRANT_COLLECTION_NAME,
      grpcPort: env.QDRANT_GRPC_PORT,
      timeoutMs: env.QDRANT_TIMEOUT_MS,
      configured: env.QDRANT_URL !== undefined || env.QDRANT_HOST !== undefined,
    },
    embeddings: {
      provider: env.OPENAI_API_KEY ? 'openai' : 'local',
      apiKey: env.OPENAI_API_KEY,
      baseUrl: env.OPENAI_BASE_URL,
      model: env.EMBEDDING_MODEL,
      dimensions: env.EMBEDDING_DIMENSIONS ?? MODEL_DIMENSIONS[env.EMBEDDING_MODEL] ?? 0,
      encoding: env.EMBEDDING_ENCODING,
      batchMaxTokens: env.EMBEDDING_BATCH_MAX_TOKENS,
      batchMaxInputs: env.EMBEDDING_BATCH_MAX_INPUTS,
      maxRetries: env.EMBEDDING_MAX_RETRIES,
      timeoutMs: env.EMBEDDING_TIMEOUT_MS,
    },
    api: { host: env.API_HOST, port: env.API_PORT, maxUploadBytes: env.MAX_UPLOAD_BYTES },
    query: { host: env.QUERY_HOST, port: env.QUERY_PORT },
    worker: { concurrency: env.WORKER_CONCURRENCY, metricsPort: env.WORKER_METRICS_PORT },
    auth: { apiKeys: env.API_KEYS },
    import: { connectTimeoutMs: env.IMPORT_CONNECT_TIMEOUT_MS, statementTimeoutMs: env.IMPORT_STATEMENT_TIMEOUT_MS },
  };
}
