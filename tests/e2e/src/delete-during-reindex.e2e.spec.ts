import { randomInt } from 'node:crypto';
import { chunkCatalog } from '@catalog-indexer/catalog';
import { loadConfig } from '@catalog-indexer/config';
import { openDataSource, type DataSource } from '@catalog-indexer/db';
import { JobProducer, createRedisConnection } from '@catalog-indexer/queue';
import { createTestDatabase, waitFor, type TestDatabase } from '@catalog-indexer/testing';
import { seeded, Stack, wideCatalog } from './stack';

jest.setTimeout(300_000);

const SEED = Number(process.env.DELETE_SEED ?? randomInt(1, 2 ** 31));
const WORKERS = 2;
const CONCURRENCY = 2;

/**
 * A catalog deleted while a forced reindex of it runs in two worker processes: the delete wins at once. New
 * reindex and cleanup requests answer 404, the run stops at its next step (abandoned, not failed) and gives
 * the lease back, the catalog's rows and points are gone within 15 s, and no embedding request is sent after
 * the DELETE but those already in flight (counted at the OpenAI emulator). Seeded (DELETE_SEED).
 */
describe('a DELETE during a forced reindex', () => {
  const random = seeded(SEED);
  let db: TestDatabase<DataSource>;
  let stack: Stack;
  const embeddings: number[] = [];
  const events: string[] = [];
  const note = (what: string) => events.push(`${new Date().toISOString().slice(11, 23)} ${what}`);
  const fail = (error: unknown): never => {
    throw new Error(
      `delete seed ${SEED} (replay with DELETE_SEED=${SEED}): ${error instanceof Error ? error.message : String(error)}\n` +
        `events:\n${events.join('\n')}\n${stack.logs()}`,
    );
  };
  const count = async (sql: string, params: unknown[]): Promise<number> => Number((await db.dataSource.query<{ n: string }[]>(sql, params))[0]?.n ?? 0);

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 3, applicationName: 'delete-test', migrate: true }));
    stack = new Stack({
      databaseUrl: db.url,
      redisUrl: loadConfig().redis.url,
      workers: WORKERS,
      latencyMs: 300,
      env: { WORKER_CONCURRENCY: String(CONCURRENCY), CATALOG_LEASE_TTL_MS: '5000' },
    });
    stack.openai.onExchange((x) => {
      if (x.path.endsWith('/embeddings')) embeddings.push(Date.now());
    });
    await stack.start();
  });

  afterAll(async () => {
    await stack?.stop();
    await db?.drop();
  });

  it('stops the run, removes the index within 15 s, and pays for nothing but the requests in flight', async () => {
    const catalog = wideCatalog('deleted', 30, 20);
    const chunks = chunkCatalog(catalog).length;
    const created = await stack.call('POST', '/v1/catalogs', catalog);
    if (created.status !== 201) fail(new Error(`could not create the catalog: ${created.status} ${JSON.stringify(created.json)}`));
    const id = String(created.json.id);
    const jobDone = (jobId: string) =>
      waitFor(`job ${jobId} to finish`, async () => {
        const view = await stack.call('GET', `/v1/jobs/${jobId}`);
        return view.json.state === 'completed' || view.json.state === 'failed' ? view.json : undefined;
      }, { timeoutMs: 180_000, intervalMs: 300 });
    const first = await stack.call('POST', `/v1/catalogs/${id}/reindex`, {});
    const indexed = await jobDone(String(first.json.jobId)).catch(fail);
    expect(indexed).toMatchObject({ state: 'completed', result: { status: 'completed', embedded: chunks } });
    note(`catalog ${id} indexed (${chunks} chunks)`);

    // A forced reindex, deleted once a seeded share (10-60 %) of its chunks is embedded.
    const forced = await stack.call('POST', `/v1/catalogs/${id}/reindex`, { force: true });
    const forcedJob = String(forced.json.jobId);
    const share = 0.1 + 0.5 * random();
    await waitFor(`${Math.round(share * 100)} % of the forced run to be embedded`, async () => {
      const n = await count(`SELECT count(*) AS n FROM dq_embeddings WHERE catalog_id = $1 AND status = 'pending' AND embedded_at IS NOT NULL`, [id]);
      return n >= share * chunks;
    }, { timeoutMs: 120_000, intervalMs: 100 }).catch(fail);
    const deleted = await stack.call('DELETE', `/v1/catalogs/${id}`);
    const deletedAt = Date.now();
    const sentBefore = embeddings.length;
    note(`DELETE → ${deleted.status} after ${sentBefore} embedding requests`);
    try {
      expect(deleted.status).toBe(202);
      // New requests for it are refused; a reconcile of what is left can still be asked for.
      expect((await stack.call('POST', `/v1/catalogs/${id}/reindex`, { force: true })).status).toBe(404);
      expect((await stack.call('POST', `/v1/catalogs/${id}/cleanup`, {})).status).toBe(404);
    } catch (error) {
      fail(error);
    }

    // The index is gone within 15 s: no row, no point.
    await waitFor('the deleted catalog to leave both stores', async () => {
      const rows = await count(`SELECT count(*) AS n FROM dq_embeddings WHERE catalog_id = $1`, [id]);
      return rows === 0 && (await stack.store.count(id)) === 0;
    }, { timeoutMs: 15_000, intervalMs: 200 }).catch(fail);
    note(`index gone ${Date.now() - deletedAt} ms after the DELETE`);

    // The forced run's job ends (not failed), its run abandoned, and nothing of the catalog keeps running.
    const ended = await jobDone(forcedJob).catch(fail);
    note(`forced job ${String(ended.state)}: ${JSON.stringify(ended.result ?? ended.failedReason)}`);
    await waitFor('every job of the queue to finish', async () => (await unfinishedJobs()) === 0, { timeoutMs: 60_000, intervalMs: 500 }).catch(fail);
    try {
      expect(ended).toMatchObject({ state: 'completed', result: { status: 'abandoned', reason: 'catalog deleted' } });
      const runs = await db.dataSource.query<{ mode: string; status: string }[]>(`SELECT mode, status FROM index_runs WHERE catalog_id = $1`, [id]);
      expect(runs.filter((r) => r.status === 'failed' || r.status === 'running')).toEqual([]);
      expect(runs.filter((r) => r.mode === 'reindex').map((r) => r.status).sort()).toEqual(['abandoned', 'completed']);
      expect(await count(`SELECT count(*) AS n FROM catalog_leases WHERE catalog_id = $1 AND expires_at > now()`, [id])).toBe(0);
      expect(await count(`SELECT count(*) AS n FROM point_deletions WHERE catalog_id = $1`, [id])).toBe(0);
      expect((await stack.store.catalogIds()).has(id)).toBe(false);
      // Embedding requests after the DELETE: at most one per batch slot (those already in flight).
      const after = embeddings.filter((at) => at > deletedAt).length;
      note(`${after} embedding requests answered after the DELETE`);
      expect(after).toBeLessThanOrEqual(WORKERS * CONCURRENCY);
      expect(embeddings.length - sentBefore).toBe(after);
    } catch (error) {
      fail(error);
    }
  });

  /** Jobs still to run in the stack's queue. */
  async function unfinishedJobs(): Promise<number> {
    const connection = createRedisConnection(loadConfig().redis.url, 'producer');
    const producer = new JobProducer(connection, stack.prefix);
    try {
      const counts = await producer.queue.getJobCounts('wait', 'active', 'delayed', 'waiting-children', 'prioritized');
      return Object.values(counts).reduce((s, n) => s + n, 0);
    } finally {
      await producer.close();
      connection.disconnect();
    }
  }
});
