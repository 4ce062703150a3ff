import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { loadConfig } from '@catalog-indexer/config';
import { spawnApp, waitForHttp, type AppProcess } from '@catalog-indexer/devstack';
import { QdrantEmulator } from '@catalog-indexer/emulators';
import { openDataSource, type DataSource } from '@catalog-indexer/db';
import { createTestDatabase, deleteRedisPrefix, freePort, uniqueName, uniqueQueuePrefix, waitFor, type TestDatabase, qdrantEnv } from '@catalog-indexer/testing';

jest.setTimeout(240_000);

/**
 * Qdrant comes back empty: the query service says so at once (`/readyz` 503 naming the index, searches of
 * the catalog 503 `index_rebuilding`, never an empty 200), and the rebuild starts within seconds, long before
 * any scheduled reconcile (there is none here).
 */
describe('index lost by the vector store', () => {
  const prefix = uniqueQueuePrefix('loss');
  const collection = uniqueName('loss');
  let db: TestDatabase<DataSource>;
  let qdrant: QdrantEmulator;
  let qdrantPort: number;
  let qdrantGrpcPort: number;
  let apps: AppProcess[] = [];
  let api: string;
  let query: string;

  const logs = () => apps.map((a) => `--- ${a.name} ---\n${a.output().slice(-4000)}`).join('\n');
  const post = async (url: string, body: unknown) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: true }));
    qdrant = new QdrantEmulator();
    ({ port: qdrantPort, grpcPort: qdrantGrpcPort } = await qdrant.start(0));
    const [apiPort, queryPort] = [await freePort(), await freePort()];
    api = `http://127.0.0.1:${apiPort}`;
    query = `http://127.0.0.1:${queryPort}`;
    const env = {
      DATABASE_URL: db.url,
      DB_MIGRATE_ON_START: 'false',
      REDIS_URL: loadConfig().redis.url,
      QUEUE_PREFIX: prefix,
      ...qdrantEnv({ url: `http://127.0.0.1:${qdrantPort}`, grpcPort: qdrantGrpcPort }),
      QDRANT_COLLECTION_NAME: collection,
      EMBEDDING_MODEL: 'text-embedding-3-small',
      EMBEDDING_DIMENSIONS: '64',
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      QUERY_HOST: '127.0.0.1',
      QUERY_PORT: String(queryPort),
      WORKER_METRICS_PORT: '0',
      RECONCILE_INTERVAL_MS: '0',
      LOG_LEVEL: 'info',
    };
    apps = [spawnApp('api', env), spawnApp('worker', env), spawnApp('query', env)];
    await waitForHttp(`${api}/readyz`, 90_000, logs);
    await waitForHttp(`${query}/readyz`, 90_000, logs);
    await waitFor('the worker to be ready', () => apps[1]?.output().includes('worker ready'), { timeoutMs: 90_000 });
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await qdrant?.stop();
    await db?.drop();
    await deleteRedisPrefix(prefix);
  });

  it('answers 503 naming the rebuilding index, starts the rebuild within 10 s, and serves the catalog again', async () => {
    const { id } = (await (await post(`${api}/v1/catalogs`, shopCatalog)).json()) as { id: string };
    const { jobId } = (await (await post(`${api}/v1/catalogs/${id}/reindex`, {})).json()) as { jobId: string };
    await waitFor('the reindex to complete', async () => ((await fetch(`${api}/v1/jobs/${jobId}`).then((r) => r.json())) as { state: string }).state === 'completed', {
      timeoutMs: 90_000,
      intervalMs: 200,
    });
    const ask = () => post(`${query}/v1/search`, { catalogId: id, query: 'orders by customer', limit: 5 });
    expect(((await (await ask()).json()) as { results: unknown[] }).results).toHaveLength(5);
    expect((await fetch(`${query}/readyz`)).status).toBe(200);

    // Qdrant restarts with nothing in it.
    await qdrant.stop();
    qdrant = new QdrantEmulator();
    await qdrant.start(qdrantPort, qdrantGrpcPort);
    const lostAt = new Date();

    const notReady = await waitFor(
      'query /readyz to say the index is rebuilding',
      async () => {
        const res = await fetch(`${query}/readyz`);
        return res.status === 503 ? ((await res.json()) as { problems: Record<string, string> }) : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(Object.values(notReady.problems).join('; ')).toContain(`index "${collection}"`);
    expect(Object.values(notReady.problems).join('; ')).toMatch(/is missing from the vector store|is rebuilding/);

    // Until the points are back, a search of the catalog says so; it never answers an empty 200.
    const answers: string[] = [];
    const rebuildStarted = waitFor(
      'a reindex of the catalog to start after the loss',
      async () => {
        const res = await ask();
        const body = (await res.json()) as { results?: unknown[]; error?: { code: string } };
        answers.push(res.status === 200 ? `200 with ${body.results?.length ?? 0} results` : `${res.status} ${body.error?.code ?? ''}`);
        const [run] = await db.dataSource.query<{ started_at: Date }[]>(
          `SELECT started_at FROM index_runs WHERE catalog_id = $1 AND mode <> 'reconcile' AND started_at > $2 ORDER BY started_at LIMIT 1`,
          [id, lostAt],
        );
        return run?.started_at;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    const startedAt = await rebuildStarted.catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${logs()}`);
    });
    expect(startedAt.getTime() - lostAt.getTime()).toBeLessThan(10_000);
    // An answer of another kind fails with what the services printed, which says where it came from.
    const unexpected = answers.filter((a) => a !== '503 index_rebuilding' && a !== '200 with 5 results');
    if (unexpected.length > 0) throw new Error(`answers other than 503 index_rebuilding during the rebuild: ${unexpected.join(', ')}\n${logs()}`);
    expect(answers).toContain('503 index_rebuilding');

    await waitFor('query /readyz to be ready again', async () => (await fetch(`${query}/readyz`)).status === 200, { timeoutMs: 90_000, intervalMs: 200 });
    expect(((await (await ask()).json()) as { results: unknown[] }).results).toHaveLength(5);
    expect(apps[1]!.output()).toMatch(/reconcile asked for to rebuild/);
  });
});
