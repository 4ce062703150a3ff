import { randomInt } from 'node:crypto';
import { chunkCatalog } from '@catalog-indexer/catalog';
import { openDataSource, type DataSource } from '@catalog-indexer/db';
import { startPostgresServer, waitFor, type PostgresServerProcess } from '@catalog-indexer/testing';
import { loadConfig } from '@catalog-indexer/config';
import { seeded, Stack, wideCatalog } from './stack';

jest.setTimeout(720_000);

const SEED = Number(process.env.OUTAGE_SEED ?? randomInt(1, 2 ** 31));
const LEASE_TTL_MS = 3_000;
const LATENCY_MS = 300;
const WORKERS = 2;

/**
 * A Postgres outage in the middle of a reindex: the test's own PostgreSQL is stopped (immediate shutdown,
 * every connection dropped) for several lease lifetimes while two worker processes embed a catalog, then
 * started again, and a reconcile is asked for at once (the moment a lease that expired during the outage
 * could be taken from its run). The run must go on and complete, paying at most 5 % more than the catalog's
 * tokens, with no abandoned run and the two stores in step, checked from outside. Seeded (OUTAGE_SEED);
 * OUTAGE_VERBOSE=1 prints the timeline and the tokens billed.
 */
describe('a Postgres outage during a reindex', () => {
  const random = seeded(SEED);
  let postgres: PostgresServerProcess;
  let db: DataSource;
  let stack: Stack;
  const events: string[] = [];
  const note = (what: string) => events.push(`${new Date().toISOString().slice(11, 23)} ${what}`);
  const fail = (error: unknown): never => {
    throw new Error(
      `outage seed ${SEED} (replay with OUTAGE_SEED=${SEED}): ${error instanceof Error ? error.message : String(error)}\n` +
        `events:\n${events.join('\n')}\n${stack.logs()}`,
    );
  };
  const query = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => db.query<T[]>(sql, params);

  beforeAll(async () => {
    postgres = await startPostgresServer();
    db = await openDataSource({ url: postgres.url, poolSize: 2, applicationName: 'outage-test', migrate: true });
    stack = new Stack({
      databaseUrl: postgres.url,
      redisUrl: loadConfig().redis.url,
      workers: WORKERS,
      latencyMs: LATENCY_MS,
      // Short leases, and a periodic reconcile that looks for runs whose leases expired. Small batches: what an
      // outage can cost is the batches in flight when it starts (their tokens paid, their rows not written).
      env: { CATALOG_LEASE_TTL_MS: String(LEASE_TTL_MS), RECONCILE_INTERVAL_MS: '4000', EMBEDDING_BATCH_MAX_INPUTS: '4' },
    });
    await stack.start();
  });

  afterAll(async () => {
    await stack?.stop();
    await db?.destroy().catch(() => undefined);
    await postgres?.remove();
  });

  it('lets the run go on through the outage: no abandoned run, at most 5 % more tokens, 0 drift', async () => {
    const catalog = wideCatalog('outage', 50, 24);
    const chunks = chunkCatalog(catalog).length;
    const created = await stack.call('POST', '/v1/catalogs', catalog);
    if (created.status !== 201) fail(new Error(`could not create the catalog: ${created.status} ${JSON.stringify(created.json)}`));
    const id = String(created.json.id);
    const reindex = await stack.call('POST', `/v1/catalogs/${id}/reindex`, {});
    const jobId = String(reindex.json.jobId);
    note(`catalog ${id} (${chunks} chunks), reindex ${jobId}`);

    // The outage starts once a seeded share (20-45 %) of the catalog is embedded and lasts 3-4 lease lifetimes.
    const share = 0.2 + 0.25 * random();
    const seededOutageMs = Math.round(LEASE_TTL_MS * (3 + random()));
    // OUTAGE_MS replays a longer outage by hand (five minutes: OUTAGE_MS=300000).
    const outageMs = process.env.OUTAGE_MS ? Number(process.env.OUTAGE_MS) : seededOutageMs;
    const embedded = async () =>
      Number((await query<{ n: string }>(`SELECT count(*) AS n FROM dq_embeddings WHERE catalog_id = $1 AND embedded_at IS NOT NULL`, [id]))[0]?.n ?? 0);
    await waitFor(`${Math.round(share * 100)} % of the catalog to be embedded`, async () => (await embedded()) >= share * chunks, {
      timeoutMs: 150_000,
      intervalMs: 200,
    }).catch(fail);
    const before = await embedded();
    note(`stopping Postgres for ${outageMs} ms at ${before} embedded chunks`);
    await db.destroy();
    await postgres.stop();
    await new Promise((r) => setTimeout(r, outageMs));
    await postgres.start();
    db = await openDataSource({ url: postgres.url, poolSize: 2, applicationName: 'outage-test', migrate: false });
    note('Postgres started again');
    // A reconcile asked for at once finds the run's lease expired (its renewals failed throughout).
    const reconcileJobId = await waitFor('the api to accept a reconcile', async () => {
      const asked = await stack.call('POST', `/v1/catalogs/${id}/reconcile`);
      return asked.status === 202 ? String(asked.json.jobId) : undefined;
    }, { timeoutMs: 60_000, intervalMs: 200 }).catch(fail);
    note(`reconcile asked for: ${reconcileJobId}`);

    // A job's view once it has ended (completed or failed).
    const ended = (what: string, job: string, timeoutMs: number) =>
      waitFor(`the ${what} job to finish`, async () => {
        const view = await stack.call('GET', `/v1/jobs/${job}`);
        const state = view.json.state;
        return state === 'completed' || state === 'failed' ? view.json : undefined;
      }, { timeoutMs, intervalMs: 500 }).catch(fail);
    const job = await ended('reindex', jobId, 240_000);
    note(`reindex job ${String(job.state)}: ${JSON.stringify(job.result ?? job.failedReason)}`);
    // The reconcile waits while the run holds the catalog and may start once it is released: the stores are
    // checked when it has ended too.
    const reconciled = await ended('reconcile', reconcileJobId, 120_000);
    note(`reconcile job ${String(reconciled.state)}: ${JSON.stringify(reconciled.result ?? reconciled.failedReason)}`);
    try {
      expect(before).toBeLessThan(chunks);
      expect(job).toMatchObject({ state: 'completed', result: { status: 'completed' } });
      expect(reconciled).toMatchObject({ state: 'completed' });

      // No run was abandoned or failed: the one reindex run went through the outage and completed.
      // Read once no run is running: the periodic reconcile (every 4 s here) may have just begun one.
      const readRuns = () =>
        query<{ mode: string; status: string; embedded: number; tokens: string; tokens_billed: string }>(
          `SELECT mode, status, embedded, tokens, tokens_billed FROM index_runs WHERE catalog_id = $1`,
          [id],
        );
      const runs = await waitFor('no run of the catalog to be running', async () => {
        const all = await readRuns();
        return all.some((r) => r.status === 'running') ? undefined : all;
      }, { timeoutMs: 60_000, intervalMs: 200 });
      const reindexRuns = runs.filter((r) => r.mode === 'reindex');
      expect(runs.filter((r) => r.status === 'abandoned' || r.status === 'failed' || r.status === 'running')).toEqual([]);
      expect(reindexRuns.map((r) => r.status)).toEqual(['completed']);
      const run = reindexRuns[0]!;
      expect(run.embedded).toBe(chunks);

      // Billed by the embeddings API (the emulator's own count) against what a clean run pays: the tokens of
      // the catalog's chunks, each embedded once (the run's `tokens`).
      const clean = Number(run.tokens);
      const billed = stack.openai.stats.tokens;
      note(`billed ${billed} tokens, a clean run ${clean} (${(billed / clean).toFixed(3)}x), recorded as billed ${run.tokens_billed}`);
      expect(billed).toBeLessThanOrEqual(1.05 * clean);
      expect(Number(run.tokens_billed)).toBeLessThanOrEqual(billed);
      expect(Number(run.tokens_billed)).toBeGreaterThanOrEqual(clean);

      // The two stores in step: one point per active row, nothing pending, nothing left to delete.
      const rows = (await query<{ id: string }>(`SELECT id FROM dq_embeddings WHERE catalog_id = $1 AND status = 'active'`, [id])).map((r) => r.id).sort();
      expect(rows).toHaveLength(chunks);
      expect((await stack.store.listIds(id)).sort()).toEqual(rows);
      const [left] = await query<{ pending: string; outbox: string }>(
        `SELECT (SELECT count(*) FROM dq_embeddings WHERE status = 'pending') AS pending, (SELECT count(*) FROM point_deletions) AS outbox`,
      );
      expect(left).toEqual({ pending: '0', outbox: '0' });
    } catch (error) {
      fail(error);
    }
    if (process.env.OUTAGE_VERBOSE) process.stderr.write(`outage seed ${SEED}\n${events.join('\n')}\n`);
  });
});
