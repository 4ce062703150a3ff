import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@catalog-indexer/testing';
import { CatalogRepository, IndexRunRepository, LeaseRepository, PointDeletionRepository, openDataSource, type DataSource } from '../index';

describe(IndexRunRepository.name, () => {
  let db: TestDatabase<DataSource>;
  let runs: IndexRunRepository;
  let leases: LeaseRepository;

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: true }));
    runs = new IndexRunRepository(db.dataSource);
    leases = new LeaseRepository(db.dataSource);
  });
  afterAll(() => db.drop());

  it('adds counters to a run and completes it with its details', async () => {
    const catalogId = randomUUID();
    const run = await runs.start(catalogId, 'reindex', 'job-1', 3);
    expect(run).toMatchObject({ catalogId, mode: 'reindex', jobId: 'job-1', catalogVersion: 3, status: 'running', embedded: 0, tokens: 0 });
    await runs.add(run.id, { embedded: 5, tokens: 100 });
    await runs.add(run.id, { embedded: 2, skipped: 1, deleted: 4, tokens: 10 });
    await runs.setPlanned(run.id, 4);
    expect(await runs.get(run.id)).toMatchObject({ embedded: 7, skipped: 1, deleted: 4, tokens: 110, catalogVersion: 4 });
    await runs.complete(run.id, { skipped: 9 }, { orphanPoints: 2 });
    const done = await runs.get(run.id);
    expect(done).toMatchObject({ status: 'completed', embedded: 7, skipped: 9, details: { orphanPoints: 2 } });
    expect(done?.finishedAt).toBeInstanceOf(Date);
  });

  it("records the words of a run's plan while the run lasts, apart from its record", async () => {
    const catalogs = new CatalogRepository(db.dataSource);
    const catalogId = (await catalogs.create({ name: `c-${randomUUID()}`, description: null, document: {}, items: [] })).id;
    const run = await runs.start(catalogId, 'reindex', 'job-1', 1);
    expect(await runs.planned(run.id, catalogId)).toEqual({ catalogExists: true, version: 1 });
    expect(await runs.vocabulary(run.id)).toEqual({ version: 1, words: null });
    await runs.setPlanned(run.id, 2, { vocabulary: ['order', 'line', 'it\'s "quoted"', 'ünïcode'] });
    expect(await runs.planned(run.id, catalogId)).toEqual({ catalogExists: true, version: 2 });
    expect(await runs.vocabulary(run.id)).toEqual({ version: 2, words: ['order', 'line', 'it\'s "quoted"', 'ünïcode'] });
    // Not part of the run's record (the API lists runs).
    expect(await runs.get(run.id)).not.toHaveProperty('vocabulary');
    expect((await runs.list(catalogId))[0]).not.toHaveProperty('vocabulary');
    // A plan that records no words keeps those recorded.
    await runs.setPlanned(run.id, 3);
    expect(await runs.vocabulary(run.id)).toEqual({ version: 3, words: ['order', 'line', 'it\'s "quoted"', 'ünïcode'] });
    await runs.setPlanned(run.id, 4, { vocabulary: [] });
    expect(await runs.vocabulary(run.id)).toEqual({ version: 4, words: [] });
    // No such run; a deleted catalog.
    expect(await runs.planned(randomUUID(), catalogId)).toEqual({ catalogExists: true, version: null });
    expect(await runs.vocabulary(randomUUID())).toBeNull();
    await catalogs.delete(catalogId);
    expect(await runs.planned(run.id, catalogId)).toEqual({ catalogExists: false, version: 4 });
    await runs.abandon(run.id, 'test done');
  });

  it("records what a run's activation retires while the run lasts, apart from its record", async () => {
    const catalogId = randomUUID();
    const run = await runs.start(catalogId, 'reindex', 'job-1', 1);
    expect(await runs.retirement(run.id)).toBeNull();
    const retire = [randomUUID(), randomUUID()];
    await runs.setPlanned(run.id, 2, { vocabulary: ['order'], retirement: { chunks: 7, retire } });
    expect(await runs.retirement(run.id)).toEqual({ version: 2, chunks: 7, retire });
    expect(await runs.vocabulary(run.id)).toEqual({ version: 2, words: ['order'] });
    expect(await runs.get(run.id)).not.toHaveProperty('retire');
    // A plan that records none keeps those recorded; the next plan's replace them, an empty list included.
    await runs.setPlanned(run.id, 3);
    expect(await runs.retirement(run.id)).toEqual({ version: 3, chunks: 7, retire });
    await runs.setPlanned(run.id, 4, { retirement: { chunks: 0, retire: [] } });
    expect(await runs.retirement(run.id)).toEqual({ version: 4, chunks: 0, retire: [] });
    expect(await runs.retirement(randomUUID())).toBeNull();
    await runs.complete(run.id, {});
    expect(await runs.retirement(run.id)).toBeNull();
  });

  it('forgets the words and retirements of a run when it ends, however it ends', async () => {
    const words = ['order'];
    const catalogId = randomUUID();
    const [completed, failed, abandoned, other, orphan] = await Promise.all([0, 1, 2, 3].map(() => runs.start(catalogId, 'reindex', null, 1)).concat(runs.start(randomUUID(), 'reindex', null, 1)));
    const retirement = { chunks: 1, retire: [randomUUID()] };
    for (const run of [completed!, failed!, abandoned!, other!, orphan!]) await runs.setPlanned(run.id, 1, { vocabulary: words, retirement });
    await runs.complete(completed!.id, {});
    await runs.fail(failed!.id, 'broke');
    await runs.abandon(abandoned!.id, 'taken over');
    expect(await runs.abandonOthers(catalogId, null, 'superseded')).toBe(1);
    for (const run of [completed!, failed!, abandoned!, other!]) {
      expect(await runs.vocabulary(run.id)).toEqual({ version: 1, words: null });
      expect(await runs.retirement(run.id)).toBeNull();
    }
    expect(await runs.vocabulary(orphan!.id)).toEqual({ version: 1, words });
    expect(await runs.retirement(orphan!.id)).toEqual({ version: 1, ...retirement });
    await runs.abandonOrphaned('holder gone', []);
    expect(await runs.vocabulary(orphan!.id)).toEqual({ version: 1, words: null });
    expect(await runs.retirement(orphan!.id)).toBeNull();
  });

  it('fails or abandons only a running run', async () => {
    const catalogId = randomUUID();
    const a = await runs.start(catalogId, 'reindex', null, 1);
    await runs.fail(a.id, 'x'.repeat(5000), { tokens: 3 });
    expect(await runs.get(a.id)).toMatchObject({ status: 'failed', tokens: 3 });
    expect((await runs.get(a.id))?.error).toHaveLength(4000);
    await runs.abandon(a.id, 'late');
    expect(await runs.get(a.id)).toMatchObject({ status: 'failed' });
    const b = await runs.start(catalogId, 'cleanup', null, 1);
    await runs.abandon(b.id, 'catalog deleted');
    await runs.fail(b.id, 'late');
    expect(await runs.get(b.id)).toMatchObject({ status: 'abandoned', error: 'catalog deleted' });
    expect((await runs.get(b.id))?.finishedAt).toBeInstanceOf(Date);
    // A reason is cut to 4,000 characters, as an error is.
    const c = await runs.start(catalogId, 'reindex', null, 1);
    await runs.abandon(c.id, 'y'.repeat(5000));
    expect((await runs.get(c.id))?.error).toBe('y'.repeat(4000));
  });

  it('abandons the catalog\'s other running runs and keeps the given one', async () => {
    const catalogId = randomUUID();
    const other = await runs.start(randomUUID(), 'reindex', null, 1);
    const [a, b, c] = [await runs.start(catalogId, 'reindex', null, 1), await runs.start(catalogId, 'reindex', null, 1), await runs.start(catalogId, 'reindex', null, 1)];
    await runs.complete(c.id, {});
    expect(await runs.abandonOthers(catalogId, b.id, 'superseded')).toBe(1);
    expect(await runs.get(a.id)).toMatchObject({ status: 'abandoned', error: 'superseded' });
    expect((await runs.get(b.id))?.status).toBe('running');
    expect((await runs.get(c.id))?.status).toBe('completed');
    expect(await runs.abandonOthers(catalogId, null, 'deleted')).toBe(1);
    expect((await runs.get(b.id))?.status).toBe('abandoned');
    expect((await runs.get(other.id))?.status).toBe('running');
    await runs.abandon(other.id, 'test done');
  });

  it('abandons running runs whose catalog lease expired or never existed, not those of a live lease', async () => {
    const [expired, none, live] = [randomUUID(), randomUUID(), randomUUID()];
    await leases.acquire(expired, 'gone', 1);
    await leases.acquire(live, 'here', 60_000);
    const runsOf = [await runs.start(expired, 'reindex', null, 1), await runs.start(none, 'reindex', null, 1), await runs.start(live, 'reindex', null, 1)];
    await new Promise((r) => setTimeout(r, 10));
    expect(await runs.countRunning()).toBe(3);
    expect(await runs.countRunning(live)).toBe(1);
    expect(await runs.abandonOrphaned('holder gone')).toBe(2);
    expect((await runs.get(runsOf[0]!.id))).toMatchObject({ status: 'abandoned', error: 'holder gone' });
    expect((await runs.get(runsOf[1]!.id))?.status).toBe('abandoned');
    expect((await runs.get(runsOf[2]!.id))?.status).toBe('running');
    expect(await runs.countRunning()).toBe(1);
  });

  it('lists a catalog\'s runs newest first, by mode', async () => {
    const catalogId = randomUUID();
    const first = await runs.start(catalogId, 'reindex', null, 1);
    await new Promise((r) => setTimeout(r, 5));
    const second = await runs.start(catalogId, 'cleanup', null, 1);
    expect((await runs.list(catalogId)).map((r) => r.id)).toEqual([second.id, first.id]);
    expect((await runs.list(catalogId, 1)).map((r) => r.id)).toEqual([second.id]);
    expect((await runs.list(catalogId, 50, 'reindex')).map((r) => r.id)).toEqual([first.id]);
  });
});

describe(PointDeletionRepository.name, () => {
  let db: TestDatabase<DataSource>;
  let deletions: PointDeletionRepository;

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 2, applicationName: 'test', migrate: true }));
    deletions = new PointDeletionRepository(db.dataSource);
  });
  afterAll(() => db.drop());

  it('records entries, hands out those due oldest first, and forgets them once done', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    expect(await deletions.record(a, [])).toBeNull();
    const p = [randomUUID(), randomUUID(), randomUUID()];
    const e1 = await deletions.record(a, [p[0]!, p[1]!]);
    const e2 = await deletions.record(b, [p[2]!]);
    expect(await deletions.pendingCount()).toBe(2);
    expect(await deletions.pendingCount(a)).toBe(1);
    expect(await deletions.due(10)).toEqual([
      { id: e1, catalogId: a, pointIds: [p[0], p[1]], attempts: 0 },
      { id: e2, catalogId: b, pointIds: [p[2]], attempts: 0 },
    ]);
    expect((await deletions.due(1)).map((d) => d.id)).toEqual([e1]);
    expect((await deletions.due(10, b)).map((d) => d.id)).toEqual([e2]);
    await deletions.done([]);
    await deletions.done([e1!]);
    expect(await deletions.pendingCount()).toBe(1);
    await deletions.done([e2!]);
  });

  it('backs a failing entry off exponentially, capped at five minutes, but still hands it out for its catalog', async () => {
    const catalogId = randomUUID();
    const id = (await deletions.record(catalogId, [randomUUID()]))!;
    const delay = async () =>
      Number(
        (await db.dataSource.query<{ s: string }[]>(`SELECT extract(epoch FROM next_attempt_at - now()) AS s FROM point_deletions WHERE id = $1`, [id]))[0]!.s,
      );
    await deletions.failed(id, 'down');
    expect(await delay()).toBeGreaterThan(0.5);
    expect(await delay()).toBeLessThanOrEqual(1);
    await deletions.failed(id, 'down');
    expect(await delay()).toBeGreaterThan(1.5);
    expect(await delay()).toBeLessThanOrEqual(2);
    for (let i = 0; i < 10; i++) await deletions.failed(id, 'e'.repeat(3000));
    expect(await delay()).toBeGreaterThan(299);
    expect(await delay()).toBeLessThanOrEqual(300);
    expect(await deletions.due(10)).toEqual([]);
    const [entry] = await deletions.due(10, catalogId);
    expect(entry).toMatchObject({ id, attempts: 12 });
    const [stored] = await db.dataSource.query<{ last_error: string }[]>(`SELECT last_error FROM point_deletions WHERE id = $1`, [id]);
    expect(stored?.last_error).toHaveLength(2000);
  });
});
