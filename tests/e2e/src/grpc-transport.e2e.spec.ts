import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { loadConfig } from '@catalog-indexer/config';
import { spawnApp, waitForHttp, type AppProcess } from '@catalog-indexer/devstack';
import { OpenAIEmulator, QdrantEmulator, type Exchange } from '@catalog-indexer/emulators';
import { openDataSource, type DataSource } from '@catalog-indexer/db';
import {
  createTestDatabase,
  deleteRedisPrefix,
  freePort,
  qdrantEnv,
  uniqueName,
  uniqueQueuePrefix,
  waitFor,
  type TestDatabase,
} from '@catalog-indexer/testing';
import { QdrantStore } from '@catalog-indexer/vector-store';

jest.setTimeout(180_000);

interface JobView {
  state: string;
  result: Record<string, unknown> | null;
  failedReason: string | null;
}

/**
 * The main path (upload, reindex, search, a changed catalog reindexed) with `QDRANT_TRANSPORT=grpc`: api,
 * worker and query as processes, every point request over the Qdrant emulator's gRPC port. Its REST side
 * sees collections and aliases only.
 */
describe('reindex and search over gRPC', () => {
  const prefix = uniqueQueuePrefix('grpc');
  const collection = uniqueName('grpc');
  const dimensions = 256;
  let db: TestDatabase<DataSource>;
  let qdrant: QdrantEmulator;
  let openai: OpenAIEmulator;
  let apps: AppProcess[] = [];
  let api: string;
  let query: string;
  const restCalls: Exchange[] = [];

  const logs = () => apps.map((a) => `--- ${a.name} ---\n${a.output().slice(-4000)}`).join('\n');
  const send = (method: string, url: string, body: unknown) =>
    fetch(url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const waitForJob = (jobId: string) =>
    waitFor(
      `job ${jobId} to finish`,
      async () => {
        const job = (await fetch(`${api}/v1/jobs/${jobId}`).then((r) => r.json())) as JobView;
        return job.state === 'completed' || job.state === 'failed' ? job : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    );
  const activeRows = async (catalogId: string) =>
    (await db.dataSource.query<{ id: string }[]>(`SELECT id FROM dq_embeddings WHERE catalog_id = $1 AND status = 'active'`, [catalogId]))
      .map((r) => r.id)
      .sort();

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: false }));
    qdrant = new QdrantEmulator();
    openai = new OpenAIEmulator({ apiKey: 'sk-e2e-grpc' });
    const q = await qdrant.start(0);
    qdrant.onExchange((e) => restCalls.push(e));
    const o = await openai.start(0);
    const [apiPort, queryPort] = [await freePort(), await freePort()];
    api = `http://127.0.0.1:${apiPort}`;
    query = `http://127.0.0.1:${queryPort}`;
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: loadConfig().redis.url,
      QUEUE_PREFIX: prefix,
      ...qdrantEnv(q, 'grpc'),
      QDRANT_COLLECTION_NAME: collection,
      OPENAI_API_KEY: 'sk-e2e-grpc',
      OPENAI_BASE_URL: `${o.url}/v1`,
      EMBEDDING_MODEL: 'text-embedding-3-small',
      EMBEDDING_DIMENSIONS: String(dimensions),
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      QUERY_HOST: '127.0.0.1',
      QUERY_PORT: String(queryPort),
      WORKER_PORT: '0',
      LOG_LEVEL: 'info',
      DB_PROCESS_COUNT: '3',
    };
    apps = [spawnApp('api', env), spawnApp('worker', env), spawnApp('query', env)];
    await waitForHttp(`${api}/readyz`, 60_000, logs);
    await waitForHttp(`${query}/readyz`, 60_000, logs);
    await waitFor('the worker to be ready', () => apps[1]?.output().includes('worker ready'), { timeoutMs: 60_000 });
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await qdrant?.stop();
    await openai?.stop();
    await db?.drop();
    await deleteRedisPrefix(prefix);
  });

  it('indexes a catalog, finds its table, and follows a change of the catalog, with no point request over REST', async () => {
    const created = await send('POST', `${api}/v1/catalogs`, shopCatalog);
    expect(created.status).toBe(201);
    const { id: catalogId } = (await created.json()) as { id: string };
    const job = await waitForJob(((await (await send('POST', `${api}/v1/catalogs/${catalogId}/reindex`, {})).json()) as { jobId: string }).jobId);
    if (job.state !== 'completed') throw new Error(`reindex ${job.state}: ${job.failedReason}\n${logs()}`);
    expect(job.result).toMatchObject({ status: 'completed', skipped: 0 });

    const res = await send('POST', `${query}/v1/search`, { catalogId, query: 'refunds issued to customers for an order', limit: 5 });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: { id: string; kind: string; score: number; metadata: Record<string, unknown> }[] };
    const refunds = results.find((r) => r.kind === 'table' && r.metadata.table === 'refunds');
    expect(refunds?.metadata.schema).toBe('sales');
    for (let i = 1; i < results.length; i++) expect(results[i - 1]!.score).toBeGreaterThanOrEqual(results[i]!.score);

    // The catalog's points (read from outside, over gRPC too) are exactly its current rows.
    const store = new QdrantStore({ url: qdrant.url, grpcUrl: qdrant.grpcUrl, transport: 'grpc', collection, dimensions });
    const before = await activeRows(catalogId);
    expect((await store.listIds(catalogId)).sort()).toEqual(before);

    // A table leaves the catalog: its points are deleted over gRPC, the rest stays in step.
    const changed = structuredClone(shopCatalog) as unknown as { schemas: { name: string; tables: { name: string }[] }[] };
    const sales = changed.schemas.find((s) => s.tables.some((t) => t.name === 'refunds'))!;
    sales.tables = sales.tables.filter((t) => t.name !== 'refunds');
    const replaced = await send('PUT', `${api}/v1/catalogs/${catalogId}`, changed);
    expect(replaced.status).toBe(200);
    const followUp = await waitForJob(((await replaced.json()) as { jobId: string }).jobId);
    expect(followUp.state).toBe('completed');
    expect(followUp.result?.deleted as number).toBeGreaterThan(0);
    const after = await activeRows(catalogId);
    expect(after.length).toBeLessThan(before.length);
    expect((await store.listIds(catalogId)).sort()).toEqual(after);
    const index = (await fetch(`${api}/v1/catalogs/${catalogId}/index`).then((r) => r.json())) as { points: number; inStep: boolean };
    expect(index).toMatchObject({ points: after.length, inStep: true });

    // Everything above on points went over gRPC; REST carried only collections and aliases.
    expect(restCalls.filter((e) => e.path.includes('/points')).map((e) => `${e.method} ${e.path}`)).toEqual([]);
    expect(restCalls.some((e) => e.path === '/aliases')).toBe(true);
  });
});
