import { type AddressInfo } from 'node:net';
import type http from 'node:http';
import { Queue, Worker } from 'bullmq';
import { loadConfig } from '@catalog-indexer/config';
import { openDataSource, type DataSource } from '@catalog-indexer/db';
import { createLogger } from '@catalog-indexer/logger';
import { createRedisConnection } from '@catalog-indexer/queue';
import { createTestDatabase, deleteRedisPrefix, uniqueName, waitFor, type TestDatabase } from '@catalog-indexer/testing';
import { observeJobs, startWorkerServer } from './metrics-server';

describe(startWorkerServer.name, () => {
  const prefix = uniqueName('wmetrics');
  const key = 'worker-metrics-key';
  let server: http.Server;
  let base: string;
  let queue: Queue;
  let worker: Worker;
  let db: TestDatabase<DataSource>;
  // BullMQ leaves open the connections it is given: the spec closes them.
  let connections: ReturnType<typeof createRedisConnection>[] = [];

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 1, applicationName: 'test', migrate: false }));
    const url = loadConfig().redis.url;
    connections = [createRedisConnection(url, 'producer'), createRedisConnection(url, 'worker')];
    queue = new Queue('metrics-test', { connection: connections[0]!, prefix });
    worker = new Worker(
      'metrics-test',
      (job) =>
        job.name === 'cleanup'
          ? Promise.reject(new Error('cleanup failed for good'))
          : job.name === 'reconcile' && job.attemptsMade === 0
            ? Promise.reject(new Error('first attempt fails, the retry succeeds'))
            : job.name === 'embed-batch'
            ? Promise.resolve({ status: 'embedded', embedded: 3, tokens: 40 })
            : // A reindex's result repeats its batches' totals: only what it skipped counts.
              Promise.resolve({ status: 'completed', embedded: 6, skipped: 2, tokens: 80 }),
      { connection: connections[1]!, prefix },
    );
    observeJobs(worker);
    server = (await startWorkerServer({
      host: '127.0.0.1',
      port: 0,
      apiKeys: [key],
      logger: createLogger({ level: 'silent' }),
      health: { dataSource: db.dataSource, queue, worker },
    }))!;
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await worker.close();
    await queue.close();
    for (const c of connections) c.disconnect();
    server.close();
    await deleteRedisPrefix(prefix);
    await db.drop();
  });

  const scrape = async () => (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${key}` } })).text();

  it('counts finished jobs by name and outcome, the chunks and tokens of batches and the chunks reindexes skipped', async () => {
    await queue.add('embed-batch', { batch: 0 });
    await queue.add('embed-batch', { batch: 1 });
    await queue.add('reindex', { catalogId: 'a' });
    await queue.add('reindex', { catalogId: 'b' });
    await queue.add('cleanup', { catalogId: 'c' }, { attempts: 1 });
    const body = await waitFor(
      'three jobs to be counted',
      async () => {
        const text = await scrape();
        return text.includes('cidx_jobs_total{name="reindex",outcome="completed"} 2') && text.includes('cidx_jobs_total{name="cleanup",outcome="failed"} 1') ? text : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(body).toContain('cidx_index_run_tokens_total 80');
    expect(body).toContain('cidx_chunks_embedded_total 6');
    expect(body).toContain('cidx_chunks_skipped_total 4');
    expect(body).toMatch(/cidx_job_duration_seconds_count\{name="reindex",outcome="completed"\} 2/);
    expect(body).toMatch(/^cidx_process_cpu_user_seconds_total \d/m);
    expect(body).not.toContain('cidx_process_process_');
  });

  it('times an attempt that fails and is retried as retried, and the retry that succeeds as completed', async () => {
    await queue.add('reconcile', {}, { attempts: 2, backoff: { type: 'fixed', delay: 10 } });
    const body = await waitFor(
      'the reconcile to be retried and completed',
      async () => {
        const text = await scrape();
        return text.includes('cidx_jobs_total{name="reconcile",outcome="completed"} 1') ? text : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(body).toContain('cidx_jobs_total{name="reconcile",outcome="retried"} 1');
    expect(body).toMatch(/cidx_job_duration_seconds_count\{name="reconcile",outcome="retried"\} 1/);
    expect(body).not.toMatch(/cidx_job_duration_seconds_count\{name="reconcile",outcome="failed"\}/);
  });

  it('serves readiness on the same port as the metrics', async () => {
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { postgres: true, redis: true, worker: true } });
    await worker.pause();
    const paused = await fetch(`${base}/readyz`);
    expect(paused.status).toBe(503);
    expect(await paused.json()).toMatchObject({ status: 'not ready', checks: { worker: false } });
    void worker.resume();
  });

  it('answers /metrics without the key with 401, /healthz and /readyz without one', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
    expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
  });

  it('logs and goes on without metrics when its port is taken', async () => {
    const port = (server.address() as AddressInfo).port;
    const second = await startWorkerServer({ host: '127.0.0.1', port, apiKeys: [], logger: createLogger({ level: 'silent' }) });
    expect(second).toBeUndefined();
  });
});
