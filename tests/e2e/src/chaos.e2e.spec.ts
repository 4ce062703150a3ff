import { randomInt } from 'node:crypto';
import { type Catalog } from '@catalog-indexer/catalog';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { spawnApp, waitForHttp, type AppProcess } from '@catalog-indexer/devstack';
import { OpenAIEmulator, QdrantEmulator } from '@catalog-indexer/emulators';
import { openDataSource, type DataSource } from '@catalog-indexer/db';
import { JobProducer, createRedisConnection } from '@catalog-indexer/queue';
import { createTestDatabase, freePort, uniqueName, waitFor, type TestDatabase, qdrantEnv } from '@catalog-indexer/testing';
import { QdrantStore } from '@catalog-indexer/vector-store';
import { OwnRedis } from './redis-server';

jest.setTimeout(300_000);

/** mulberry32: a small seeded generator, so a failing run can be replayed with CHAOS_SEED. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.CHAOS_SEED ?? randomInt(1, 2 ** 31));
const CHAOS_MS = 45_000;
const WORKERS = 3;
const LATENCY_MS = 120;
/** After a kill, the work of a request that ended this recently may not have been checkpointed yet. */
const KILL_GRACE_MS = 3_000;

interface Billed {
  at: number;
  tokens: number;
}

/**
 * Chaos: several catalogs through concurrent reindex, cleanup, PUT, rejections and DELETE while worker
 * processes are SIGKILLed, the Qdrant emulator restarts empty, the OpenAI emulator answers 429 and 5xx and a
 * Redis of the test's own is killed and restarted. Once things settle, the two stores are checked from the
 * outside. Seeded: the seed is printed when it fails (replay with CHAOS_SEED=<seed>).
 */
describe('chaos: concurrent writers and failures keep Postgres and Qdrant in step', () => {
  const collection = uniqueName('chaos');
  const prefix = uniqueName('chaos');
  const random = seeded(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  let db: TestDatabase<DataSource>;
  let redis: OwnRedis;
  let qdrant: QdrantEmulator;
  let qdrantPort: number;
  let qdrantGrpcPort: number;
  let openai: OpenAIEmulator;
  let api: AppProcess;
  let apiUrl: string;
  let workers: AppProcess[] = [];
  const dead: AppProcess[] = [];
  const billed: Billed[] = [];
  const kills: number[] = [];
  const events: string[] = [];
  let env: Record<string, string>;

  const note = (what: string) => events.push(`${new Date().toISOString().slice(11, 23)} ${what}`);
  const logs = () =>
    [api, ...workers, ...dead.slice(-3)]
      .map((a) => `--- ${a.name} ---\n${a.output().slice(-3000)}`)
      .join('\n');
  const fail = (error: unknown): never => {
    throw new Error(
      `chaos seed ${SEED} (replay with CHAOS_SEED=${SEED}): ${error instanceof Error ? error.message : String(error)}\n` +
        `events:\n${events.join('\n')}\n${logs()}`,
    );
  };
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    try {
      const res = await fetch(`${apiUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
    } catch {
      return { status: 0, json: {} };
    }
  };
  const startWorker = (n: number) => {
    const worker = spawnApp('worker', env, { label: `worker-${n}` });
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'chaos', migrate: true }));
    redis = await OwnRedis.start();
    qdrant = new QdrantEmulator();
    ({ port: qdrantPort, grpcPort: qdrantGrpcPort } = await qdrant.start(0));
    openai = new OpenAIEmulator({ latencyMs: LATENCY_MS });
    openai.onExchange((x) => {
      const usage = (x.responseBody as { usage?: { total_tokens?: number } } | undefined)?.usage;
      if (x.status === 200 && usage?.total_tokens) billed.push({ at: Date.now(), tokens: usage.total_tokens });
    });
    const { url: openaiUrl } = await openai.start(0);
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    env = {
      DATABASE_URL: db.url,
      DB_MIGRATE_ON_START: 'false',
      DB_POOL_SIZE: '6',
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      ...qdrantEnv({ url: `http://127.0.0.1:${qdrantPort}`, grpcPort: qdrantGrpcPort }),
      QDRANT_COLLECTION_NAME: collection,
      QDRANT_TIMEOUT_MS: '5000',
      OPENAI_API_KEY: 'sk-chaos-test-key',
      OPENAI_BASE_URL: `${openaiUrl}/v1`,
      EMBEDDING_MODEL: 'text-embedding-3-small',
      EMBEDDING_DIMENSIONS: '32',
      EMBEDDING_BATCH_MAX_INPUTS: '8',
      EMBEDDING_TIMEOUT_MS: '10000',
      WORKER_CONCURRENCY: '3',
      WORKER_LOCK_DURATION_MS: '3000',
      WORKER_STALLED_INTERVAL_MS: '2000',
      CATALOG_LEASE_TTL_MS: '5000',
      RECONCILE_INTERVAL_MS: '0',
      API_PORT: String(apiPort),
      API_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    };
    api = spawnApp('api', env);
    for (let n = 0; n < WORKERS; n++) startWorker(n);
    await waitForHttp(`${apiUrl}/healthz`, 60_000, logs);
  });

  afterAll(async () => {
    await Promise.all([api, ...workers].map((a) => a.stop(2_000)));
    await qdrant.stop();
    await openai.stop();
    await redis.remove();
    await db.drop();
  });

  it('leaves, for every live catalog, exactly one point per active row, and nothing of deleted ones', async () => {
    // Four catalogs, indexed once before the chaos starts.
    const live = new Map<string, { catalog: Catalog; revision: number }>();
    for (let i = 0; i < 4; i++) {
      const catalog = { ...structuredClone(shopCatalog), name: `shop-${i}` };
      const created = await call('POST', '/v1/catalogs', catalog);
      if (created.status !== 201) fail(new Error(`could not create a catalog: ${created.status} ${JSON.stringify(created.json)}`));
      live.set(String(created.json.id), { catalog, revision: 0 });
      await call('POST', `/v1/catalogs/${String(created.json.id)}/reindex`, {});
    }
    const deleted = new Set<string>();

    const faults: [number, string, () => Promise<void>][] = [
      [6_000, 'kill a worker', () => killWorker()],
      [12_000, 'restart Qdrant empty', () => restartQdrant()],
      [15_000, 'kill a worker', () => killWorker()],
      [18_000, 'OpenAI: 429 for 4 s', () => rateLimitFor(4_000)],
      [24_000, 'OpenAI: next 12 requests answer 5xx', () => Promise.resolve(openai.failNext({ count: 12, status: 500, message: 'chaos' }))],
      [27_000, 'kill a worker', () => killWorker()],
      [31_000, 'kill and restart Redis', () => restartRedis()],
      [38_000, 'kill a worker', () => killWorker()],
    ];
    async function killWorker(): Promise<void> {
      const victim = pick(workers.filter((w) => w.child.exitCode === null));
      kills.push(Date.now());
      victim.child.kill('SIGKILL');
      await victim.exited;
      workers = workers.filter((w) => w !== victim);
      dead.push(victim);
      startWorker(workers.length + dead.length);
    }
    async function restartQdrant(): Promise<void> {
      await qdrant.stop();
      qdrant = new QdrantEmulator();
      await qdrant.start(qdrantPort, qdrantGrpcPort);
    }
    async function rateLimitFor(ms: number): Promise<void> {
      openai.configure({ tokensPerMinute: 200 });
      await new Promise((r) => setTimeout(r, ms));
      openai.configure({ tokensPerMinute: undefined });
    }
    async function restartRedis(): Promise<void> {
      await redis.kill();
      await new Promise((r) => setTimeout(r, 2_000));
      await redis.start();
    }

    const started = Date.now();
    const pendingFaults = faults.map(async ([at, what, run]) => {
      await new Promise((r) => setTimeout(r, at * (0.9 + 0.2 * random())));
      note(what);
      await run();
    });
    while (Date.now() - started < CHAOS_MS) {
      const ids = [...live.keys()];
      const id = pick(ids);
      const entry = live.get(id);
      const roll = random();
      if (!entry) break;
      if (roll < 0.35) {
        const r = await call('POST', `/v1/catalogs/${id}/reindex`, { force: random() < 0.15 });
        note(`reindex ${id.slice(0, 8)} → ${r.status} ${typeof r.json.jobId === 'string' ? r.json.jobId : ''}`);
      } else if (roll < 0.5) {
        const r = await call('POST', `/v1/catalogs/${id}/cleanup`, {});
        note(`cleanup ${id.slice(0, 8)} → ${r.status}`);
      } else if (roll < 0.75) {
        // A new revision: one table's description changes to text never used before.
        entry.revision++;
        const next = structuredClone(entry.catalog);
        const table = pick(next.schemas.flatMap((s) => s.tables));
        table.description = `${table.description ?? ''} Revision ${entry.revision} of ${id.slice(0, 8)}.`;
        const r = await call('PUT', `/v1/catalogs/${id}`, next);
        if (r.status === 200) entry.catalog = next;
        note(`put ${id.slice(0, 8)} → ${r.status}`);
        await call('POST', `/v1/catalogs/${id}/reindex`, {});
      } else if (roll < 0.88) {
        const schema = pick(entry.catalog.schemas);
        const key = `${schema.name}.${pick(schema.tables).name}`;
        const r = await call('PATCH', `/v1/catalogs/${id}/items`, random() < 0.7 ? { reject: [key] } : { restore: [key] });
        note(`reject/restore ${key} of ${id.slice(0, 8)} → ${r.status}`);
        await call('POST', `/v1/catalogs/${id}/cleanup`, {});
      } else if (deleted.size < 2 && live.size > 2 && Date.now() - started > 8_000) {
        const r = await call('DELETE', `/v1/catalogs/${id}`);
        note(`delete ${id.slice(0, 8)} → ${r.status}`);
        if (r.status === 202 || r.status === 404) {
          live.delete(id);
          deleted.add(id);
        }
      }
      await new Promise((r) => setTimeout(r, 150 + random() * 350));
    }
    await Promise.all(pendingFaults);
    note('chaos over: settling');

    // Settle: the product's reconcile job (run on demand here; periodic in production) repairs what the
    // failures left, and every job finishes.
    const redisClient = createRedisConnection(redis.url, 'producer');
    const producer = new JobProducer(redisClient, prefix);
    const store = new QdrantStore({ url: `http://127.0.0.1:${qdrantPort}`, collection, dimensions: 32 });
    try {
      const idle = async () => {
        const counts = await producer.queue.getJobCounts('wait', 'active', 'delayed', 'waiting-children', 'prioritized');
        const busy = Object.values(counts).reduce((s, n) => s + n, 0);
        const running = await db.dataSource.query<{ n: string }[]>(`SELECT count(*) AS n FROM index_runs WHERE status = 'running'`);
        return busy === 0 && Number(running[0]?.n ?? 0) === 0;
      };
      const settle = async (what: string) => {
        await waitFor(what, async () => (await idle()) && (await new Promise((r) => setTimeout(r, 1_500))) === undefined && (await idle()), {
          timeoutMs: 150_000,
          intervalMs: 1_000,
        }).catch(fail);
      };
      await settle('the queue to drain after the chaos');
      const reconcile = await producer.enqueue('reconcile', {});
      note(`reconcile ${reconcile.jobId}`);
      await settle('the reconcile and the reindexes it asked for');

      // Every live catalog: its active rows and its points match one to one.
      const everyPoint = await store.catalogIds();
      for (const id of live.keys()) {
        const rows = (await db.dataSource.query<{ id: string }[]>(`SELECT id FROM dq_embeddings WHERE catalog_id = $1 AND status = 'active'`, [id])).map((r) => r.id).sort();
        const points = (await store.listIds(id)).sort();
        if (rows.length === 0) fail(new Error(`live catalog ${id} has no active rows`));
        try {
          expect(points).toEqual(rows);
        } catch (error) {
          fail(error);
        }
      }
      // Deleted catalogs: no rows, no points.
      for (const id of deleted) {
        const rows = await db.dataSource.query<{ n: string }[]>(`SELECT count(*) AS n FROM dq_embeddings WHERE catalog_id = $1`, [id]);
        if (Number(rows[0]?.n) !== 0) fail(new Error(`deleted catalog ${id} still has ${rows[0]?.n} rows`));
        if (everyPoint.has(id)) fail(new Error(`deleted catalog ${id} still has points`));
      }
      // No pending row, no running run, nothing left in the delete outbox.
      const [state] = await db.dataSource.query<{ pending: string; running: string; outbox: string }[]>(
        `SELECT (SELECT count(*) FROM dq_embeddings WHERE status = 'pending') AS pending,
                (SELECT count(*) FROM index_runs WHERE status = 'running') AS running,
                (SELECT count(*) FROM point_deletions) AS outbox`,
      );
      expect({ seed: SEED, ...state }).toEqual({ seed: SEED, pending: '0', running: '0', outbox: '0' });
      for (const id of everyPoint) if (!live.has(id)) fail(new Error(`points of an unknown catalog ${id} remain`));

      // Tokens: everything billed was for chunks that were embedded (checkpointed, counted in their runs),
      // except the requests in flight when a worker was killed.
      const counted = await db.dataSource.query<{ tokens: string }[]>(`SELECT coalesce(sum(tokens), 0) AS tokens FROM index_runs`);
      const billedTotal = billed.reduce((s, b) => s + b.tokens, 0);
      const inFlightAtKill = billed
        .filter((b) => kills.some((k) => b.at >= k - KILL_GRACE_MS && b.at <= k + 10 * LATENCY_MS + 1_000))
        .reduce((s, b) => s + b.tokens, 0);
      const extra = billedTotal - Number(counted[0]?.tokens ?? 0);
      note(`tokens billed ${billedTotal}, counted ${counted[0]?.tokens}, in flight at kills ${inFlightAtKill}`);
      if (extra < 0 || extra > inFlightAtKill) {
        fail(new Error(`billed ${billedTotal} tokens, runs counted ${counted[0]?.tokens}: ${extra} extra, more than the ${inFlightAtKill} in flight at kills`));
      }
      // Every token the API billed (the emulator's own count) is in some run's tokensBilled, retries and lost
      // attempts included, but for the answers a worker was killed before it could record them.
      const recorded = await db.dataSource.query<{ billed: string }[]>(`SELECT coalesce(sum(tokens_billed), 0) AS billed FROM index_runs`);
      const unrecorded = openai.stats.tokens - Number(recorded[0]?.billed ?? 0);
      note(`tokens billed by the API ${openai.stats.tokens}, recorded as billed in runs ${recorded[0]?.billed}`);
      if (unrecorded < 0 || unrecorded > inFlightAtKill) {
        fail(new Error(`the API billed ${openai.stats.tokens} tokens, the runs recorded ${recorded[0]?.billed} as billed: ${unrecorded} unrecorded, more than the ${inFlightAtKill} in flight at kills`));
      }
      expect(Number(recorded[0]?.billed ?? 0)).toBeGreaterThanOrEqual(Number(counted[0]?.tokens ?? 0));
      expect(kills.length).toBeGreaterThanOrEqual(4);
      if (process.env.CHAOS_VERBOSE) process.stderr.write(`chaos seed ${SEED}\n${events.join('\n')}\n`);
    } finally {
      await producer.close();
      redisClient.disconnect();
    }
  });
});
