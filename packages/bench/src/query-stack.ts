import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { createServer } from 'node:net';
import path from 'node:path';
import { flattenItems, type Catalog } from '@catalog-indexer/catalog';
import { loadConfig } from '@catalog-indexer/config';
import {
  CatalogRepository,
  EmbeddingRepository,
  IndexRunRepository,
  LeaseRepository,
  PointDeletionRepository,
  openDataSource,
  type DataSource,
} from '@catalog-indexer/db';
import { REPO_ROOT, spawnApp, waitForHttp } from '@catalog-indexer/devstack';
import { LocalEmbedder } from '@catalog-indexer/embeddings';
import { QdrantEmulator } from '@catalog-indexer/emulators';
import { createLogger } from '@catalog-indexer/logger';
import { ReindexService, reindexInProcess } from '@catalog-indexer/pipeline';
import { createTestDatabase, uniqueName, type TestDatabase } from '@catalog-indexer/testing';
import { QdrantStore } from '@catalog-indexer/vector-store';
import { type Cleanup } from './bench-cleanup';

/** The read path as deployed: a Postgres database, Qdrant (the emulator), and apps/query as its own process. */
export interface QueryStack {
  db: TestDatabase<DataSource>;
  store: QdrantStore;
  catalogs: CatalogRepository;
  reindex: ReindexService;
  /** Base URL of the query process. */
  queryUrl: string;
  /** What the query process wrote (its log), for diagnostics. */
  queryOutput: () => string;
  /** The embedder and retrieval settings the query process runs with (the defaults of an empty environment). */
  config: ReturnType<typeof loadConfig>;
}

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts the stack: a fresh database (dropped at cleanup), the Qdrant emulator (in this process, or at
 * `qdrantUrl` when given), the default local embedder, and apps/query as a child process configured by an
 * environment that sets only where the services are. Everything stops at cleanup.
 */
export async function startQueryStack(
  cleanup: Cleanup,
  options: {
    qdrantProcess?: boolean;
    dimensions?: number;
    /**
     * Niceness of the emulator's process (0-19; 0 when absent): Qdrant runs on its own machine in
     * production, and its stand-in's exact search should not take the CPU from the service measured.
     */
    qdrantNice?: number;
    /** `QDRANT_TRANSPORT` of apps/query: how its searches reach Qdrant (the product's default, gRPC, unless given). */
    transport?: 'rest' | 'grpc';
  } = {},
): Promise<QueryStack> {
  const sizing: Record<string, string> = options.dimensions ? { EMBEDDING_DIMENSIONS: String(options.dimensions) } : {};
  const config = loadConfig(sizing);
  const db = await createTestDatabase((url) => openDataSource({ url, poolSize: 8, applicationName: 'bench', migrate: true }));
  cleanup.add('drop database', () => db.drop());
  let qdrantUrl: string;
  let grpcPort: number;
  if (options.qdrantProcess) {
    // Its own process, so that its exact search does not share an event loop with the clients.
    const port = await freePort();
    grpcPort = await freePort();
    const entry = path.join(REPO_ROOT, 'packages', 'emulators', 'src', 'cli.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', entry, 'qdrant', '--port', String(port), '--grpc-port', String(grpcPort)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (options.qdrantNice && child.pid !== undefined) setPriority(child.pid, options.qdrantNice);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    cleanup.add('stop Qdrant emulator', async () => {
      child.kill('SIGTERM');
      await exited;
    });
    qdrantUrl = `http://127.0.0.1:${port}`;
    await waitForHttp(`${qdrantUrl}/`, 60_000);
  } else {
    const qdrant = new QdrantEmulator();
    ({ url: qdrantUrl, grpcPort } = await qdrant.start(0));
    cleanup.add('stop Qdrant emulator', () => qdrant.stop());
  }
  const logger = createLogger({ level: 'silent' });
  const embedder = new LocalEmbedder(config.embeddings.dimensions);
  const collection = uniqueName('bench');
  const store = new QdrantStore({ url: qdrantUrl, collection, dimensions: embedder.dimensions, logger });
  await store.ensureCollection();
  const catalogs = new CatalogRepository(db.dataSource);
  const reindex = new ReindexService({
    catalogs,
    embeddings: new EmbeddingRepository(db.dataSource),
    runs: new IndexRunRepository(db.dataSource),
    leases: new LeaseRepository(db.dataSource),
    deletions: new PointDeletionRepository(db.dataSource),
    store,
    embedder,
    logger,
    batchMaxInputs: 512,
  });
  const port = await freePort();
  const query = spawnApp('query', {
    DATABASE_URL: db.url,
    QDRANT_URL: qdrantUrl,
    QDRANT_GRPC_PORT: String(grpcPort),
    QDRANT_TRANSPORT: options.transport ?? 'grpc',
    QDRANT_COLLECTION_NAME: collection,
    QUERY_HOST: '127.0.0.1',
    QUERY_PORT: String(port),
    DB_MIGRATE_ON_START: 'false',
    LOG_LEVEL: 'warn',
    OPENAI_API_KEY: '',
    ...sizing,
  });
  cleanup.add('stop query', () => query.stop());
  const queryUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(`${queryUrl}/readyz`, 60_000, () => query.output());
  return { db, store, catalogs, reindex, queryUrl, queryOutput: () => query.output(), config };
}

/** Stores a catalog as the api does and indexes it; returns its id. */
export async function storeAndIndex(stack: QueryStack, catalog: Catalog): Promise<string> {
  const { id } = await stack.catalogs.create({
    name: catalog.name,
    description: catalog.description ?? null,
    document: catalog,
    items: flattenItems(catalog),
  });
  await reindexInProcess(stack.reindex, id);
  return id;
}

/** POSTs JSON to the query process and returns the parsed answer; throws on a non-2xx status. */
export async function post<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}
