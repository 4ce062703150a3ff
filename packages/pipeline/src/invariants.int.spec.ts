import { documentSparseVector } from '@catalog-indexer/text';
import { randomUUID } from 'node:crypto';
import { chunkCatalog, contentHash, type Catalog } from '@catalog-indexer/catalog';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { FencedError } from '@catalog-indexer/db';
import { ReindexService } from './reindex.service';
import { PipelineHarness, editedShop, shopWithout, toNew } from '../test/pipeline.harness';

describe(`${ReindexService.name}: the invariants and the steps of a reindex`, () => {
  const h = new PipelineHarness();
  const shopKeys = PipelineHarness.keys(shopCatalog);

  beforeAll(() => h.start());
  afterAll(() => h.stop());
  beforeEach(() => h.reset());

  /** Every chunk key of the catalog visible exactly once through Qdrant's points and Postgres's hydration. */
  const visibleKeys = async (catalogId: string): Promise<string[]> => {
    const hydrated = await h.embeddings.hydrate(await h.store.listIds(catalogId));
    return [...hydrated.values()].map((r) => r.chunkKey).sort();
  };

  describe('plan', () => {
    it('removes leftover pending rows of earlier attempts, and their points', async () => {
      const id = await h.createCatalog();
      await h.run(id);
      const hash = contentHash('stale', h.embedder);
      const stray = { catalogId: id, kind: 'column' as const, itemKey: 'sales.orders.id', content: 'stale', metadata: {}, contentHash: hash, model: h.embedder.model, dimensions: h.embedder.dimensions, indexRunId: null };
      // An unembedded planned row, and an embedded one (with its point) whose hash no longer matches.
      const planned = randomUUID();
      const embedded = randomUUID();
      await h.embeddings.insertPending([{ ...stray, id: planned, chunkKey: 'column:sales.orders.id', batch: 0 }], undefined, { embedded: false });
      await h.embeddings.insertPending([{ ...stray, id: embedded, chunkKey: 'column:sales.orders.status' }]);
      await h.strayPoint(id, embedded);

      const result = await h.run(id);

      expect(result).toMatchObject({ status: 'completed', embedded: 0 });
      expect(await h.rowIds(id, 'pending')).toEqual([]);
      expect(await h.pointIds(id)).not.toContain(embedded);
      expect(await h.pointIds(id)).toEqual(await h.rowIds(id));
    });

    it('excludes rejected items and everything under them, and never pays for them', async () => {
      const id = await h.createCatalog();
      await h.catalogs.updateRejections(id, { reject: ['hr', 'sales.orders'] });
      const wanted = PipelineHarness.keys(shopCatalog, await h.catalogs.rejectedKeys(id));
      expect(wanted.length).toBeLessThan(shopKeys.length);

      const result = await h.run(id);

      expect(result).toMatchObject({ status: 'completed', chunks: wanted.length, embedded: wanted.length });
      expect(h.embedder.texts).toBe(wanted.length);
      expect([...(await h.activeContent(id)).keys()].sort()).toEqual(wanted);
      expect(wanted.some((k) => k.includes('hr.') || k.includes('sales.orders.'))).toBe(false);
    });

    it('takes rejected items out of the index at the next reindex', async () => {
      const id = await h.createCatalog();
      await h.run(id);
      await h.catalogs.updateRejections(id, { reject: ['hr'] });
      const wanted = PipelineHarness.keys(shopCatalog, await h.catalogs.rejectedKeys(id));

      const result = await h.run(id);

      expect(result).toMatchObject({ embedded: 0, deleted: shopKeys.length - wanted.length });
      expect([...(await h.activeContent(id)).keys()].sort()).toEqual(wanted);
      expect(await h.pointIds(id)).toEqual(await h.rowIds(id));
    });
  });

  describe('activate', () => {
    it('retires the rows and points of chunks that left the catalog', async () => {
      const id = await h.createCatalog();
      await h.run(id);
      const smaller = shopWithout('hr');
      await h.catalogs.replace(id, toNew(smaller));
      const wanted = PipelineHarness.keys(smaller);

      const result = await h.run(id);

      expect(result).toMatchObject({ status: 'completed', embedded: 0, deleted: shopKeys.length - wanted.length, skipped: wanted.length });
      expect([...(await h.activeContent(id)).keys()].sort()).toEqual(wanted);
      expect(await h.pointIds(id)).toEqual(await h.rowIds(id));
      expect(await h.deletions.pendingCount(id)).toBe(0);
    });

    it('is one transaction: when making the new rows active fails, the rows it retired are still there', async () => {
      const id = await h.createCatalog();
      await h.run(id);
      const before = await h.rowIds(id);
      const beforeContent = await h.activeContent(id);
      await h.catalogs.replace(id, toNew(editedShop()));
      // A trigger of the test's own makes the activation's UPDATE fail after its DELETE went through.
      const fn = `fail_activation_${id.replace(/-/g, '')}`;
      await h.db.dataSource.query(`
        CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.catalog_id = '${id}' AND OLD.status = 'pending' AND NEW.status = 'active' THEN
            RAISE EXCEPTION 'activation refused by the test';
          END IF;
          RETURN NEW;
        END $$`);
      await h.db.dataSource.query(`CREATE TRIGGER ${fn} BEFORE UPDATE ON dq_embeddings FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
      try {
        await expect(h.run(id)).rejects.toThrow('activation refused by the test');
      } finally {
        await h.db.dataSource.query(`DROP TRIGGER ${fn} ON dq_embeddings`);
        await h.db.dataSource.query(`DROP FUNCTION ${fn}()`);
      }
      expect(await h.rowIds(id)).toEqual(before);
      expect(await h.activeContent(id)).toEqual(beforeContent);
      expect(await h.deletions.pendingCount(id)).toBe(0);
      expect((await h.runs.list(id))[0]).toMatchObject({ status: 'failed' });
      // The old index is whole: each of its rows still has its point.
      const points = await h.pointIds(id);
      expect(before.every((r) => points.includes(r))).toBe(true);

      // The next run activates the checkpointed row without embedding it again.
      h.embedder.reset();
      expect(await h.run(id)).toMatchObject({ status: 'completed', embedded: 0, deleted: 1 });
      expect(h.embedder.texts).toBe(0);
      expect((await h.activeContent(id)).get('column:sales.refunds.reason')).toContain('as support wrote it');
    });

    it('plans a catalog replaced between plan and activate again, and ends at the new version', async () => {
      const id = await h.createCatalog();
      await h.run(id);
      const replaced = editedShop('Replaced while the run was embedding.');
      let replacedOnce = false;
      const result = await h.run(id, {
        force: true,
        onProgress: async (p) => {
          if (p.phase === 'activating' && !replacedOnce) {
            replacedOnce = true;
            await h.catalogs.replace(id, toNew(replaced));
          }
        },
      });
      const version = (await h.catalogs.get(id))!.version;

      expect(replacedOnce).toBe(true);
      expect(result.status).toBe('completed');
      expect((await h.runs.get(result.runId!))).toMatchObject({ status: 'completed', catalogVersion: version });
      const content = await h.activeContent(id);
      expect(content.get('column:sales.refunds.reason')).toContain('Replaced while the run was embedding.');
      expect([...content.values()]).toEqual(expect.arrayContaining(chunkCatalog(replaced).map((c) => c.content)));
      expect(content.size).toBe(shopKeys.length);
      expect(await h.rowIds(id, 'pending')).toEqual([]);
      expect(await h.pointIds(id)).toEqual(await h.rowIds(id));
    });

    it('abandons the run of a catalog deleted between plan and activate and leaves no pending row or its point', async () => {
      const id = await h.createCatalog();
      const result = await h.run(id, {
        onProgress: async (p) => {
          if (p.phase === 'activating') await h.catalogs.delete(id);
        },
      });

      expect(result).toMatchObject({ status: 'abandoned', reason: 'catalog deleted', deleted: shopKeys.length });
      expect((await h.runs.get(result.runId!))?.status).toBe('abandoned');
      expect(await h.rowIds(id, 'pending')).toEqual([]);
      expect(await h.rowIds(id)).toEqual([]);
      expect(await h.pointIds(id)).toEqual([]);
      expect(await h.deletions.pendingCount(id)).toBe(0);
    });
  });

  describe('verify', () => {
    it('deletes the points of the catalog that no row owns', async () => {
      const id = await h.createCatalog();
      await h.run(id);
      const orphan = await h.strayPoint(id);
      const other = await h.createCatalog();
      const elsewhere = await h.strayPoint(other);

      const result = await h.run(id);

      expect(result).toMatchObject({ status: 'completed', embedded: 0 });
      expect(await h.pointIds(id)).not.toContain(orphan);
      expect(await h.pointIds(id)).toEqual(await h.rowIds(id));
      expect((await h.runs.get(result.runId!))?.details).toMatchObject({ orphanPoints: 1, missingPoints: 0 });
      // Another catalog's points are not this run's business.
      expect(await h.pointIds(other)).toEqual([elsewhere]);
    });
  });

  describe('invariant 1: a query returns only chunks whose row is committed and current', () => {
    it('hydrates no pending row, no retired row and no row of a deleted catalog', async () => {
      const id = await h.createCatalog();
      await h.run(id);
      const oldRows = await h.rowIds(id);
      await h.catalogs.replace(id, toNew(editedShop()));
      let pendingSeen: string[] = [];
      await h.run(id, {
        onProgress: async (p) => {
          if (p.phase !== 'activating') return;
          pendingSeen = await h.rowIds(id, 'pending');
          // Their points are written, yet no query may return them before activation.
          expect((await h.store.listIds(id)).filter((x) => pendingSeen.includes(x))).toEqual(pendingSeen);
          expect((await h.embeddings.hydrate(pendingSeen)).size).toBe(0);
        },
      });
      expect(pendingSeen).toHaveLength(1);
      expect((await h.embeddings.hydrate(pendingSeen)).size).toBe(1);
      const current = new Set(await h.rowIds(id));
      const retired = oldRows.filter((r) => !current.has(r));
      expect(retired).toHaveLength(1);
      expect((await h.embeddings.hydrate(retired)).size).toBe(0);
      expect((await h.embeddings.hydrate([...current])).size).toBe(current.size);

      await h.catalogs.delete(id);
      expect((await h.embeddings.hydrate([...current])).size).toBe(0);
    });
  });

  describe('invariant 2: a completed reindex leaves exactly one point per current row', () => {
    it('matches point ids and row ids after a first run, an edit, a forced run and a shrink', async () => {
      const id = await h.createCatalog();
      const steps: (() => Promise<unknown>)[] = [
        () => h.run(id),
        () => h.catalogs.replace(id, toNew(editedShop())).then(() => h.run(id)),
        () => h.run(id, { force: true }),
        () => h.catalogs.replace(id, toNew(shopWithout('hr'))).then(() => h.run(id)),
      ];
      for (const step of steps) {
        await step();
        const rows = await h.rowIds(id);
        expect(rows.length).toBeGreaterThan(0);
        expect(await h.pointIds(id)).toEqual(rows);
        expect(await h.rowIds(id, 'pending')).toEqual([]);
      }
      expect(await visibleKeys(id)).toEqual(PipelineHarness.keys(shopWithout('hr')));
    });
  });

  describe('invariant 3: a reindex that fails for good leaves the previous index queryable', () => {
    it('keeps every old chunk visible, and the points it wrote are removed once no row owns them', async () => {
      const id = await h.createCatalog();
      await h.run(id);
      const before = await visibleKeys(id);
      const all = structuredClone<Catalog>(shopCatalog);
      for (const table of all.schemas[0]!.tables) table.description = `${table.description ?? ''} (revised)`;
      await h.catalogs.replace(id, toNew(all));
      h.embedder.reset();
      h.embedder.failOnCall = 2;
      await expect(h.run(id)).rejects.toThrow('embeddings API down');

      expect(await visibleKeys(id)).toEqual(before);
      const checkpoints = await h.rowIds(id, 'pending');
      expect(checkpoints.length).toBeGreaterThan(0);
      const owned = new Set([...(await h.rowIds(id)), ...(await h.rowIds(id, 'pending'))]);
      expect((await h.pointIds(id)).every((p) => owned.has(p))).toBe(true);

      // The catalog goes back to what was indexed: the checkpoints are of no use and leave with their points.
      await h.catalogs.replace(id, toNew(shopCatalog));
      h.embedder.reset();
      expect(await h.run(id)).toMatchObject({ status: 'completed', embedded: 0 });
      expect(await h.rowIds(id, 'pending')).toEqual([]);
      const points = await h.pointIds(id);
      expect(checkpoints.some((c) => points.includes(c))).toBe(false);
      expect(points).toEqual(await h.rowIds(id));
    });
  });

  describe('invariant 4: a holder that stops at any step loses no work', () => {
    it('lets the next holder drop what was unconfirmed, reuse the checkpoints, and end with one point per row', async () => {
      const short = new PipelineHarness();
      // Long enough for worker-a's first steps on a loaded machine; the test waits the lease out below.
      await short.start({ leaseTtlMs: 3_000 });
      try {
        const id = await short.createCatalog();
        const begun = await short.begin(id, 'worker-a', {});
        if (begun.kind !== 'ready') throw new Error(`not ready: ${begun.kind}`);
        const plan = await short.reindex.plan(begun.run);
        if (plan.kind !== 'planned') throw new Error('catalog missing');
        expect(plan.batches.length).toBeGreaterThan(2);
        // Batch 0 done (a checkpoint); batch 1's points written but the holder died before marking its rows.
        await short.reindex.embedBatch(begun.run, plan.batches[0]!);
        const rows1 = await short.embeddings.batchToEmbed(begun.run.runId, plan.batches[1]!);
        const { vectors } = await short.embedder.inner.embed(rows1.map((r) => r.content));
        await short.store.upsert(rows1.map((r, i) => ({ id: r.id, vector: vectors[i] ?? [], sparse: documentSparseVector(r.content), payload: { catalog_id: id, kind: r.kind, schema: null, table: null, column: null, chunk_key: r.chunkKey, content_hash: r.contentHash } })));
        const paidBefore = short.embedder.texts;

        // worker-a holds the lease until it expires; then worker-b takes over, and worker-a cannot write.
        expect((await short.begin(id, 'worker-b', {})).kind).toBe('busy');
        await new Promise((r) => setTimeout(r, 3_200));
        expect((await short.begin(id, 'worker-b', {})).kind).toBe('ready');
        const calls = short.embedder.calls;
        await expect(short.reindex.embedBatch(begun.run, plan.batches[2]!)).rejects.toBeInstanceOf(FencedError);
        await expect(short.reindex.plan(begun.run)).rejects.toBeInstanceOf(FencedError);
        expect(short.embedder.calls).toBe(calls);
        const result = await short.run(id, { jobId: 'worker-b' });

        expect(result.status).toBe('completed');
        expect(short.embedder.texts - paidBefore).toBe(shopKeys.length - 16);
        expect((await short.runs.get(begun.run.runId))?.status).toBe('abandoned');
        const rows = await short.rowIds(id);
        expect(rows).toHaveLength(shopKeys.length);
        expect(new Set((await short.activeContent(id)).keys()).size).toBe(shopKeys.length);
        expect(await short.pointIds(id)).toEqual(rows);
        expect(await short.rowIds(id, 'pending')).toEqual([]);
      } finally {
        await short.stop();
      }
    });
  });

  describe('invariant 5: only changed chunks are embedded', () => {
    it('calls the embedding API zero times for an unchanged catalog and k times the texts for k changes', async () => {
      const id = await h.createCatalog();
      await h.run(id);
      h.embedder.reset();
      expect(await h.run(id)).toMatchObject({ embedded: 0, skipped: shopKeys.length, deleted: 0 });
      expect(h.embedder.calls).toBe(0);
      await h.catalogs.replace(id, toNew(editedShop()));
      expect(await h.run(id)).toMatchObject({ embedded: 1, skipped: shopKeys.length - 1, deleted: 1 });
      expect(h.embedder.texts).toBe(1);
    });

    it('pays a retried run only for the batches not embedded yet (checkpoints)', async () => {
      const id = await h.createCatalog();
      h.embedder.failOnCall = 3;
      await expect(h.run(id)).rejects.toThrow('embeddings API down');
      expect(h.embedder.texts).toBe(32);
      const checkpoints = (await h.db.dataSource.query<{ n: string }[]>(
        `SELECT count(*) AS n FROM dq_embeddings WHERE catalog_id = $1 AND status = 'pending' AND embedded_at IS NOT NULL`,
        [id],
      ))[0]!.n;
      expect(Number(checkpoints)).toBe(32);
      h.embedder.reset();
      const result = await h.run(id);
      expect(result).toMatchObject({ status: 'completed', embedded: shopKeys.length - 32 });
      expect(h.embedder.texts).toBe(shopKeys.length - 32);
      expect(await h.pointIds(id)).toEqual(await h.rowIds(id));
    });

    it('does not reuse the checkpoints of another run in a forced run', async () => {
      const id = await h.createCatalog();
      h.embedder.failOnCall = 2;
      await expect(h.run(id)).rejects.toThrow('embeddings API down');
      h.embedder.reset();
      await h.run(id, { force: true });
      expect(h.embedder.texts).toBe(shopKeys.length);
      expect(await h.pointIds(id)).toEqual(await h.rowIds(id));
    });
  });

  describe('invariant 6: at most one writer per catalog', () => {
    it('refuses a second reindex, a cleanup and a reconcile while a reindex holds the catalog', async () => {
      const id = await h.createCatalog();
      const begun = await h.begin(id, 'holder-a', {});
      if (begun.kind !== 'ready') throw new Error('not ready');
      try {
        expect((await h.begin(id, 'holder-b', {})).kind).toBe('busy');
        await expect(h.run(id)).rejects.toThrow(/being written by another run/);
        expect(await h.cleanup.cleanup(id)).toEqual({ status: 'busy' });
        expect((await h.reconcile.reconcileCatalog(id, 'reconciler')).status).toBe('busy');
        expect(await h.rowIds(id, 'pending')).toEqual([]);
      } finally {
        await h.release(begun.run);
      }
      expect((await h.run(id)).status).toBe('completed');
    });

    it('lets only one of two concurrent reindexes of a catalog write', async () => {
      const id = await h.createCatalog();
      const outcomes = await Promise.allSettled([h.run(id), h.run(id)]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(1);
      expect(h.embedder.texts).toBe(shopKeys.length);
      expect(await h.pointIds(id)).toEqual(await h.rowIds(id));
    });

    it('answers missing for a catalog that does not exist, holding nothing', async () => {
      const id = randomUUID();
      expect(await h.run(id)).toMatchObject({ status: 'skipped', reason: 'catalog not found' });
      expect((await h.leases.get(id))?.expired).toBe(true);
    });
  });

  describe('invariant 7: a query during a reindex sees the old or the new chunk, never neither', () => {
    it('shows every chunk exactly once at each step of a run that changes every chunk', async () => {
      const id = await h.createCatalog();
      await h.run(id);
      const all = structuredClone<Catalog>(shopCatalog);
      for (const schema of all.schemas) for (const table of schema.tables) table.description = `${table.description ?? ''} (v2)`;
      await h.catalogs.replace(id, toNew(all));
      const keys = PipelineHarness.keys(all);
      expect(keys).toEqual(shopKeys);
      const seen: string[][] = [];
      // Slow point deletes keep the retired points in Qdrant for a while after activation.
      h.qdrant.injectFault({ method: 'POST', path: '/points/delete$', delayMs: 150, times: 3 });
      let running = true;
      const watcher = (async () => {
        while (running) {
          seen.push(await visibleKeys(id));
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const result = await h.run(id, {
        onProgress: async () => {
          seen.push(await visibleKeys(id));
        },
      });
      running = false;
      await watcher;
      seen.push(await visibleKeys(id));

      expect(result).toMatchObject({ status: 'completed', deleted: expect.any(Number) });
      expect(seen.length).toBeGreaterThan(5);
      for (const view of seen) expect(view).toEqual(keys);
      const content = await h.activeContent(id);
      expect(content.get('table:sales.orders')).toContain('(v2)');
    });
  });
});
