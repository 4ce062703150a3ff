import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { CleanupService } from './cleanup.service';
import { PipelineHarness } from '../test/pipeline.harness';

describe(CleanupService.name, () => {
  const h = new PipelineHarness();
  const all = PipelineHarness.keys(shopCatalog);

  beforeAll(() => h.start());
  afterAll(() => h.stop());
  beforeEach(() => h.reset());

  const indexed = async (): Promise<string> => {
    const id = await h.createCatalog();
    expect((await h.run(id)).status).toBe('completed');
    return id;
  };

  it('removes only the rows and points of rejected items and keeps every other chunk', async () => {
    const id = await indexed();
    await h.catalogs.updateRejections(id, { reject: ['hr.payroll', 'doc:Revenue'] });
    const kept = PipelineHarness.keys(shopCatalog, await h.catalogs.rejectedKeys(id));
    const before = await h.activeContent(id);

    const result = await h.cleanup.cleanup(id);

    expect(result).toMatchObject({ status: 'completed', deleted: all.length - kept.length, catalogDeleted: false });
    const after = await h.activeContent(id);
    expect([...after.keys()].sort()).toEqual(kept);
    for (const key of kept) expect(after.get(key)).toBe(before.get(key));
    expect(await h.pointIds(id)).toEqual(await h.rowIds(id));
    expect(await h.deletions.pendingCount(id)).toBe(0);
    const run = (await h.runs.list(id, 1, 'cleanup'))[0];
    expect(run).toMatchObject({ status: 'completed', deleted: all.length - kept.length });
    // The run records what it removed: the rows, the points the outbox deleted, and orphans (none here).
    expect((await h.runs.get(run!.id))?.details).toEqual({ rowsRemoved: all.length - kept.length, pointsDeleted: all.length - kept.length, orphanPoints: 0 });
  });

  it('deletes nothing when nothing is rejected, but removes points no row owns', async () => {
    const id = await indexed();
    const rows = await h.rowIds(id);
    await h.strayPoint(id);

    expect(await h.cleanup.cleanup(id)).toMatchObject({ status: 'completed', deleted: 1 });
    expect(await h.rowIds(id)).toEqual(rows);
    expect(await h.pointIds(id)).toEqual(rows);
  });

  it('leaves the pending rows of a reindex alone', async () => {
    const id = await h.createCatalog();
    h.embedder.failOnCall = 2;
    await expect(h.run(id)).rejects.toThrow('embeddings API down');
    const pending = await h.rowIds(id, 'pending');

    expect(await h.cleanup.cleanup(id)).toMatchObject({ status: 'completed', deleted: 0 });
    expect(await h.rowIds(id, 'pending')).toEqual(pending);
  });

  it('removes every row and point of a deleted catalog and closes its runs', async () => {
    const id = await indexed();
    const other = await indexed();
    const running = await h.runs.start(id, 'reindex', null, 1);
    await h.catalogs.delete(id);

    expect(await h.cleanup.cleanup(id)).toEqual({ status: 'completed', deleted: all.length, catalogDeleted: true });
    expect(await h.rowIds(id)).toEqual([]);
    expect(await h.pointIds(id)).toEqual([]);
    expect(await h.runs.get(running.id)).toMatchObject({ status: 'abandoned', error: 'catalog deleted' });
    expect(await h.rowIds(other)).toHaveLength(all.length);
    expect(await h.pointIds(other)).toEqual(await h.rowIds(other));
  });

  it('answers busy while another writer holds the catalog, and releases its own lease when done', async () => {
    const id = await indexed();
    const fence = await h.leases.acquire(id, 'someone-else', 60_000);
    expect(await h.cleanup.cleanup(id)).toEqual({ status: 'busy' });
    await h.leases.release(fence!);
    expect((await h.cleanup.cleanup(id)).status).toBe('completed');
    expect((await h.leases.get(id))?.expired).toBe(true);
  });
});
