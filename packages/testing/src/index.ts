export { uniqueName } from './names';
export { createTestDatabase, withDatabase, type TestDatabase, type Closable } from './test-database';
export { deleteRedisPrefix, readRedisPrefix, uniqueQueuePrefix } from './redis';
export { waitFor } from './wait-for';
export { freePort, freePortPair } from './free-port';
export { startRedisServer, type RedisServerProcess } from './redis-server';
export { startRedisCluster, type RedisClusterProcess } from './redis-cluster';
export { mountedRoutes } from './express-routes';
export {
  createPgvectorEraTable,
  legacyRows,
  float32Vector,
  seededRandom,
  cosineSimilarity,
  type LegacyTestRow,
} from './pgvector-era';
export { startEmulatorProcess, type EmulatorProcess } from './emulator-process';
export { startPostgresServer, type PostgresServerProcess } from './postgres-server';
export { qdrantEnv, e2eQdrantTransport, type QdrantTransport } from './qdrant-env';
export { spawnGroup, runGroup, type ProcessGroup, type ProcessGroupOptions } from './process-group';
