import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { loadConfig } from '@catalog-indexer/config';
import { spawnApp, waitForHttp, type AppProcess } from '@catalog-indexer/devstack';
import { OpenAIEmulator, QdrantEmulator } from '@catalog-indexer/emulators';
import { openDataSource, type DataSource } from '@catalog-indexer/db';
import { createTestDatabase, deleteRedisPrefix, freePort, uniqueName, uniqueQueuePrefix, waitFor, type TestDatabase, qdrantEnv } from '@catalog-indexer/testing';
import { QdrantStore } from '@catalog-indexer/vector-store';

jest.setTimeout(180_000);

interface JobView {
  state: string;
  result: Record<string, unknown> | null;
  failedReason: string | null;
}
interface SearchResult {
  id: string;
  kind: string;
  score: number;
  content: string;
  key: string;
  metadata: Record<string, unknown>;
}

/**
 * The whole path once, as separate processes: api, a worker and query against the real Postgres and Redis,
 * the Qdrant emulator and the OpenAI emulator (reached through the official SDK).
 */
describe('walking skeleton', () => {
  const prefix = uniqueQueuePrefix('e2e');
  const collection = uniqueName('e2e');
  const dimensions = 256;
  let db: TestDatabase<DataSource>;
  let qdrant: QdrantEmulator;
  let openai: OpenAIEmulator;
  let apps: AppProcess[] = [];
  let api: string;
  let query: string;
  let workerMetrics: string;

  const logs = () => apps.map((a) => `--- ${a.name} ---\n${a.output().slice(-4000)}`).join('\n');
  const post = async (url: string, body: unknown) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const waitForJob = (jobId: string) =>
    waitFor(
      `job ${jobId} to finish`,
      async () => {
        const job = (await fetch(`${api}/v1/jobs/${jobId}`).then((r) => r.json())) as JobView;
        return job.state === 'completed' || job.state === 'failed' ? job : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    );

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: false }));
    qdrant = new QdrantEmulator();
    openai = new OpenAIEmulator({ apiKey: 'sk-e2e-test' });
    const q = await qdrant.start(0);
    const o = await openai.start(0);
    const [apiPort, queryPort, workerMetricsPort] = [await freePort(), await freePort(), await freePort()];
    workerMetrics = `http://127.0.0.1:${workerMetricsPort}`;
    api = `http://127.0.0.1:${apiPort}`;
    query = `http://127.0.0.1:${queryPort}`;
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: loadConfig().redis.url,
      QUEUE_PREFIX: prefix,
      ...qdrantEnv(q),
      QDRANT_COLLECTION_NAME: collection,
      OPENAI_API_KEY: 'sk-e2e-test',
      OPENAI_BASE_URL: `${o.url}/v1`,
      EMBEDDING_MODEL: 'text-embedding-3-small',
      EMBEDDING_DIMENSIONS: String(dimensions),
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      QUERY_HOST: '127.0.0.1',
      QUERY_PORT: String(queryPort),
      WORKER_METRICS_PORT: String(workerMetricsPort),
      LOG_LEVEL: 'info',
      DB_PROCESS_COUNT: '3',
    };
    apps = [spawnApp('api', env), spawnApp('worker', env), spawnApp('query', env)];
    await waitForHttp(`${api}/readyz`, 60_000, logs);
    await waitForHttp(`${query}/readyz`, 60_000, logs);
    // The worker is ready once it has logged so.
    await waitFor('the worker to be ready', () => apps[1]?.output().includes('worker ready'), { timeoutMs: 60_000 });
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await qdrant?.stop();
    await openai?.stop();
    await db?.drop();
    await deleteRedisPrefix(prefix);
  });

  it('refuses a broken catalog with a 400 that lists what to fix, and stores nothing', async () => {
    const broken = structuredClone(shopCatalog) as unknown as { schemas: { tables: { columns: { name?: string }[] }[] }[] };
    delete broken.schemas[0]!.tables[0]!.columns[0]!.name;
    const res = await post(`${api}/v1/catalogs`, broken);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; details: { path: string }[] } };
    expect(body.error.code).toBe('invalid_catalog');
    expect(body.error.details.map((d) => d.path)).toContain('schemas[0].tables[0].columns[0].name');
    const { catalogs } = (await fetch(`${api}/v1/catalogs`).then((r) => r.json())) as { catalogs: unknown[] };
    expect(catalogs).toHaveLength(0);
  });

  it('uploads a catalog, reindexes it over HTTP and finds the expected table through search', async () => {
    const created = await post(`${api}/v1/catalogs`, shopCatalog);
    expect(created.status).toBe(201);
    const { id: catalogId } = (await created.json()) as { id: string };

    const started = await post(`${api}/v1/catalogs/${catalogId}/reindex`, {});
    expect(started.status).toBe(202);
    const { jobId } = (await started.json()) as { jobId: string };
    const job = await waitForJob(jobId);
    if (job.state !== 'completed') throw new Error(`reindex ${job.state}: ${job.failedReason}\n${logs()}`);
    expect(job.result).toMatchObject({ status: 'completed', skipped: 0 });
    expect(job.result?.embedded as number).toBeGreaterThan(20);
    expect(openai.stats.requests).toBeGreaterThan(0);

    const res = await post(`${query}/v1/search`, { catalogId, query: 'refunds issued to customers for an order', limit: 5 });
    expect(res.status).toBe(200);
    const { results, timings } = (await res.json()) as { results: SearchResult[]; timings: Record<string, number> };
    expect(timings.totalMs).toBeGreaterThan(0);
    const refunds = results.find((r) => r.kind === 'table' && r.metadata.table === 'refunds');
    expect(refunds).toBeDefined();
    expect(refunds!.metadata.schema).toBe('sales');
    // Hydrated from Postgres: the content is the stored row's, word for word.
    const [row] = (await db.dataSource.query<{
      content: string;
      status: string;
    }[]>(`SELECT content, status FROM dq_embeddings WHERE id = $1`, [refunds!.id]));
    expect(row).toEqual({ content: refunds!.content, status: 'active' });
    expect(refunds!.content).toContain('sales.refunds');
    for (let i = 1; i < results.length; i++) expect(results[i - 1]!.score).toBeGreaterThanOrEqual(results[i]!.score);

    // The catalog's points are exactly its current rows.
    const store = new QdrantStore({ url: qdrant.url, collection, dimensions });
    const pointIds = (await store.listIds(catalogId)).sort();
    const rowIds = ((await db.dataSource.query<{ id: string }[]>(`SELECT id FROM dq_embeddings WHERE catalog_id = $1 AND status = 'active'`, [catalogId])))
      .map((r) => r.id)
      .sort();
    expect(pointIds).toEqual(rowIds);

    const runs = await fetch(`${api}/v1/catalogs/${catalogId}/runs`).then((r) => r.json() as Promise<{ runs: { status: string; embedded: number; tokens: number }[] }>);
    expect(runs.runs[0]).toMatchObject({ status: 'completed', embedded: rowIds.length });
    expect(runs.runs[0]!.tokens).toBeGreaterThan(0);
  });

  it('reindexes an unchanged catalog without calling the embeddings API', async () => {
    const { catalogs } = await fetch(`${api}/v1/catalogs`).then((r) => r.json() as Promise<{ catalogs: { id: string }[] }>);
    const catalogId = catalogs[0]!.id;
    const before = openai.stats.requests;
    const started = await post(`${api}/v1/catalogs/${catalogId}/reindex`, {});
    const job = await waitForJob(((await started.json()) as { jobId: string }).jobId);
    expect(job.state).toBe('completed');
    expect(job.result).toMatchObject({ embedded: 0, deleted: 0 });
    expect(openai.stats.requests).toBe(before);
  });

  it("shows the runs' tokens and job outcomes on /metrics of api, worker and query", async () => {
    const { catalogs } = await fetch(`${api}/v1/catalogs`).then((r) => r.json() as Promise<{ catalogs: { id: string }[] }>);
    const { runs } = await fetch(`${api}/v1/catalogs/${catalogs[0]!.id}/runs`).then((r) => r.json() as Promise<{ runs: { status: string; tokens: number }[] }>);
    const tokens = runs.reduce((sum, r) => sum + r.tokens, 0);
    expect(tokens).toBeGreaterThan(0);
    const completed = runs.filter((r) => r.status === 'completed').length;
    // The worker counts a job in its 'completed' listener, which BullMQ calls after the job's state is
    // stored: the job may read as completed a moment before the counter moves.
    const expected = [`cidx_index_run_tokens_total ${tokens}`, `cidx_jobs_total{name="reindex",outcome="completed"} ${completed}`];
    let workerText = '';
    await waitFor(`worker metrics with ${expected.join(' and ')}`, async () => {
      workerText = await fetch(`${workerMetrics}/metrics`).then((r) => r.text());
      return expected.every((line) => workerText.includes(line));
    }, { timeoutMs: 10_000 }).catch((error: Error) => {
      throw new Error(`${error.message}\nruns: ${JSON.stringify(runs)}\n${workerText.split('\n').filter((l) => /cidx_(jobs_total|index_run_tokens)/.test(l)).join('\n')}`);
    });
    const [apiText, queryText] = await Promise.all([api, query].map((base) => fetch(`${base}/metrics`).then((r) => r.text())));
    expect(apiText).toMatch(/cidx_queue_jobs\{queue="catalog-jobs",state="completed"\} [1-9]/);
    expect(apiText).toMatch(/cidx_http_request_duration_seconds_count\{service="api",method="POST",route="\/v1\/catalogs\/:id\/reindex",status="202"\} [1-9]/);
    expect(queryText).toMatch(/cidx_http_request_duration_seconds_count\{service="query",method="POST",route="\/v1\/search",status="200"\} [1-9]/);
  });

  it('warns once, at start, that api and query run without API keys', () => {
    for (const app of apps.filter((a) => a.name === 'api' || a.name === 'query')) {
      const warnings = app.output().split('\n').filter((l) => l.includes('runs without API keys'));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40 });
    }
  });

  it('never writes the API key to a log', () => {
    const output = apps.map((a) => a.output()).join('\n');
    expect(output).toContain('embeddings: OpenAI API');
    expect(output).not.toContain('sk-e2e-test');
  });

  it('mounts Bull Board at /admin/queues, which reads the queue', async () => {
    const res = await fetch(`${api}/admin/queues`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/bull/i);
    const queues = await fetch(`${api}/admin/queues/api/queues`);
    expect(queues.status).toBe(200);
    const body = (await queues.json()) as { queues: { name: string; counts: Record<string, number> }[] };
    expect(body.queues.find((q) => q.name === 'catalog-jobs')?.counts.completed).toBeGreaterThanOrEqual(2);
  });

  it('answers /readyz of the api with the queue counts of a real call', async () => {
    const ready = (await fetch(`${api}/readyz`).then((r) => r.json())) as { checks: { redis: boolean }; queue: { counts: object } };
    expect(ready).toMatchObject({ checks: { redis: true }, queue: { counts: { waiting: 0 } } });
  });
});
