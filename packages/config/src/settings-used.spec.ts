import { envSchema } from './config.schema';
import { loadConfig } from './config';

/**
 * A valid value for each setting that differs from its default (with what it needs beside it). A setting
 * added to the schema needs a line here: the spec below proves the configuration reads it.
 */
const SAMPLES: Record<string, Record<string, string>> = {
  LOG_LEVEL: { LOG_LEVEL: 'debug' },
  DATABASE_URL: { DATABASE_URL: 'postgres://u@db.example:5433/x' },
  POSTGRES_HOST: { POSTGRES_HOST: 'db.example' },
  POSTGRES_PORT: { POSTGRES_PORT: '5433' },
  POSTGRES_DB: { POSTGRES_DB: 'other' },
  POSTGRES_USER: { POSTGRES_USER: 'someone' },
  POSTGRES_PASSWORD: { POSTGRES_PASSWORD: 'secret' },
  DB_POOL_SIZE: { DB_POOL_SIZE: '3' },
  DB_MIGRATE_ON_START: { DB_MIGRATE_ON_START: 'false' },
  DB_PROCESS_COUNT: { DB_PROCESS_COUNT: '9' },
  REDIS_URL: { REDIS_URL: 'redis://r.example:6380' },
  REDIS_CLUSTER: { REDIS_CLUSTER: 'true', QUEUE_PREFIX: '{c}' },
  REDIS_CLUSTER_NODES: { REDIS_CLUSTER_NODES: 'a:7000,b:7001', QUEUE_PREFIX: '{c}' },
  QUEUE_PREFIX: { QUEUE_PREFIX: 'other' },
  QDRANT_URL: { QDRANT_URL: 'http://q.example:7000' },
  QDRANT_HOST: { QDRANT_HOST: 'q.example' },
  QDRANT_PORT: { QDRANT_PORT: '7000' },
  QDRANT_API_KEY: { QDRANT_API_KEY: 'qk' },
  QDRANT_COLLECTION_NAME: { QDRANT_COLLECTION_NAME: 'other' },
  QDRANT_TIMEOUT_MS: { QDRANT_TIMEOUT_MS: '5000' },
  QDRANT_SHARD_NUMBER: { QDRANT_SHARD_NUMBER: '2' },
  QDRANT_REPLICATION_FACTOR: { QDRANT_REPLICATION_FACTOR: '2' },
  QDRANT_WRITE_CONSISTENCY_FACTOR: { QDRANT_WRITE_CONSISTENCY_FACTOR: '2' },
  QDRANT_TRANSPORT: { QDRANT_TRANSPORT: 'rest' },
  QDRANT_GRPC_PORT: { QDRANT_GRPC_PORT: '7334' },
  OPENAI_API_KEY: { OPENAI_API_KEY: 'sk-x' },
  OPENAI_BASE_URL: { OPENAI_BASE_URL: 'http://o.example/v1' },
  EMBEDDING_MODEL: { EMBEDDING_MODEL: 'text-embedding-3-small' },
  EMBEDDING_DIMENSIONS: { EMBEDDING_DIMENSIONS: '256' },
  EMBEDDING_ENCODING: { EMBEDDING_ENCODING: 'float' },
  EMBEDDING_BATCH_MAX_TOKENS: { EMBEDDING_BATCH_MAX_TOKENS: '1000' },
  EMBEDDING_BATCH_MAX_INPUTS: { EMBEDDING_BATCH_MAX_INPUTS: '16' },
  EMBEDDING_MAX_RETRIES: { EMBEDDING_MAX_RETRIES: '1' },
  EMBEDDING_TIMEOUT_MS: { EMBEDDING_TIMEOUT_MS: '1000' },
  EMBEDDING_RPM: { EMBEDDING_RPM: '100' },
  EMBEDDING_TPM: { EMBEDDING_TPM: '1000' },
  QUERY_EMBEDDING_SHARE: { QUERY_EMBEDDING_SHARE: '0.25' },
  API_HOST: { API_HOST: '127.0.0.1' },
  API_PORT: { API_PORT: '4000' },
  QUERY_HOST: { QUERY_HOST: '127.0.0.1' },
  QUERY_PORT: { QUERY_PORT: '4001' },
  MAX_UPLOAD_BYTES: { MAX_UPLOAD_BYTES: '1000' },
  WORKER_CONCURRENCY: { WORKER_CONCURRENCY: '4' },
  WORKER_LOCK_DURATION_MS: { WORKER_LOCK_DURATION_MS: '5000' },
  WORKER_STALLED_INTERVAL_MS: { WORKER_STALLED_INTERVAL_MS: '5000' },
  WORKER_MAX_STALLED_COUNT: { WORKER_MAX_STALLED_COUNT: '3' },
  CATALOG_LEASE_TTL_MS: { CATALOG_LEASE_TTL_MS: '5000' },
  RECONCILE_INTERVAL_MS: { RECONCILE_INTERVAL_MS: '0' },
  WORKER_PORT: { WORKER_PORT: '9000' },
  WORKER_SHUTDOWN_TIMEOUT_MS: { WORKER_SHUTDOWN_TIMEOUT_MS: '12345' },
  WORKER_HEALTH_PORT: { WORKER_HEALTH_PORT: '9001' },
  WORKER_METRICS_PORT: { WORKER_METRICS_PORT: '9002' },
  HYBRID_DENSE_WEIGHT: { HYBRID_DENSE_WEIGHT: '7' },
  HYBRID_SPARSE_WEIGHT: { HYBRID_SPARSE_WEIGHT: '7' },
  HYBRID_RRF_K: { HYBRID_RRF_K: '60' },
  RETRIEVAL_CANDIDATES: { RETRIEVAL_CANDIDATES: '50' },
  API_KEYS: { API_KEYS: 'k1,k2' },
  IMPORT_CONNECT_TIMEOUT_MS: { IMPORT_CONNECT_TIMEOUT_MS: '1000' },
  IMPORT_STATEMENT_TIMEOUT_MS: { IMPORT_STATEMENT_TIMEOUT_MS: '1000' },
  IMPORT_ALLOWED_HOSTS: { IMPORT_ALLOWED_HOSTS: 'db.internal' },
  SOURCE_VAULT_KEY: { SOURCE_VAULT_KEY: 'a-secret-of-some-length' },
};

describe('the configuration schema', () => {
  const settings = Object.keys(envSchema.shape);

  it('has a sample value for every setting', () => {
    expect(settings.filter((key) => !(key in SAMPLES))).toEqual([]);
  });

  it.each(settings.filter((key) => key in SAMPLES))('reads %s into the configuration', (key) => {
    expect(loadConfig(SAMPLES[key])).not.toEqual(loadConfig({}));
  });

  it('serves the worker on WORKER_PORT, else on the health port, else on the metrics port of earlier releases', () => {
    expect(loadConfig({}).worker.port).toBe(9464);
    expect(loadConfig({ WORKER_METRICS_PORT: '9002' }).worker.port).toBe(9002);
    expect(loadConfig({ WORKER_METRICS_PORT: '9002', WORKER_HEALTH_PORT: '9001' }).worker.port).toBe(9001);
    expect(loadConfig({ WORKER_METRICS_PORT: '9002', WORKER_HEALTH_PORT: '9001', WORKER_PORT: '0' }).worker.port).toBe(0);
  });
});
