import { readFileSync } from 'node:fs';
import path from 'node:path';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { loadConfig } from '@catalog-indexer/config';
import { openDataSource, type DataSource } from '@catalog-indexer/db';
import { REPO_ROOT, spawnApp, waitForHttp, type AppProcess } from '@catalog-indexer/devstack';
import { OpenAIEmulator, QdrantEmulator } from '@catalog-indexer/emulators';
import { createTestDatabase, deleteRedisPrefix, freePort, uniqueName, uniqueQueuePrefix, waitFor, type TestDatabase, qdrantEnv } from '@catalog-indexer/testing';

jest.setTimeout(420_000);

interface Family {
  type: string;
  samples: { name: string; value: number }[];
}

/** The Prometheus text format as families: `# TYPE` lines and the samples under each. */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: Family | undefined;
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      current = { type: type[2]!, samples: [] };
      families.set(type[1]!, current);
      continue;
    }
    if (line === '' || line.startsWith('#') || !current) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)/.exec(line);
    if (sample) current.samples.push({ name: sample[1]!, value: Number(sample[3]) });
  }
  return families;
}

/** A family moved when a counter or histogram counted something, or a gauge was set to a reading. */
function moved(family: Family): boolean {
  if (family.type === 'gauge') return family.samples.length > 0;
  if (family.type === 'histogram') return family.samples.some((s) => s.name.endsWith('_count') && s.value > 0);
  return family.samples.some((s) => s.value > 0);
}

/**
 * api, a worker and query as processes after an indexing run (with a 429 and a 5xx from the embeddings API
 * on the way) and queries: every metric family the services export moved, and the Grafana dashboard names
 * only metrics they export.
 */
describe('metrics that move', () => {
  const prefix = uniqueQueuePrefix('metrics');
  const collection = uniqueName('metrics');
  let db: TestDatabase<DataSource>;
  let qdrant: QdrantEmulator;
  let openai: OpenAIEmulator;
  let apps: AppProcess[] = [];
  let api: string;
  let query: string;
  let worker: string;

  const logs = () => apps.map((a) => `--- ${a.name} ---\n${a.output().slice(-4000)}`).join('\n');
  const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const reindex = async (catalogId: string, body: unknown) => {
    const started = await post(`${api}/v1/catalogs/${catalogId}/reindex`, body);
    expect(started.status).toBe(202);
    const { jobId } = (await started.json()) as { jobId: string };
    const job = await waitFor(
      `reindex ${jobId} to finish`,
      async () => {
        const view = (await fetch(`${api}/v1/jobs/${jobId}`).then((r) => r.json())) as { state: string; failedReason: string | null };
        return view.state === 'completed' || view.state === 'failed' ? view : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    if (job.state !== 'completed') throw new Error(`reindex ${job.state}: ${job.failedReason}\n${logs()}`);
  };

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: false }));
    qdrant = new QdrantEmulator();
    openai = new OpenAIEmulator({ apiKey: 'sk-metrics' });
    const q = await qdrant.start(0);
    const o = await openai.start(0);
    const [apiPort, queryPort, workerPort] = [await freePort(), await freePort(), await freePort()];
    api = `http://127.0.0.1:${apiPort}`;
    query = `http://127.0.0.1:${queryPort}`;
    worker = `http://127.0.0.1:${workerPort}`;
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: loadConfig().redis.url,
      QUEUE_PREFIX: prefix,
      ...qdrantEnv(q),
      QDRANT_COLLECTION_NAME: collection,
      OPENAI_API_KEY: 'sk-metrics',
      OPENAI_BASE_URL: `${o.url}/v1`,
      EMBEDDING_MODEL: 'text-embedding-3-small',
      EMBEDDING_DIMENSIONS: '64',
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      QUERY_HOST: '127.0.0.1',
      QUERY_PORT: String(queryPort),
      WORKER_PORT: String(workerPort),
      API_KEYS: '',
      LOG_LEVEL: 'info',
      DB_PROCESS_COUNT: '3',
    };
    apps = [spawnApp('api', env), spawnApp('worker', env), spawnApp('query', env)];
    await waitForHttp(`${api}/readyz`, 180_000, logs);
    await waitForHttp(`${query}/readyz`, 180_000, logs);
    await waitForHttp(`${worker}/readyz`, 180_000, logs);
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await qdrant?.stop();
    await openai?.stop();
    await db?.drop();
    await deleteRedisPrefix(prefix);
  });

  it('moves every family api, query and a worker export after indexing and querying', async () => {
    const created = await post(`${api}/v1/catalogs`, shopCatalog);
    expect(created.status).toBe(201);
    const { id: catalogId } = (await created.json()) as { id: string };
    // A 429 on the first request, then a 503 on a forced reindex: both are waited out or retried.
    openai.failNext({ count: 1, status: 429, retryAfterMs: 200 });
    await reindex(catalogId, {});
    openai.failNext({ count: 1, status: 503 });
    await reindex(catalogId, { force: true });
    await reindex(catalogId, {}); // unchanged: every chunk skipped
    expect((await post(`${query}/v1/search`, { catalogId, query: 'refunds of orders' })).status).toBe(200);
    expect((await post(`${query}/v1/context`, { catalogId, question: 'Which customers asked for refunds?' })).status).toBe(200);
    expect((await fetch(`${api}/v1/catalogs/${catalogId}/index`)).status).toBe(200);

    const scraped = new Map<string, Map<string, Family>>();
    for (const [service, base] of [['api', api], ['query', query], ['worker', worker]] as const) {
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      scraped.set(service, parseExposition(await res.text()));
    }
    const names = new Set([...scraped.values()].flatMap((families) => [...families.keys()]));
    const movedAnywhere = (name: string) => [...scraped.values()].some((families) => {
      const family = families.get(name);
      return family !== undefined && moved(family);
    });
    // Node's default metrics (cidx_process_*, cidx_nodejs_*) are prom-client's; every other family is ours.
    const own = [...names].filter((n) => !/^cidx_(process|nodejs)_/.test(n));
    expect(own.length).toBeGreaterThanOrEqual(13);
    expect(own.filter((n) => !movedAnywhere(n))).toEqual([]);

    // Moved where they should: per service, with the labels dashboards read.
    const samples = (service: string, name: string) => scraped.get(service)?.get(name)?.samples ?? [];
    const text = async (base: string) => (await fetch(`${base}/metrics`)).text();
    const workerText = await text(worker);
    expect(workerText).toMatch(/cidx_embedding_requests_total\{model="text-embedding-3-small",outcome="rate_limited"\} 1\b/);
    expect(workerText).toMatch(/cidx_embedding_requests_total\{model="text-embedding-3-small",outcome="error"\} 1\b/);
    expect(workerText).toMatch(/cidx_embedding_rate_limited_total\{model="text-embedding-3-small"\} 1\b/);
    expect(workerText).toMatch(/cidx_embedding_retries_total\{model="text-embedding-3-small"\} 1\b/);
    expect(workerText).toMatch(/cidx_qdrant_call_duration_seconds_count\{operation="upsert points",outcome="ok"\} [1-9]/);
    expect(workerText).toMatch(/cidx_postgres_query_duration_seconds_count\{operation="insert",outcome="ok"\} [1-9]/);
    expect(workerText).toMatch(/cidx_job_duration_seconds_count\{name="reindex",outcome="completed"\} [1-9]/);
    const tokens = (service: string) => samples(service, 'cidx_embedding_tokens_total').reduce((s, x) => s + x.value, 0);
    expect(tokens('worker')).toBeGreaterThan(0);
    expect(tokens('query')).toBeGreaterThan(0);
    expect(tokens('worker') + tokens('query')).toBeLessThanOrEqual(openai.stats.tokens);
    expect(await text(query)).toMatch(/cidx_qdrant_call_duration_seconds_count\{operation="query points",outcome="ok"\} [1-9]/);
    expect(await text(api)).toMatch(/cidx_queue_jobs\{queue="[^"]+",state="completed"\} [1-9]/);
    for (const service of ['api', 'query', 'worker']) {
      expect(samples(service, 'cidx_process_cpu_user_seconds_total')[0]?.value).toBeGreaterThan(0);
      expect([...scraped.get(service)!.keys()].filter((n) => /cidx_(process_process|nodejs_nodejs)_/.test(n))).toEqual([]);
    }

    // Each service warned once that it runs without keys.
    for (const app of apps) expect({ app: app.name, warnings: app.output().split('runs without API keys').length - 1 }).toEqual({ app: app.name, warnings: 1 });

    // The dashboard names only metrics these services export.
    const dashboard = JSON.parse(readFileSync(path.join(REPO_ROOT, 'deploy/grafana/dashboards/catalog-indexer.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const series = new Set([...scraped.values()].flatMap((families) => [...families.values()].flatMap((f) => f.samples.map((s) => s.name))));
    for (const { expr } of dashboard.panels.flatMap((p) => p.targets)) {
      for (const [name] of expr.replace(/\{[^}]*\}/g, '').matchAll(/\bcidx_[a-zA-Z0-9_]+\b/g)) expect({ expr, name, exported: series.has(name) }).toEqual({ expr, name, exported: true });
    }
  });
});
