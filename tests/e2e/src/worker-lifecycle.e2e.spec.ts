import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { loadConfig } from '@catalog-indexer/config';
import { spawnApp, waitForHttp, type AppProcess } from '@catalog-indexer/devstack';
import { OpenAIEmulator, QdrantEmulator } from '@catalog-indexer/emulators';
import { openDataSource, type DataSource } from '@catalog-indexer/db';
import { JobProducer, createRedisConnection } from '@catalog-indexer/queue';
import { createTestDatabase, deleteRedisPrefix, freePort, uniqueName, waitFor, type TestDatabase, qdrantEnv } from '@catalog-indexer/testing';

jest.setTimeout(180_000);

const LOCK_MS = 2_000;
const STALLED_MS = 2_000;

/**
 * A worker asked to stop (SIGTERM) finishes its active batches and exits cleanly; a worker killed (SIGKILL)
 * has its jobs taken up by another process within the lock and stalled-check intervals, which continues from
 * the checkpoints without paying for them again.
 */
describe('worker lifecycle', () => {
  const prefix = uniqueName('life');
  let db: TestDatabase<DataSource>;
  let qdrant: QdrantEmulator;
  let openai: OpenAIEmulator;
  let api: AppProcess;
  let apiUrl: string;
  const workers: AppProcess[] = [];
  let env: Record<string, string>;
  let redis: ReturnType<typeof createRedisConnection>;
  let producer: JobProducer;
  const billed: { at: number; tokens: number }[] = [];
  const logs = () => [api, ...workers].map((a) => `--- ${a.name} ---\n${a.output().slice(-3000)}`).join('\n');
  const worker = (label: string) => {
    const w = spawnApp('worker', env, { label });
    workers.push(w);
    return w;
  };
  const startReindex = async (): Promise<{ catalogId: string; jobId: string }> => {
    const created = (await fetch(`${apiUrl}/v1/catalogs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...shopCatalog, name: uniqueName('shop') }),
    }).then((r) => r.json())) as { id: string };
    const job = (await fetch(`${apiUrl}/v1/catalogs/${created.id}/reindex`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    }).then((r) => r.json())) as { jobId: string };
    return { catalogId: created.id, jobId: job.jobId };
  };
  const embeddedRows = async (catalogId: string) =>
    Number(
      (
        await db.dataSource.query<{ n: string }[]>(
          `SELECT count(*) AS n FROM dq_embeddings WHERE catalog_id = $1 AND embedded_at IS NOT NULL`,
          [catalogId],
        )
      )[0]?.n ?? 0,
    );
  const runTokens = async (catalogId: string) =>
    Number((await db.dataSource.query<{ t: string }[]>(`SELECT coalesce(sum(tokens), 0) AS t FROM index_runs WHERE catalog_id = $1`, [catalogId]))[0]?.t ?? 0);
  const finished = (jobId: string, timeoutMs: number) =>
    waitFor(
      `job ${jobId} to complete`,
      async () => {
        const job = await producer.getJob(jobId);
        if (job?.state === 'failed') throw new Error(`job failed: ${job.failedReason ?? ''}\n${logs()}`);
        return job?.state === 'completed' ? job : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'lifecycle', migrate: true }));
    qdrant = new QdrantEmulator();
    const started = await qdrant.start(0);
    openai = new OpenAIEmulator({ latencyMs: 300 });
    openai.onExchange((x) => {
      const usage = (x.responseBody as { usage?: { total_tokens?: number } } | undefined)?.usage;
      if (x.status === 200 && usage?.total_tokens) billed.push({ at: Date.now(), tokens: usage.total_tokens });
    });
    const { url: openaiUrl } = await openai.start(0);
    const port = await freePort();
    apiUrl = `http://127.0.0.1:${port}`;
    env = {
      DATABASE_URL: db.url,
      DB_MIGRATE_ON_START: 'false',
      QUEUE_PREFIX: prefix,
      ...qdrantEnv(started),
      QDRANT_COLLECTION_NAME: uniqueName('life'),
      OPENAI_API_KEY: 'sk-lifecycle-test',
      OPENAI_BASE_URL: `${openaiUrl}/v1`,
      EMBEDDING_MODEL: 'text-embedding-3-small',
      EMBEDDING_DIMENSIONS: '32',
      EMBEDDING_BATCH_MAX_INPUTS: '4',
      WORKER_CONCURRENCY: '2',
      WORKER_LOCK_DURATION_MS: String(LOCK_MS),
      WORKER_STALLED_INTERVAL_MS: String(STALLED_MS),
      CATALOG_LEASE_TTL_MS: '4000',
      RECONCILE_INTERVAL_MS: '0',
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      LOG_LEVEL: 'info',
    };
    api = spawnApp('api', env);
    await waitForHttp(`${apiUrl}/healthz`, 60_000, logs);
    redis = createRedisConnection(loadConfig().redis.url, 'producer');
    producer = new JobProducer(redis, prefix);
  });

  afterAll(async () => {
    await Promise.all([api, ...workers].map((a) => a.stop(2_000)));
    await producer.close();
    redis.disconnect();
    await deleteRedisPrefix(prefix);
    await qdrant.stop();
    await openai.stop();
    await db.drop();
  });

  it('lets the active batches finish on SIGTERM, exits 0, and another worker completes the reindex', async () => {
    const first = worker('worker-term');
    await waitFor('the worker to be ready', () => first.output().includes('worker ready'), { timeoutMs: 60_000 });
    const { catalogId, jobId } = await startReindex();
    await waitFor('a few batches to be embedded', async () => (await embeddedRows(catalogId)) >= 8, { timeoutMs: 60_000, intervalMs: 50 });
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('worker shutting down');
    // Nothing it had started was left half done: every batch job it took either completed or was never taken.
    const failed = await producer.queue.getJobs(['failed']);
    expect(failed.map((j) => j.failedReason)).toEqual([]);
    worker('worker-after-term');
    await finished(jobId, 60_000);
    expect(billed.reduce((s, b) => s + b.tokens, 0)).toBe(await runTokens(catalogId));
  });

  it('takes up the jobs of a SIGKILLed worker within the stalled-check interval and pays only for requests in flight', async () => {
    for (const w of workers) await w.stop(5_000);
    billed.length = 0;
    const doomed = worker('worker-kill');
    await waitFor('the worker to be ready', () => doomed.output().includes('worker ready'), { timeoutMs: 60_000 });
    const { catalogId, jobId } = await startReindex();
    await waitFor('a few batches to be embedded', async () => (await embeddedRows(catalogId)) >= 8, { timeoutMs: 60_000, intervalMs: 50 });
    const killedAt = Date.now();
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const atKill = await embeddedRows(catalogId);
    worker('worker-rescue');
    await waitFor('the batches to move again', async () => (await embeddedRows(catalogId)) > atKill, { timeoutMs: 60_000, intervalMs: 100 });
    const resumedAfter = Date.now() - killedAt;
    await finished(jobId, 60_000);
    // Start-up of the new process (a few seconds here) plus at most a lock duration and a stalled interval.
    expect(resumedAfter).toBeLessThan(LOCK_MS + STALLED_MS + 25_000);
    const extra = billed.reduce((s, b) => s + b.tokens, 0) - (await runTokens(catalogId));
    const inFlight = billed.filter((b) => b.at >= killedAt - 2_000 && b.at <= killedAt + 2_000).reduce((s, b) => s + b.tokens, 0);
    expect(extra).toBeGreaterThanOrEqual(0);
    expect(extra).toBeLessThanOrEqual(inFlight);
    const rows = await db.dataSource.query<{ n: string }[]>(`SELECT count(*) AS n FROM dq_embeddings WHERE catalog_id = $1 AND status = 'pending'`, [catalogId]);
    expect(rows[0]?.n).toBe('0');
  });

  it('hands back on SIGTERM the jobs waiting on the rate limiter, which another worker takes within 5 s, and exits 0', async () => {
    for (const w of workers) await w.stop(5_000);
    billed.length = 0;
    // Six requests a minute for every worker together (seven, less the query service's reserved one): after
    // the first six, every batch waits its turn.
    const limited = { ...env, EMBEDDING_RPM: '7', WORKER_SHUTDOWN_TIMEOUT_MS: '20000' };
    const waiting = spawnApp('worker', { ...limited, WORKER_CONCURRENCY: '2' }, { label: 'worker-waiting' });
    workers.push(waiting);
    await waitFor('the worker to be ready', () => waiting.output().includes('worker ready'), { timeoutMs: 60_000 });
    const { catalogId } = await startReindex();
    const heldBy = async (pid: number | undefined) =>
      (await producer.queue.getJobs(['active'])).filter((j) => j.name === 'embed-batch' && j.processedBy?.endsWith(`:${pid}`) && (j.data as { catalogId: string }).catalogId === catalogId);
    // The first worker holds batches that wait for the limiter (six requests went out; the rest wait a minute).
    await waitFor('the limit to be used up', () => billed.length >= 6, { timeoutMs: 60_000, intervalMs: 100 });
    const holding = () =>
      waitFor('the first worker to hold batches', async () => {
        const jobs = await heldBy(waiting.child.pid);
        // Its slots hold batches waiting for the limiter.
        return jobs.length >= 1 ? jobs : undefined;
      }, { timeoutMs: 60_000, intervalMs: 100 });
    await holding();
    // Started once the first worker holds batches, so that it does not take them all first. Slots for every
    // batch of the plan, so those handed back find a free one at once.
    const other = spawnApp('worker', { ...limited, WORKER_CONCURRENCY: '64' }, { label: 'worker-other' });
    workers.push(other);
    await waitFor('the other worker to be ready', () => other.output().includes('worker ready'), { timeoutMs: 60_000 });
    // What it holds now (one of the batches it held may have had its turn meanwhile).
    const held = await holding();
    const requestsBefore = billed.length;
    const termAt = Date.now();
    waiting.child.kill('SIGTERM');
    const ids = held.map((j) => j.id!);
    await waitFor(
      'the other worker to take the handed-back batches',
      async () => {
        const jobs = await Promise.all(ids.map((id) => producer.queue.getJob(id)));
        return jobs.every((j) => j?.processedBy?.endsWith(`:${other.child.pid}`));
      },
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    expect(Date.now() - termAt).toBeLessThan(5_000);
    expect(await waiting.exited).toBe(0);
    expect(waiting.output()).toContain('worker stopped');
    // Handed back without using an attempt, and nothing failed.
    expect((await producer.queue.getJobs(['failed'])).map((j) => j.failedReason)).toEqual([]);
    for (const id of ids) expect((await producer.queue.getJob(id))?.attemptsMade).toBe(0);
    // The stopping worker sent nothing once told to stop: it had not started those requests.
    expect(billed.length - requestsBefore).toBeLessThanOrEqual(6);
    await other.stop(2_000);
  });

  it('exits non-zero after WORKER_SHUTDOWN_TIMEOUT_MS, logging the jobs it abandons', async () => {
    for (const w of workers) await w.stop(5_000);
    billed.length = 0;
    // Requests that take 8 s each cannot finish within a 1 s shutdown timeout.
    openai.configure({ latencyMs: 8_000 });
    try {
      const slow = spawnApp('worker', { ...env, WORKER_SHUTDOWN_TIMEOUT_MS: '1000' }, { label: 'worker-slow' });
      workers.push(slow);
      await waitFor('the worker to be ready', () => slow.output().includes('worker ready'), { timeoutMs: 60_000 });
      const sent = openai.stats.requests;
      await startReindex();
      // A request of a batch has reached the embeddings API: that batch is in flight, not waiting.
      await waitFor('a batch request to be in flight', () => openai.stats.requests > sent, { timeoutMs: 60_000, intervalMs: 50 });
      slow.child.kill('SIGTERM');
      expect(await slow.exited).toBe(1);
      expect(slow.output()).toMatch(/still running after WORKER_SHUTDOWN_TIMEOUT_MS; abandoning them/);
      expect(slow.output()).toMatch(/"name":"embed-batch"/);
    } finally {
      openai.configure({ latencyMs: 300 });
    }
  });
});
