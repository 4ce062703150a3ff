import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@catalog-indexer/testing';
import {
  CatalogRepository,
  EmbeddingRepository,
  IndexRunRepository,
  PointDeletionRepository,
  openDataSource,
  type DataSource,
  type NewCatalog,
  type NewEmbedding,
} from '../index';

const catalog = (name: string): NewCatalog => ({
  name,
  description: null,
  document: { name },
  items: [{ key: 'sales', kind: 'schema', parentKey: null, name: 'sales', position: 0, data: {} }],
});

describe(EmbeddingRepository.name, () => {
  let db: TestDatabase<DataSource>;
  let catalogs: CatalogRepository;
  let embeddings: EmbeddingRepository;
  let runs: IndexRunRepository;
  let deletions: PointDeletionRepository;

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: true }));
    catalogs = new CatalogRepository(db.dataSource);
    embeddings = new EmbeddingRepository(db.dataSource);
    runs = new IndexRunRepository(db.dataSource);
    deletions = new PointDeletionRepository(db.dataSource);
  });
  afterAll(() => db.drop());

  const newCatalog = async () => (await catalogs.create(catalog(`c-${randomUUID()}`))).id;
  const row = (catalogId: string, key: string, extra: Partial<NewEmbedding> = {}): NewEmbedding => ({
    id: randomUUID(),
    catalogId,
    kind: 'table',
    chunkKey: key,
    itemKey: key,
    content: `content of ${key}`,
    metadata: { table: key },
    contentHash: `hash-${key}`,
    model: 'm',
    dimensions: 4,
    indexRunId: null,
    ...extra,
  });
  /** Every row id of the catalog, visible or not. */
  const allIds = async (catalogId: string): Promise<string[]> => (await embeddings.rowIds(catalogId)).map((r) => r.id);
  const statusOf = async (ids: string[]) =>
    Object.fromEntries(
      (await db.dataSource.query<{ id: string; status: string; embedded: boolean; batch: number | null; index_run_id: string | null }[]>(
        `SELECT id, status, embedded_at IS NOT NULL AS embedded, batch, index_run_id FROM dq_embeddings WHERE id = ANY($1::uuid[])`,
        [ids],
      )).map((r) => [r.id, { status: r.status, embedded: r.embedded, batch: r.batch, runId: r.index_run_id }]),
    );
  const outbox = async (catalogId: string) =>
    (await db.dataSource.query<{ point_ids: string[] }[]>(`SELECT point_ids FROM point_deletions WHERE catalog_id = $1 ORDER BY id`, [catalogId]))
      .flatMap((r) => r.point_ids)
      .sort();
  /** An active row of the catalog, as a completed earlier run leaves it. */
  const active = async (catalogId: string, key: string): Promise<string> => {
    const r = row(catalogId, key);
    await embeddings.insertPending([r]);
    await embeddings.activate(catalogId, [r.id], []);
    return r.id;
  };

  it('plans pending rows without a point, and marks them embedded batch by batch', async () => {
    const catalogId = await newCatalog();
    const run = await runs.start(catalogId, 'reindex', null, 1);
    const rows = [row(catalogId, 'b', { indexRunId: run.id, batch: 0 }), row(catalogId, 'a', { indexRunId: run.id, batch: 0, tokens: 7 }), row(catalogId, 'c', { indexRunId: run.id, batch: 1 })];
    await db.dataSource.transaction((m) => embeddings.insertPending(rows, m));

    expect(await embeddings.unembeddedBatches(run.id)).toEqual([0, 1]);
    const batch0 = await embeddings.batchToEmbed(run.id, 0);
    expect(batch0.map((r) => r.chunkKey)).toEqual(['a', 'b']);
    expect(batch0[0]).toEqual({ id: rows[1]!.id, kind: 'table', chunkKey: 'a', content: 'content of a', metadata: { table: 'a' }, contentHash: 'hash-a', tokens: 7 });
    // A row planned without its count is counted when embedded.
    expect(batch0[1]).toMatchObject({ chunkKey: 'b', tokens: null });
    expect((await embeddings.pendingChunks(catalogId)).every((p) => !p.embedded && p.indexRunId === run.id)).toBe(true);
    expect(await embeddings.hydrate(rows.map((r) => r.id))).toEqual(new Map());

    await db.dataSource.transaction((m) => embeddings.markEmbedded(m, batch0.map((r) => r.id)));
    expect(await embeddings.unembeddedBatches(run.id)).toEqual([1]);
    expect(await embeddings.batchToEmbed(run.id, 0)).toEqual([]);
    expect((await embeddings.pendingChunks(catalogId)).filter((p) => p.embedded).map((p) => p.chunkKey).sort()).toEqual(['a', 'b']);
    expect(await embeddings.counts(catalogId)).toEqual({ active: 0, pending: 3 });
  });

  it('writes rows already embedded when no transaction is given, unless told otherwise', async () => {
    const catalogId = await newCatalog();
    const [a, b] = [row(catalogId, 'a'), row(catalogId, 'b')];
    await embeddings.insertPending([a]);
    await embeddings.insertPending([b], undefined, { embedded: false });
    expect(await statusOf([a.id, b.id])).toEqual({
      [a.id]: { status: 'pending', embedded: true, batch: null, runId: null },
      [b.id]: { status: 'pending', embedded: false, batch: null, runId: null },
    });
  });

  it('writes more rows than one insert statement holds', async () => {
    const catalogId = await newCatalog();
    const many = Array.from({ length: 1203 }, (_, i) => row(catalogId, `k${i}`));
    await embeddings.insertPending(many);
    expect(await embeddings.counts(catalogId)).toEqual({ active: 0, pending: 1203 });
    expect((await allIds(catalogId)).sort()).toEqual(many.map((r) => r.id).sort());
  });

  it('writes rows of several catalogs, runs, models and sizes in one call, each with its own columns', async () => {
    const [first, second] = [await newCatalog(), await newCatalog()];
    const run = await runs.start(first, 'reindex', null, 1);
    const rows = [
      row(first, 'a', { indexRunId: run.id, batch: 2, tokens: 5 }),
      row(second, 'a', { model: 'other', dimensions: 8 }),
      row(first, 'b', { indexRunId: run.id, batch: 0, metadata: { table: 'b', note: 'ünïcode 📈' }, content: 'text of b 📈' }),
      row(first, 'c', { dimensions: 8 }),
    ];
    await embeddings.insertPending(rows);
    const stored = await db.dataSource.query<Record<string, unknown>[]>(
      `SELECT id, catalog_id, chunk_key, content, metadata, content_hash, model, dimensions, index_run_id, batch, tokens, qdrant_point_id
         FROM dq_embeddings WHERE id = ANY($1::uuid[])`,
      [rows.map((r) => r.id)],
    );
    expect(new Map(stored.map((s) => [s.id, s]))).toEqual(
      new Map(
        rows.map((r) => [
          r.id,
          {
            id: r.id,
            catalog_id: r.catalogId,
            chunk_key: r.chunkKey,
            content: r.content,
            metadata: r.metadata,
            content_hash: r.contentHash,
            model: r.model,
            dimensions: r.dimensions,
            index_run_id: r.indexRunId,
            batch: r.batch ?? null,
            tokens: r.tokens ?? null,
            qdrant_point_id: r.id,
          },
        ]),
      ),
    );
  });

  it('lists every row of a catalog with whether it is active, and no row of another', async () => {
    const [catalogId, other] = [await newCatalog(), await newCatalog()];
    const activeId = await active(catalogId, 'a');
    const [pending, unembedded, elsewhere] = [row(catalogId, 'b'), row(catalogId, 'c', { batch: 0 }), row(other, 'a')];
    await embeddings.insertPending([pending, elsewhere]);
    await embeddings.insertPending([unembedded], undefined, { embedded: false });
    const listed = await embeddings.rowIds(catalogId);
    expect(new Map(listed.map((r) => [r.id, r.active]))).toEqual(new Map([[activeId, true], [pending.id, false], [unembedded.id, false]]));
  });

  it('hands checkpoints to a new run and leaves active rows alone', async () => {
    const catalogId = await newCatalog();
    const old = await runs.start(catalogId, 'reindex', null, 1);
    const next = await runs.start(catalogId, 'reindex', null, 1);
    const checkpoint = row(catalogId, 'a', { indexRunId: old.id, batch: 3 });
    await embeddings.insertPending([checkpoint]);
    const activeId = await active(catalogId, 'b');
    await db.dataSource.transaction((m) => embeddings.adopt(m, catalogId, [checkpoint.id, activeId], next.id));
    expect(await statusOf([checkpoint.id, activeId])).toEqual({
      [checkpoint.id]: { status: 'pending', embedded: true, batch: null, runId: next.id },
      [activeId]: { status: 'active', embedded: true, batch: null, runId: null },
    });
  });

  describe('activateRun', () => {
    it.each([
      ['the ids the plan chose', (ids: { gone: string; elsewhere: string }) => ({ retire: [ids.gone, ids.elsewhere, randomUUID()] })],
      ['every current chunk key', () => ({ wantedKeys: ['a', 'b', 'd', 'e'] })],
    ])('activates the run\'s embedded rows, retires the rows they replace and those of chunks gone (told by %s), and records their points', async (_, goneRows) => {
      const catalogId = await newCatalog();
      const other = await newCatalog();
      const run = await runs.start(catalogId, 'reindex', null, 1);
      const replaced = await active(catalogId, 'a');
      const unchanged = await active(catalogId, 'b');
      const gone = await active(catalogId, 'c');
      const elsewhere = await active(other, 'a');
      const fresh = row(catalogId, 'a', { indexRunId: run.id, batch: 0 });
      const unembedded = row(catalogId, 'd', { indexRunId: run.id, batch: 1 });
      const foreign = row(catalogId, 'e', { indexRunId: (await runs.start(catalogId, 'reindex', null, 1)).id });
      await embeddings.insertPending([fresh, foreign]);
      await embeddings.insertPending([unembedded], undefined, { embedded: false });

      const result = await db.dataSource.transaction((m) => embeddings.activateRun(m, catalogId, run.id, goneRows({ gone, elsewhere })));

      expect(result.activated).toBe(1);
      expect(result.retired.sort()).toEqual([replaced, gone].sort());
      const states = await statusOf([replaced, unchanged, gone, elsewhere, fresh.id, unembedded.id, foreign.id]);
      expect(states[replaced]).toBeUndefined();
      expect(states[gone]).toBeUndefined();
      expect(states[unchanged]?.status).toBe('active');
      expect(states[elsewhere]?.status).toBe('active');
      expect(states[fresh.id]).toEqual({ status: 'active', embedded: true, batch: null, runId: run.id });
      expect(states[unembedded.id]?.status).toBe('pending');
      expect(states[foreign.id]?.status).toBe('pending');
      expect(await outbox(catalogId)).toEqual([replaced, gone].sort());
      expect(await outbox(other)).toEqual([]);
      expect([...(await embeddings.hydrate([fresh.id, replaced, unchanged])).keys()].sort()).toEqual([fresh.id, unchanged].sort());
    });

    it('retires nothing and records nothing when every active chunk is wanted and none is replaced', async () => {
      const catalogId = await newCatalog();
      const run = await runs.start(catalogId, 'reindex', null, 1);
      const kept = await active(catalogId, 'a');
      for (const gone of [{ wantedKeys: ['a'] }, { retire: [] }]) {
        expect(await db.dataSource.transaction((m) => embeddings.activateRun(m, catalogId, run.id, gone))).toEqual({ activated: 0, retired: [] });
      }
      expect(await embeddings.activeChunks(catalogId)).toEqual([{ id: kept, chunkKey: 'a', contentHash: 'hash-a' }]);
      expect(await deletions.pendingCount(catalogId)).toBe(0);
    });
  });

  it('removes rows by id within the catalog and records exactly the removed points', async () => {
    const catalogId = await newCatalog();
    const other = await newCatalog();
    const a = await active(catalogId, 'a');
    const b = await active(catalogId, 'b');
    const foreign = await active(other, 'a');
    const removed = await db.dataSource.transaction((m) => embeddings.removeRows(m, catalogId, [a, foreign, randomUUID()]));
    expect(removed).toEqual([a]);
    expect(await allIds(catalogId)).toEqual([b]);
    expect(await allIds(other)).toEqual([foreign]);
    expect(await outbox(catalogId)).toEqual([a]);
    expect(await db.dataSource.transaction((m) => embeddings.removeRows(m, catalogId, []))).toEqual([]);
    expect(await outbox(catalogId)).toEqual([a]);
  });

  it('removes every row of one catalog, recording their points', async () => {
    const catalogId = await newCatalog();
    const other = await newCatalog();
    const ids = [await active(catalogId, 'a'), await active(catalogId, 'b')];
    await embeddings.insertPending([row(catalogId, 'c')]);
    const foreign = await active(other, 'a');
    const removed = await db.dataSource.transaction((m) => embeddings.removeAll(m, catalogId));
    expect(removed).toHaveLength(3);
    expect(removed).toEqual(expect.arrayContaining(ids));
    expect(await allIds(catalogId)).toEqual([]);
    expect(await outbox(catalogId)).toEqual([...removed].sort());
    expect(await allIds(other)).toEqual([foreign]);
  });

  it('deletes rows by id without the outbox', async () => {
    const catalogId = await newCatalog();
    const a = await active(catalogId, 'a');
    const b = await active(catalogId, 'b');
    expect(await embeddings.deleteIds(catalogId, [])).toBe(0);
    expect(await embeddings.deleteIds(catalogId, [a])).toBe(1);
    expect(await allIds(catalogId)).toEqual([b]);
    expect(await deletions.pendingCount(catalogId)).toBe(0);
  });

  it('hydrates only active rows of catalogs that exist', async () => {
    const catalogId = await newCatalog();
    const a = await active(catalogId, 'a');
    const pending = row(catalogId, 'b');
    await embeddings.insertPending([pending]);
    expect(await embeddings.hydrate([])).toEqual(new Map());
    const hydrated = await embeddings.hydrate([a, pending.id, randomUUID()]);
    expect([...hydrated.values()]).toEqual([
      { id: a, catalogId, kind: 'table', chunkKey: 'a', itemKey: 'a', content: 'content of a', metadata: { table: 'a' } },
    ]);
    await catalogs.delete(catalogId);
    expect(await embeddings.hydrate([a])).toEqual(new Map());
  });

  it('hydrates the content and metadata of the kinds asked for only, and every current row', async () => {
    const catalogId = await newCatalog();
    const column = row(catalogId, 'col', { kind: 'column', content: 'column text', metadata: { schema: 's', table: 't', column: 'Revenue (USD)' } });
    const doc = row(catalogId, 'doc', { kind: 'document', content: 'Title\nBody', metadata: { title: 'Title', part: 1, parts: 1 } });
    const pending = row(catalogId, 'pending', { kind: 'document' });
    await embeddings.insertPending([column, doc, pending]);
    await embeddings.activate(catalogId, [column.id, doc.id], []);
    const hydrated = await embeddings.hydrate([column.id, doc.id, pending.id], { textOf: ['document', 'example'] });
    expect([...hydrated.keys()].sort()).toEqual([column.id, doc.id].sort());
    expect(hydrated.get(column.id)).toEqual({ id: column.id, catalogId, kind: 'column', chunkKey: 'col', itemKey: 'col', content: '', metadata: {} });
    expect(hydrated.get(doc.id)).toMatchObject({ content: 'Title\nBody', metadata: { title: 'Title', part: 1, parts: 1 } });
    expect((await embeddings.hydrate([column.id])).get(column.id)).toMatchObject({ content: 'column text', metadata: column.metadata });
  });

  it('counts rows per catalog and status', async () => {
    const catalogId = await newCatalog();
    await active(catalogId, 'a');
    await active(catalogId, 'b');
    await embeddings.insertPending([row(catalogId, 'c')]);
    expect(await embeddings.counts(catalogId)).toEqual({ active: 2, pending: 1 });
    expect(await embeddings.countActive(catalogId)).toBe(2);
    expect(await embeddings.counts(randomUUID())).toEqual({ active: 0, pending: 0 });
    expect((await embeddings.catalogsWithRows()).find((c) => c.catalogId === catalogId)).toEqual({ catalogId, active: 2, pending: 1 });
  });

  it('counts the rows the vector store must serve, and the embedded pending rows whose points it may hold besides, of a catalog or of all', async () => {
    const before = await embeddings.servingCounts();
    const [first, second] = [await newCatalog(), await newCatalog()];
    await active(first, 'a');
    await active(second, 'a');
    await active(second, 'b');
    await embeddings.insertPending([row(first, 'p')], undefined, { embedded: false });
    await embeddings.insertPending([row(second, 'q')], undefined, { embedded: true });
    await embeddings.insertPending([row(second, 'r')], undefined, { embedded: true });
    expect(await embeddings.servingCounts()).toEqual({ active: before.active + 3, embeddedPending: before.embeddedPending + 2 });
    expect(await embeddings.servingCounts(first)).toEqual({ active: 1, embeddedPending: 0 });
    expect(await embeddings.servingCounts(second)).toEqual({ active: 2, embeddedPending: 2 });
    expect(await embeddings.servingCounts(randomUUID())).toEqual({ active: 0, embeddedPending: 0 });
  });

  it('samples the ids of active rows only, of a catalog or of any, at most as many as asked', async () => {
    const catalogId = await newCatalog();
    const rows = [await active(catalogId, 'a'), await active(catalogId, 'b'), await active(catalogId, 'c')];
    await embeddings.insertPending([row(catalogId, 'p')], undefined, { embedded: true });
    expect((await embeddings.someActiveIds(10, catalogId)).sort()).toEqual([...rows].sort());
    const two = await embeddings.someActiveIds(2, catalogId);
    expect(two).toHaveLength(2);
    expect(rows).toEqual(expect.arrayContaining(two));
    expect(await embeddings.someActiveIds(5, randomUUID())).toEqual([]);
    expect(await embeddings.someActiveIds(1)).toHaveLength(1);
  });

  it('samples a few active rows of every catalog when no catalog is named', async () => {
    const [first, second] = [await newCatalog(), await newCatalog()];
    const firstRows = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((k) => active(first, k)));
    const secondRows = [await active(second, 'a')];
    const sample = await embeddings.someActiveIds(100_000, undefined, 2);
    expect(sample.filter((id) => firstRows.includes(id))).toHaveLength(2);
    expect(sample.filter((id) => secondRows.includes(id))).toEqual(secondRows);
    expect(await embeddings.someActiveIds(3, undefined, 2)).toHaveLength(3);
  });
});
