import { contentHash } from '@catalog-indexer/catalog';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { loadConfig } from '@catalog-indexer/config';
import { spawnApp, waitForHttp, type AppProcess } from '@catalog-indexer/devstack';
import { OpenAIEmulator, QdrantEmulator } from '@catalog-indexer/emulators';
import { openDataSource, type DataSource } from '@catalog-indexer/db';
import { createTestDatabase, deleteRedisPrefix, freePort, uniqueName, uniqueQueuePrefix, waitFor, type TestDatabase, qdrantEnv } from '@catalog-indexer/testing';
import { QdrantStore } from '@catalog-indexer/vector-store';

jest.setTimeout(240_000);

interface JobView {
  state: string;
  result: Record<string, unknown> | null;
  failedReason: string | null;
}
interface Answer {
  status: number;
  results: number;
  embedder: string | undefined;
  collection: string | null | undefined;
}

const MODEL = 'text-embedding-3-small';
const DIMENSIONS = 64;
const LOCAL = `local/hashing-v1@${DIMENSIONS}`;
const OPENAI = `openai/${MODEL}@${DIMENSIONS}`;
const QUESTION = 'refunds issued to customers for an order';

/**
 * An install that ran without an OpenAI key gets one: workers and query restart with it. The local hashing
 * embedder and OpenAI's model have the same size here, so only their identities tell the two spaces apart.
 * The workers move the index to OpenAI's space in the background; questions keep being answered from the
 * local space until the new collection is complete, each answer from one space, then from OpenAI's.
 */
describe('an install that moves from the local embedder to OpenAI', () => {
  const prefix = uniqueQueuePrefix('e2e-identity');
  const collection = uniqueName('e2e-identity');
  let db: TestDatabase<DataSource>;
  let qdrant: QdrantEmulator;
  let openai: OpenAIEmulator;
  const apps: AppProcess[] = [];
  let qdrantUrl: string;
  let qdrantGrpcPort: number;
  let local: Record<string, string>;
  let withKey: Record<string, string>;
  let api: string;
  /** Texts of every embeddings request the emulator answered, in order. */
  const sent: string[][] = [];

  const logs = () => apps.map((a) => `--- ${a.name} ---\n${a.output().slice(-4000)}`).join('\n');
  const post = async (url: string, body: unknown) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = async <T>(url: string): Promise<T> => (await fetch(url)).json() as Promise<T>;
  const waitForJob = (jobId: string) =>
    waitFor(
      `job ${jobId} to finish`,
      async () => {
        const job = await json<JobView>(`${api}/v1/jobs/${jobId}`);
        return job.state === 'completed' || job.state === 'failed' ? job : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 200 },
    );
  const reindex = async (catalogId: string) =>
    waitForJob(((await (await post(`${api}/v1/catalogs/${catalogId}/reindex`, {})).json()) as { jobId: string }).jobId);
  const startQuery = async (env: Record<string, string>, label: string): Promise<{ url: string; app: AppProcess }> => {
    const port = await freePort();
    const app = spawnApp('query', { ...env, QUERY_PORT: String(port) }, { label });
    apps.push(app);
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/readyz`, 60_000, logs);
    return { url, app };
  };
  const startWorker = async (env: Record<string, string>, label: string): Promise<{ app: AppProcess; health: string }> => {
    const healthPort = await freePort();
    const app = spawnApp('worker', { ...env, WORKER_HEALTH_PORT: String(healthPort), WORKER_METRICS_PORT: String(await freePort()) }, { label });
    apps.push(app);
    await waitFor(`${label} to be ready`, () => app.output().includes('worker ready'), { timeoutMs: 60_000 });
    return { app, health: `http://127.0.0.1:${healthPort}` };
  };
  const ask = async (query: string, catalogId: string): Promise<Answer> => {
    const res = await post(`${query}/v1/search`, { catalogId, query: QUESTION, limit: 5 });
    const body = (await res.json()) as { results?: unknown[]; space?: { embedder: string; collection: string | null } };
    return { status: res.status, results: body.results?.length ?? 0, embedder: body.space?.embedder, collection: body.space?.collection };
  };
  const activeRows = () =>
    db.dataSource.query<{ id: string; content: string; model: string; dimensions: number; content_hash: string }[]>(
      `SELECT id, content, model, dimensions, content_hash FROM dq_embeddings WHERE status = 'active'`,
    );

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: false }));
    qdrant = new QdrantEmulator();
    openai = new OpenAIEmulator({ apiKey: 'sk-e2e-identity' });
    ({ url: qdrantUrl, grpcPort: qdrantGrpcPort } = await qdrant.start(0));
    const o = await openai.start(0);
    openai.onExchange((e) => {
      if (e.path === '/v1/embeddings' && e.status === 200) sent.push((e.requestBody as { input: string[] }).input);
    });
    const apiPort = await freePort();
    api = `http://127.0.0.1:${apiPort}`;
    local = {
      DATABASE_URL: db.url,
      REDIS_URL: loadConfig().redis.url,
      QUEUE_PREFIX: prefix,
      ...qdrantEnv({ url: qdrantUrl, grpcPort: qdrantGrpcPort }),
      QDRANT_COLLECTION_NAME: collection,
      // No key: the local embedder, whatever EMBEDDING_MODEL says.
      OPENAI_API_KEY: '',
      EMBEDDING_MODEL: MODEL,
      EMBEDDING_DIMENSIONS: String(DIMENSIONS),
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      QUERY_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      DB_MIGRATE_ON_START: 'true',
      // The switch is carried by the reconcile job the new worker enqueues at start, not by a schedule.
      RECONCILE_INTERVAL_MS: '0',
    };
    withKey = { ...local, OPENAI_API_KEY: 'sk-e2e-identity', OPENAI_BASE_URL: `${o.url}/v1`, EMBEDDING_ENCODING: 'float' };
    apps.push(spawnApp('api', local));
    await waitForHttp(`${api}/readyz`, 60_000, logs);
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await qdrant?.stop();
    await openai?.stop();
    await db?.drop();
    await deleteRedisPrefix(prefix);
  });

  it('embeds every point again with OpenAI while questions are answered from one space at a time', async () => {
    // 1. Indexed with the local embedder, under its own identity.
    const localWorker = await startWorker(local, 'worker-local');
    const localQuery = await startQuery(local, 'query-local');
    const { id: catalogId } = (await (await post(`${api}/v1/catalogs`, shopCatalog)).json()) as { id: string };
    const first = await reindex(catalogId);
    if (first.state !== 'completed') throw new Error(`reindex ${first.state}: ${first.failedReason}\n${logs()}`);
    const chunks = first.result?.embedded as number;
    expect(chunks).toBeGreaterThan(20);
    expect(sent).toEqual([]);
    const localCollection = `${collection}-hybrid-${DIMENSIONS}-local-hashing-v1`;
    const store = new QdrantStore({ url: qdrantUrl, collection, dimensions: DIMENSIONS });
    expect(await store.resolve()).toBe(localCollection);
    expect((await activeRows()).every((r) => r.model === 'hashing-v1' && r.dimensions === DIMENSIONS)).toBe(true);
    expect(await ask(localQuery.url, catalogId)).toMatchObject({ status: 200, embedder: LOCAL, collection: localCollection });
    expect(await json(`${localQuery.url}/readyz`)).toMatchObject({ embedder: { configured: LOCAL, serving: { embedder: LOCAL } } });
    expect(await json(`${localWorker.health}/readyz`)).toMatchObject({ embedder: { configured: LOCAL, served: LOCAL, switching: false } });

    // 2. The query service restarts with the key: it keeps embedding questions locally for the served
    //    collection, and asks without pause from here on.
    await localQuery.app.stop();
    const query = await startQuery(withKey, 'query-openai');
    expect(await json(`${query.url}/readyz`)).toMatchObject({
      status: 'ready',
      embedder: { configured: OPENAI, serving: { embedder: LOCAL, collection: localCollection } },
    });
    const answers: Answer[] = [];
    let asking = true;
    const loop = (async () => {
      while (asking) {
        answers.push(await ask(query.url, catalogId));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await waitFor('answers from the local space', () => answers.length >= 5, { timeoutMs: 30_000 });

    // 3. The workers restart with the key: the new one finds the index in another space and switches it.
    await localWorker.app.stop();
    const worker = await startWorker(withKey, 'worker-openai');
    const target = `${collection}-hybrid-${DIMENSIONS}-openai-${MODEL}`;
    await waitFor('the alias to serve the OpenAI collection', async () => (await store.resolve()) === target, { timeoutMs: 120_000, intervalMs: 100 });
    const atSwitch = answers.length;
    await waitFor('answers from the OpenAI space', () => answers.slice(atSwitch).filter((a) => a.collection === target).length >= 5, {
      timeoutMs: 30_000,
    });
    asking = false;
    await loop;

    // Every answer came from one space: local vectors in the local collection, OpenAI's in OpenAI's; first
    // the local space only, then OpenAI's only. None went unanswered.
    expect(answers.filter((a) => a.status !== 200 || a.results === 0)).toEqual([]);
    const pairs = answers.map((a) => `${a.embedder} in ${a.collection}`);
    expect([...new Set(pairs)].sort()).toEqual([`${LOCAL} in ${localCollection}`, `${OPENAI} in ${target}`]);
    const firstNew = pairs.indexOf(`${OPENAI} in ${target}`);
    expect(pairs.slice(0, firstNew).every((p) => p === `${LOCAL} in ${localCollection}`)).toBe(true);
    expect(pairs.slice(firstNew).every((p) => p === `${OPENAI} in ${target}`)).toBe(true);
    expect(firstNew).toBeGreaterThanOrEqual(5);

    // Every point was embedded again by OpenAI, once: the worker sent each row's text; the query sent only
    // the questions it answered from OpenAI's space.
    const rows = await activeRows();
    expect(rows).toHaveLength(chunks);
    const fromWorkers = sent.flat().filter((t) => t !== QUESTION);
    expect(fromWorkers.sort()).toEqual(rows.map((r) => r.content).sort());
    expect(sent.flat().filter((t) => t === QUESTION)).toHaveLength(answers.length - firstNew);
    // The rows record OpenAI's model and a hash of OpenAI's identity; the new collection holds their points.
    const identity = { provider: 'openai', model: MODEL, dimensions: DIMENSIONS };
    expect(rows.every((r) => r.model === MODEL && r.dimensions === DIMENSIONS && r.content_hash === contentHash(r.content, identity))).toBe(true);
    expect((await store.listIds(catalogId)).sort()).toEqual(rows.map((r) => r.id).sort());
    const info = await json<{ result: { config: { metadata?: Record<string, unknown> } } }>(`${qdrantUrl}/collections/${target}`);
    expect(info.result.config.metadata).toMatchObject({ embedding_provider: 'openai', embedding_model: MODEL, embedding_dimensions: DIMENSIONS });

    // Both services say so, and a reindex now finds every chunk current: nothing is embedded again.
    expect(await json(`${query.url}/readyz`)).toMatchObject({ embedder: { configured: OPENAI, serving: { embedder: OPENAI, collection: target } } });
    expect(await json(`${worker.health}/readyz`)).toMatchObject({ embedder: { configured: OPENAI, served: OPENAI, collection: target, switching: false } });
    const requestsBefore = sent.length;
    const again = await reindex(catalogId);
    expect(again).toMatchObject({ state: 'completed', result: { status: 'completed', embedded: 0 } });
    expect(again.result?.skipped).toBe(chunks);
    expect(sent.length).toBe(requestsBefore);
  });
});
