/** The wire protocols the services speak to Qdrant's points with (`QDRANT_TRANSPORT`). */
export type QdrantTransport = 'rest' | 'grpc';

/**
 * The transport end-to-end runs give the apps: `E2E_QDRANT_TRANSPORT` (`rest` or `grpc`), REST when unset,
 * so the whole suite can run over either (`E2E_QDRANT_TRANSPORT=grpc pnpm jest tests/e2e`).
 */
export function e2eQdrantTransport(): QdrantTransport {
  const wanted = process.env.E2E_QDRANT_TRANSPORT ?? 'rest';
  if (wanted !== 'rest' && wanted !== 'grpc') throw new Error(`E2E_QDRANT_TRANSPORT must be rest or grpc, got "${wanted}"`);
  return wanted;
}

/**
 * The settings that point an app at a Qdrant emulator (its REST URL and gRPC port), over `transport`
 * ({@link e2eQdrantTransport} unless given).
 */
export function qdrantEnv(qdrant: { url: string; grpcPort: number }, transport: QdrantTransport = e2eQdrantTransport()): Record<string, string> {
  return { QDRANT_URL: qdrant.url, QDRANT_GRPC_PORT: String(qdrant.grpcPort), QDRANT_TRANSPORT: transport };
}
