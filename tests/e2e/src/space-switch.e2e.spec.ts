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

/**
 * A new embedding size rolled out to running processes: the worker restarted with the new configuration
 * builds the new collection by itself, a reindex asked for meanwhile waits for it and then finds nothing to
 * embed, and a query process already on the new configuration answers throughout.
 */
describe('a new embedding size rolled out to a running system', () => {
  const prefix = uniqueQueuePrefix('e2e-switch');
  const collection = uniqueName('e2e-switch');
  let db: TestDatabase<DataSource>;
  let qdrant: QdrantEmulator;
  let openai: OpenAIEmulator;
  const apps: AppProcess[] = [];
  let qdrantUrl: string;
  let qdrantGrpcPort: number;
  let env: Record<string, string>;
  let api: string;

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
  const startQuery = async (dimensions: number): Promise<string> => {
    const port = await freePort();
    const app = spawnApp('query', { ...env, QUERY_PORT: String(port), EMBEDDING_DIMENSIONS: String(dimensions) }, { label: `query-${dimensions}` });
    apps.push(app);
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/readyz`, 60_000, logs);
    return url;
  };
  const startWorker = async (dimensions: number): Promise<AppProcess> => {
    const worker = spawnApp('worker', { ...env, EMBEDDING_DIMENSIONS: String(dimensions), WORKER_METRICS_PORT: String(await freePort()) }, { label: `worker-${dimensions}` });
    apps.push(worker);
    await waitFor('the worker to be ready', () => worker.output().includes('worker ready'), { timeoutMs: 60_000 });
    return worker;
  };

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: false }));
    qdrant = new QdrantEmulator();
    openai = new OpenAIEmulator({ apiKey: 'sk-e2e-test' });
    ({ url: qdrantUrl, grpcPort: qdrantGrpcPort } = await qdrant.start(0));
    const o = await openai.start(0);
    const apiPort = await freePort();
    api = `http://127.0.0.1:${apiPort}`;
    env = {
      DATABASE_URL: db.url,
      REDIS_URL: loadConfig().redis.url,
      QUEUE_PREFIX: prefix,
      ...qdrantEnv({ url: qdrantUrl, grpcPort: qdrantGrpcPort }),
      QDRANT_COLLECTION_NAME: collection,
      OPENAI_API_KEY: 'sk-e2e-test',
      OPENAI_BASE_URL: `${o.url}/v1`,
      EMBEDDING_MODEL: 'text-embedding-3-small',
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      QUERY_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      DB_MIGRATE_ON_START: 'true',
    };
    apps.push(spawnApp('api', { ...env, EMBEDDING_DIMENSIONS: '128' }));
    await waitForHttp(`${api}/readyz`, 60_000, logs);
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await qdrant?.stop();
    await openai?.stop();
    await db?.drop();
    await deleteRedisPrefix(prefix);
  });

  it('switches from 128 to 192 dimensions by itself while questions keep being answered', async () => {
    const oldWorker = await startWorker(128);
    const created = await post(`${api}/v1/catalogs`, shopCatalog);
    const { id: catalogId } = (await created.json()) as { id: string };
    const first = await waitForJob(((await (await post(`${api}/v1/catalogs/${catalogId}/reindex`, {})).json()) as { jobId: string }).jobId);
    if (first.state !== 'completed') throw new Error(`reindex ${first.state}: ${first.failedReason}\n${logs()}`);
    const chunks = first.result?.embedded as number;
    expect(chunks).toBeGreaterThan(20);
    const store = new QdrantStore({ url: qdrantUrl, collection, dimensions: 192 });
    const oldCollection = await store.resolve();

    // A query process on the new configuration, before any worker has it: it embeds for what is served.
    const query = await startQuery(192);
    const answers: { status: number; results: number }[] = [];
    let asking = true;
    const loop = (async () => {
      while (asking) {
        const res = await post(`${query}/v1/search`, { catalogId, query: 'refunds issued to customers for an order', limit: 5 });
        const body = (await res.json()) as { results?: unknown[] };
        answers.push({ status: res.status, results: body.results?.length ?? 0 });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    // The worker restarts with the new size; a reindex is asked for right away.
    await oldWorker.stop();
    const tokensBefore = openai.stats.tokens;
    await startWorker(192);
    const during = (await (await post(`${api}/v1/catalogs/${catalogId}/reindex`, {})).json()) as { jobId: string };
    const target = `${collection}-hybrid-192-openai-text-embedding-3-small`;
    await waitFor('the alias to serve the new collection', async () => (await store.resolve()) === target, { timeoutMs: 90_000, intervalMs: 200 });
    const reindexed = await waitForJob(during.jobId);
    const answeredAtSwitch = answers.length;
    await waitFor('more answers after the switch', () => answers.length >= answeredAtSwitch + 10, { timeoutMs: 30_000 });
    asking = false;
    await loop;

    // The reindex waited for the switch, which had embedded every chunk once: nothing left to embed.
    expect(reindexed).toMatchObject({ state: 'completed', result: { status: 'completed', embedded: 0 } });
    expect(reindexed.result?.skipped).toBe(chunks);
    expect(openai.stats.tokens - tokensBefore).toBeGreaterThan(0);
    expect(answers.length).toBeGreaterThan(10);
    expect(answers.filter((a) => a.status !== 200 || a.results === 0)).toEqual([]);
    expect(await store.listIds(catalogId)).toHaveLength(chunks);
    const info = (await fetch(`${qdrantUrl}/collections/${target}`).then((r) => r.json())) as {
      result: { config: { params: { vectors: { dense: { size: number } } }; metadata?: Record<string, unknown> } };
    };
    expect(info.result.config.params.vectors.dense.size).toBe(192);
    expect(info.result.config.metadata).toMatchObject({ embedding_provider: 'openai', embedding_model: 'text-embedding-3-small', embedding_dimensions: 192 });
    expect(oldCollection).not.toBe(target);
  });
});
