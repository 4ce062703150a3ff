import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { loadConfig } from '@catalog-indexer/config';
import { spawnApp, waitForHttp, type AppProcess } from '@catalog-indexer/devstack';
import { OpenAIEmulator, QdrantEmulator } from '@catalog-indexer/emulators';
import {
  cosineSimilarity,
  createPgvectorEraTable,
  createTestDatabase,
  deleteRedisPrefix,
  float32Vector,
  freePort,
  legacyRows,
  seededRandom,
  uniqueName,
  waitFor,
  type LegacyTestRow,
  type TestDatabase,
  qdrantEnv,
} from '@catalog-indexer/testing';
import { QdrantStore } from '@catalog-indexer/vector-store';

jest.setTimeout(240_000);

const DIMS = 64;

/**
 * The product started on a pgvector-era database (the usual upgrade in place): its migrations keep the
 * legacy table, the adoption runs on a worker that is SIGKILLed half-way and resumed by another, the query
 * service answers from adopted rows, the legacy column is dropped, and the rollback writes the vectors back.
 */
describe('coming from pgvector, in place', () => {
  const prefix = uniqueName('pgv');
  const collection = uniqueName('pgv');
  const first = randomUUID();
  const second = randomUUID();
  // The second catalog's rows sort after the first's: holding its lease stops the adoption half-way.
  // Beside its tables and columns, the first catalog holds a document and an example under the older
  // design's kinds, with its metadata naming them its own way.
  const random = seededRandom(13);
  const quoted: LegacyTestRow[] = [
    { id: randomUUID(), content: 'Revenue is the sum of order totals net of refunds.', kind: 'documentation', catalogId: first, metadata: { title: 'Revenue' }, vector: float32Vector(DIMS, random) },
    {
      id: randomUUID(),
      content: 'Question: How much revenue was refunded?\nSQL: SELECT sum(column_4) FROM public.table_4',
      kind: 'example_query',
      catalogId: first,
      metadata: null,
      vector: float32Vector(DIMS, random),
    },
  ];
  const rows: LegacyTestRow[] = [
    ...[...legacyRows({ rows: 600, dims: DIMS, catalogs: [first], seed: 11 }), ...quoted].map((r) => ({ ...r, id: `0${r.id.slice(1)}` })),
    ...legacyRows({ rows: 300, dims: DIMS, catalogs: [second], seed: 12 }).map((r) => ({ ...r, id: `f${r.id.slice(1)}` })),
  ];
  const firstRows = rows.filter((r) => r.catalogId === first).length;
  const total = rows.length;
  let db: TestDatabase<{ destroy(): Promise<void> }>;
  let qdrant: QdrantEmulator;
  let openai: OpenAIEmulator;
  let env: Record<string, string>;
  let api = '';
  let query = '';
  const apps: AppProcess[] = [];
  const logs = () => apps.map((a) => `--- ${a.name} ---\n${a.output().slice(-3000)}`).join('\n');

  const post = async (url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const job = async (id: string) => (await (await fetch(`${api}/v1/jobs/${id}`)).json()) as { state: string; progress: { rows?: number } | number; result: Record<string, unknown>; failedReason: string | null };
  const finished = async (id: string) => {
    let last: Awaited<ReturnType<typeof job>> | undefined;
    await waitFor('the job to end', async () => ['completed', 'failed'].includes((last = await job(id)).state), { timeoutMs: 120_000 });
    if (last!.state !== 'completed') throw new Error(`job ${id} failed: ${last!.failedReason ?? ''}\n${logs()}`);
    return last!.result;
  };
  const sql = async <T>(text: string, params: unknown[] = []): Promise<T[]> => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as T[];
    } finally {
      await client.end();
    }
  };
  const startWorker = async (): Promise<AppProcess> => {
    const worker = spawnApp('worker', { ...env, WORKER_METRICS_PORT: String(await freePort()) }, { label: `worker-${apps.length}` });
    apps.push(worker);
    await waitFor('the worker to be ready', () => worker.output().includes('worker ready'), { timeoutMs: 60_000 });
    return worker;
  };

  beforeAll(async () => {
    db = await createTestDatabase(async (url) => {
      await createPgvectorEraTable(url, rows, { dims: DIMS });
      return { destroy: () => Promise.resolve() };
    });
    qdrant = new QdrantEmulator();
    openai = new OpenAIEmulator({ apiKey: 'sk-e2e-test' });
    const q = await qdrant.start(0);
    const o = await openai.start(0);
    const [apiPort, queryPort] = [await freePort(), await freePort()];
    api = `http://127.0.0.1:${apiPort}`;
    query = `http://127.0.0.1:${queryPort}`;
    env = {
      DATABASE_URL: db.url,
      REDIS_URL: loadConfig().redis.url,
      QUEUE_PREFIX: prefix,
      ...qdrantEnv(q),
      QDRANT_COLLECTION_NAME: collection,
      OPENAI_API_KEY: 'sk-e2e-test',
      OPENAI_BASE_URL: `${o.url}/v1`,
      EMBEDDING_MODEL: 'text-embedding-3-large',
      EMBEDDING_DIMENSIONS: String(DIMS),
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      QUERY_HOST: '127.0.0.1',
      QUERY_PORT: String(queryPort),
      CATALOG_LEASE_TTL_MS: '3000',
      WORKER_LOCK_DURATION_MS: '3000',
      WORKER_STALLED_INTERVAL_MS: '2000',
      LOG_LEVEL: 'info',
      DB_MIGRATE_ON_START: 'true',
    };
    apps.push(spawnApp('api', env));
    await waitForHttp(`${api}/readyz`, 60_000, logs);
    apps.push(spawnApp('query', env));
    // Alive; ready only once a worker has created the collection it reads (the query never creates it).
    await waitForHttp(`${query}/healthz`, 60_000, logs);
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await qdrant?.stop();
    await openai?.stop();
    await db?.drop();
    await deleteRedisPrefix(prefix);
  });

  it('adopts in place through a killed worker, answers from adopted rows, drops the legacy column and rolls back', async () => {
    const [kept] = await sql<{ n: number }>(`SELECT count(embedding)::int AS n FROM dq_embeddings_pgvector`);
    expect(kept!.n).toBe(rows.length);

    // Another writer holds the second catalog: the adoption commits the pages of the first catalog alone
    // (pages of 128 rows), then waits on the page where the second catalog’s rows begin.
    await sql(`INSERT INTO catalog_leases (catalog_id, fence, holder, expires_at) VALUES ($1, 1, 'elsewhere', now() + interval '1 hour')`, [second]);
    const doomed = await startWorker();
    const started = await post(`${api}/v1/migrations/pgvector`, {});
    expect(started.status).toBe(202);
    const jobId = started.json.jobId as string;
    const alone = Math.floor(firstRows / 128) * 128;
    await waitFor('the pages of the first catalog alone to be copied', async () => {
      const [n] = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM dq_embeddings WHERE catalog_id = $1`, [first]);
      return n!.n === alone;
    }, { timeoutMs: 90_000 });
    // It stays there while the second catalog is held.
    await new Promise((r) => setTimeout(r, 1_500));
    const [waiting] = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM dq_embeddings`);
    expect(waiting!.n).toBe(alone);
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    await sql(`DELETE FROM catalog_leases WHERE catalog_id = $1 AND holder = 'elsewhere'`, [second]);
    await startWorker();

    const result = await finished(jobId);
    expect(result).toMatchObject({ rows: total, skipped: { noVector: 0, noCatalog: 0, wrongSize: 0 }, catalogs: 2, tokens: 0, verified: { ok: true } });
    expect((result.migrated as number) + (result.unchanged as number)).toBe(total);
    const store = new QdrantStore({ url: env.QDRANT_URL!, collection, dimensions: DIMS });
    const ids: string[] = [];
    for await (const page of store.scrollPoints()) ids.push(...page.map((p) => p.id));
    expect(ids.sort()).toEqual(rows.map((r) => r.id).sort());
    const [count] = await sql<{ n: number; d: number }>(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM dq_embeddings WHERE status = 'active'`);
    expect(count).toEqual({ n: total, d: total });

    const search = await post(`${query}/v1/search`, { catalogId: first, query: 'Column column_4 of table_4', tables: ['table_4'] });
    expect(search.status).toBe(200);
    const results = search.json.results as { id: string; metadata: { table: string } }[];
    expect(results.length).toBeGreaterThan(0);
    const legacyIds = new Set(rows.map((r) => r.id));
    for (const r of results) {
      expect(legacyIds.has(r.id)).toBe(true);
      expect(r.metadata.table).toBe('table_4');
    }

    // The context names the tables and columns the legacy metadata names, and quotes the document and the example.
    const context = await post(`${query}/v1/context`, { catalogId: first, question: 'How much revenue was refunded in column_4 of table_4?' });
    expect(context.status).toBe(200);
    const tables = context.json.tables as { schema: string; table: string; columns: { name: string }[] }[];
    const table4 = tables.find((t) => t.schema === 'public' && t.table === 'table_4');
    expect(table4?.columns.map((c) => c.name)).toContain('column_4');
    expect(context.json.documents).toContainEqual({ title: 'Revenue', text: 'Revenue is the sum of order totals net of refunds.' });
    expect(context.json.examples).toContainEqual({ question: 'How much revenue was refunded?', sql: 'SELECT sum(column_4) FROM public.table_4' });
    expect(context.json.text).toContain('CREATE TABLE public.table_4');

    const rerun = await finished((await post(`${api}/v1/migrations/pgvector`, {})).json.jobId as string);
    expect(rerun).toMatchObject({ migrated: 0, unchanged: total });

    const drop = await post(`${api}/v1/migrations/pgvector`, { dropLegacy: true });
    expect(drop.status).toBe(202);
    expect(await finished(drop.json.jobId as string)).toMatchObject({ dropped: { column: 'embedding' } });
    expect(await sql(`SELECT 1 FROM information_schema.columns WHERE table_name = 'dq_embeddings_pgvector' AND column_name = 'embedding'`)).toEqual([]);

    const rollback = await post(`${api}/v1/migrations/pgvector/rollback`, {});
    expect(await finished(rollback.json.jobId as string)).toMatchObject({ rows: total, restored: total, missing: 0, tokens: 0 });
    const restored = await sql<{ id: string; embedding: string }>(`SELECT id, embedding::text FROM dq_embeddings_pgvector`);
    const byId = new Map(rows.map((r) => [r.id, r.vector!]));
    for (const r of restored) expect(cosineSimilarity(JSON.parse(r.embedding) as number[], byId.get(r.id)!)).toBeGreaterThanOrEqual(0.9999);
    expect(restored).toHaveLength(total);
  });
});
