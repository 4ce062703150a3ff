import { randomUUID } from 'node:crypto';
import { StoreSync } from './store-sync';
import { PipelineHarness } from '../test/pipeline.harness';

describe(StoreSync.name, () => {
  const h = new PipelineHarness();
  let sync: StoreSync;

  beforeAll(async () => {
    await h.start();
    sync = new StoreSync(h.embeddings, h.deletions, h.store, h.logger);
  });
  afterAll(() => h.stop());
  beforeEach(() => h.reset());

  describe('drainOutbox', () => {
    it('keeps a failed delete recorded with a later attempt time, and removes it once the delete is done', async () => {
      const id = await h.createCatalog();
      const points = [await h.strayPoint(id), await h.strayPoint(id)].sort();
      await h.deletions.record(id, points);
      h.qdrant.injectFault({ method: 'POST', path: '/points/delete$', status: 503, message: 'overloaded', times: Infinity });

      expect(await sync.drainOutbox()).toEqual({ deleted: 0, failed: 1 });
      expect(await h.deletions.pendingCount(id)).toBe(1);
      expect(await h.pointIds(id)).toEqual(points);
      const [entry] = await h.db.dataSource.query<{ attempts: number; last_error: string; wait: boolean }[]>(
        `SELECT attempts, last_error, next_attempt_at > now() AS wait FROM point_deletions WHERE catalog_id = $1`,
        [id],
      );
      expect(entry).toEqual({ attempts: 1, last_error: expect.stringContaining('503'), wait: true });
      // Not due yet: a sweep over every catalog leaves it alone.
      expect(await sync.drainOutbox()).toEqual({ deleted: 0, failed: 0 });

      h.qdrant.resetFaults();
      expect(await sync.drainOutbox(id)).toEqual({ deleted: 2, failed: 0 });
      expect(await h.deletions.pendingCount(id)).toBe(0);
      expect(await h.pointIds(id)).toEqual([]);
    });

    it('drains more entries than one page holds, oldest first', async () => {
      const id = await h.createCatalog();
      const points: string[] = [];
      for (let i = 0; i < 5; i++) {
        const p = await h.strayPoint(id);
        points.push(p);
        await h.deletions.record(id, [p]);
      }
      expect(await sync.drainOutbox(undefined, 2)).toEqual({ deleted: 5, failed: 0 });
      expect(await h.deletions.pendingCount()).toBe(0);
      expect(await h.pointIds(id)).toEqual([]);
    });

    it('stops at the first page with a failed delete and leaves the rest to the next sweep', async () => {
      const id = await h.createCatalog();
      for (let i = 0; i < 3; i++) await h.deletions.record(id, [await h.strayPoint(id)]);
      // A 400 is not retried: the first delete fails for good.
      h.qdrant.injectFault({ method: 'POST', path: '/points/delete$', status: 400, message: 'refused', times: 1 });
      expect(await sync.drainOutbox(undefined, 2)).toEqual({ deleted: 1, failed: 1 });
      expect(await h.deletions.pendingCount(id)).toBe(2);
      expect(await h.pointIds(id)).toHaveLength(2);
    });
  });

  describe('removeOrphanPoints', () => {
    it('deletes the points no row owns, keeps those of pending rows, and counts active rows without a point', async () => {
      const id = await h.createCatalog();
      await h.run(id);
      const rows = await h.rowIds(id);
      const orphan = await h.strayPoint(id);
      const checkpoint = randomUUID();
      await h.embeddings.insertPending([
        { id: checkpoint, catalogId: id, kind: 'table', chunkKey: 'table:x.y', itemKey: 'x.y', content: 'x', metadata: {}, contentHash: 'h', model: 'm', dimensions: 64, indexRunId: null },
      ]);
      await h.strayPoint(id, checkpoint);
      await h.store.deleteIds(rows.slice(0, 2));

      expect(await sync.removeOrphanPoints(id)).toEqual({ orphanPoints: 1, missingPoints: 2 });
      expect(await h.pointIds(id)).toEqual([...rows.slice(2), checkpoint].sort());
      expect(await h.pointIds(id)).not.toContain(orphan);
    });

    it('keeps the point of a row written with its point while it compares, whichever store it reads first', async () => {
      const id = await h.createCatalog();
      await h.run(id);
      const late = randomUUID();
      // Another writer, as the pipeline writes: the pending row first, then its point.
      let written: Promise<void> | undefined;
      const writeOnce = () =>
        (written ??= (async () => {
          await h.embeddings.insertPending([
            { id: late, catalogId: id, kind: 'table', chunkKey: 'table:late.one', itemKey: 'late.one', content: 'x', metadata: {}, contentHash: 'h', model: 'm', dimensions: 64, indexRunId: null },
          ]);
          await h.strayPoint(id, late);
        })());
      const rowIds = h.embeddings.rowIds.bind(h.embeddings);
      const listIds = h.store.listIds.bind(h.store);
      const rowsRead = jest.spyOn(h.embeddings, 'rowIds').mockImplementation(async (catalogId) => {
        const rows = await rowIds(catalogId);
        await writeOnce();
        return rows;
      });
      const pointsListed = jest.spyOn(h.store, 'listIds').mockImplementation(async (catalogId) => {
        const points = await listIds(catalogId);
        await writeOnce();
        return points;
      });
      try {
        expect(await sync.removeOrphanPoints(id)).toEqual({ orphanPoints: 0, missingPoints: 0 });
      } finally {
        rowsRead.mockRestore();
        pointsListed.mockRestore();
      }
      expect(written).toBeDefined();
      expect(await h.pointIds(id)).toContain(late);
    });
  });
});
