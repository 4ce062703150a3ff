import { randomUUID } from 'node:crypto';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { ReconcileService } from './reconcile.service';
import { PipelineHarness, shopWithout, toNew } from '../test/pipeline.harness';

describe(ReconcileService.name, () => {
  const h = new PipelineHarness();
  const chunks = PipelineHarness.keys(shopCatalog).length;

  beforeAll(() => h.start());
  afterAll(() => h.stop());
  beforeEach(() => h.reset());

  const indexed = async (): Promise<string> => {
    const id = await h.createCatalog();
    expect((await h.run(id)).status).toBe('completed');
    return id;
  };

  it('deletes the points of a live catalog that no row owns and keeps its rows', async () => {
    const id = await indexed();
    const rows = await h.rowIds(id);
    const orphan = await h.strayPoint(id);

    const drift = await h.reconcile.reconcileCatalog(id, 'reconciler');

    expect(drift).toEqual({
      catalogId: id,
      status: 'repaired',
      rows: chunks,
      points: chunks,
      orphanPoints: 1,
      missingPoints: 0,
      strayPending: 0,
      outboxDeleted: 0,
      needsReindex: false,
    });
    expect(await h.pointIds(id)).not.toContain(orphan);
    expect(await h.rowIds(id)).toEqual(rows);
    expect(await h.pointIds(id)).toEqual(rows);
    const run = (await h.runs.list(id, 1, 'reconcile'))[0];
    expect(run).toMatchObject({ status: 'completed', deleted: 1, details: expect.objectContaining({ orphanPoints: 1 }) });
  });

  it('reports active rows whose points were lost as needing a reindex, without touching the rows', async () => {
    const id = await indexed();
    const rows = await h.rowIds(id);
    await h.store.deleteIds(rows.slice(0, 3));

    const drift = await h.reconcile.reconcileCatalog(id, 'reconciler');

    expect(drift).toMatchObject({ status: 'repaired', rows: chunks, points: chunks - 3, missingPoints: 3, orphanPoints: 0, needsReindex: true });
    expect(await h.rowIds(id)).toEqual(rows);
    // The reindex it asks for repairs the catalog.
    expect(await h.run(id)).toMatchObject({ embedded: 3 });
    expect(await h.reconcile.reconcileCatalog(id, 'reconciler')).toMatchObject({ missingPoints: 0, needsReindex: false });
  });

  it('reports pending rows no run owns as needing a reindex', async () => {
    const id = await h.createCatalog();
    h.embedder.failOnCall = 2;
    await expect(h.run(id)).rejects.toThrow('embeddings API down');
    const pending = (await h.rowIds(id, 'pending')).length;
    expect(pending).toBe(chunks);

    const drift = await h.reconcile.reconcileCatalog(id, 'reconciler');

    expect(drift).toMatchObject({ status: 'repaired', rows: chunks, points: 16, strayPending: chunks, missingPoints: 0, orphanPoints: 0, needsReindex: true });
  });

  it('removes every row and point of a catalog that was deleted, and closes its running runs', async () => {
    const id = await indexed();
    const running = await h.runs.start(id, 'reindex', null, 1);
    await h.catalogs.delete(id);

    const drift = await h.reconcile.reconcileCatalog(id, 'reconciler');

    expect(drift).toMatchObject({ status: 'deleted', rows: chunks, points: 0, orphanPoints: 0, outboxDeleted: chunks });
    expect(await h.rowIds(id)).toEqual([]);
    expect(await h.pointIds(id)).toEqual([]);
    expect(await h.deletions.pendingCount(id)).toBe(0);
    expect(await h.runs.get(running.id)).toMatchObject({ status: 'abandoned', error: 'catalog deleted' });
  });

  it('removes, across the whole index, rows and points of deleted catalogs and points of unknown tenants', async () => {
    const live = await indexed();
    const deleted = await indexed();
    await h.catalogs.delete(deleted);
    // Points of a deleted catalog whose rows are already gone, and of a tenant Postgres never knew.
    const ghost = randomUUID();
    await h.strayPoint(ghost);
    await h.strayPoint(ghost);
    const liveRows = await h.rowIds(live);

    const drifts = await h.reconcile.reconcileAll('reconciler');

    const byId = new Map(drifts.map((d) => [d.catalogId, d]));
    expect(byId.get(live)).toMatchObject({ status: 'repaired', orphanPoints: 0, missingPoints: 0 });
    expect(byId.get(deleted)).toMatchObject({ status: 'deleted', rows: chunks });
    expect(byId.get(ghost)).toMatchObject({ status: 'deleted', rows: 0, points: 2, orphanPoints: 2 });
    expect(await h.rowIds(deleted)).toEqual([]);
    expect(await h.pointIds(deleted)).toEqual([]);
    expect(await h.pointIds(ghost)).toEqual([]);
    expect(await h.store.catalogIds()).not.toContain(ghost);
    expect(await h.rowIds(live)).toEqual(liveRows);
    expect(await h.pointIds(live)).toEqual(liveRows);
  });

  it('marks abandoned the runs whose holders stopped, and leaves those of a live holder running', async () => {
    const dead = await h.createCatalog();
    const alive = await h.createCatalog();
    const deadRun = await h.runs.start(dead, 'reindex', 'job-dead', 1);
    await h.leases.acquire(dead, 'dead-holder', 1);
    const liveRun = await h.runs.start(alive, 'reindex', 'job-alive', 1);
    const fence = await h.leases.acquire(alive, 'live-holder', 60_000);
    await new Promise((r) => setTimeout(r, 20));

    const drifts = await h.reconcile.reconcileAll('reconciler');

    expect((await h.runs.get(deadRun.id))).toMatchObject({ status: 'abandoned', error: expect.stringContaining('holder stopped') });
    expect((await h.runs.get(liveRun.id))?.status).toBe('running');
    // A busy catalog is reported as such, with nothing counted and nothing asked of a reindex.
    expect(drifts.find((d) => d.catalogId === alive)).toEqual({
      catalogId: alive,
      status: 'busy',
      rows: 0,
      points: 0,
      orphanPoints: 0,
      missingPoints: 0,
      strayPending: 0,
      outboxDeleted: 0,
      needsReindex: false,
    });
    await h.leases.release(fence!);
    await h.reconcile.reconcileAll('reconciler');
    expect((await h.runs.get(liveRun.id))?.status).toBe('abandoned');
    expect(await h.runs.countRunning()).toBe(0);
  });

  it('leaves running a run whose lease expired while its holder is alive, and takes nothing from it', async () => {
    const alive = new Set(['job-late']);
    const reconcile = new ReconcileService({ ...h.deps(), liveness: { alive: (holder) => Promise.resolve(alive.has(holder)) } });
    const id = await h.createCatalog();
    const run = await h.runs.start(id, 'reindex', 'job-late', 1);
    const fence = await h.leases.acquire(id, 'job-late', 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(await h.leases.get(id)).toMatchObject({ expired: true });

    const drifts = await reconcile.reconcileAll('reconciler');

    expect((await h.runs.get(run.id))?.status).toBe('running');
    expect(drifts.find((d) => d.catalogId === id)).toMatchObject({ status: 'busy', needsReindex: false });
    expect(await h.leases.get(id)).toMatchObject({ holder: 'job-late', fence: fence!.fence });
    // Once its job is over, the run is an orphan, closed as such before its catalog is looked at.
    alive.clear();
    await reconcile.reconcileAll('reconciler');
    expect(await h.runs.get(run.id)).toMatchObject({ status: 'abandoned', error: 'its holder stopped and its lease expired' });
    // Each catalog is reconciled under a lease of its own name.
    expect(await h.leases.get(id)).toMatchObject({ holder: `reconciler:${id}:released` });
  });

  it('closes, before reconciling a catalog, a run still marked running that holds no lease', async () => {
    const id = await indexed();
    const stray = await h.runs.start(id, 'reindex', 'job-gone', 1);
    const drift = await h.reconcile.reconcileCatalog(id, 'reconciler');
    expect(drift).toMatchObject({ status: 'repaired', needsReindex: false });
    expect(await h.runs.get(stray.id)).toMatchObject({ status: 'abandoned', error: 'superseded: its holder stopped' });
    expect(await h.runs.countRunning()).toBe(0);
  });

  it('retries a point delete that failed during a reindex, and empties the outbox once Qdrant confirms', async () => {
    const id = await indexed();
    await h.catalogs.replace(id, toNew(shopWithout('hr')));
    const retired = chunks - PipelineHarness.keys(shopWithout('hr')).length;
    // Both attempts of the activation's outbox delete fail; the later orphan check goes through.
    h.qdrant.injectFault({ method: 'POST', path: '/points/delete$', status: 503, message: 'overloaded', times: 2 });

    expect(await h.run(id)).toMatchObject({ status: 'completed', deleted: retired });
    const [entry] = await h.db.dataSource.query<{ attempts: number; last_error: string; n: number }[]>(
      `SELECT attempts, last_error, cardinality(point_ids) AS n FROM point_deletions WHERE catalog_id = $1`,
      [id],
    );
    expect(entry).toMatchObject({ attempts: 1, n: retired, last_error: expect.stringContaining('503') });
    expect(await h.deletions.due(10)).toEqual([]);

    const drift = await h.reconcile.reconcileCatalog(id, 'reconciler');
    expect(drift).toMatchObject({ status: 'repaired', outboxDeleted: retired, orphanPoints: 0 });
    expect(await h.deletions.pendingCount(id)).toBe(0);
    expect(await h.pointIds(id)).toEqual(await h.rowIds(id));
  });
});
