import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@catalog-indexer/testing';
import { CatalogRepository, EmbeddingRepository, IndexRunRepository, type NewCatalog, openDataSource, type DataSource } from '../index';

const catalog = (name: string): NewCatalog => ({
  name,
  description: 'test',
  document: { name },
  items: [
    { key: 'sales', kind: 'schema', parentKey: null, name: 'sales', position: 0, data: {} },
    { key: 'sales.orders', kind: 'table', parentKey: 'sales', name: 'orders', position: 0, data: { type: 'table' } },
  ],
});

describe('db repositories', () => {
  let db: TestDatabase<DataSource>;
  let catalogs: CatalogRepository;
  let embeddings: EmbeddingRepository;
  let runs: IndexRunRepository;

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: true }));
    catalogs = new CatalogRepository(db.dataSource);
    embeddings = new EmbeddingRepository(db.dataSource);
    runs = new IndexRunRepository(db.dataSource);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('stores a catalog with its items in one go', async () => {
    const row = await catalogs.create(catalog('shop'));
    expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
    const items = await catalogs.items(row.id);
    expect(items.map((i) => i.key).sort()).toEqual(['sales', 'sales.orders']);
    const listed = await catalogs.list();
    expect(listed.find((c) => c.id === row.id)?.itemCount).toBe(2);
  });

  it('keeps rejections across a replace and bumps the version', async () => {
    const row = await catalogs.create(catalog('keep'));
    expect(await catalogs.updateRejections(row.id, { reject: ['sales.orders'] })).toEqual({ unknownKeys: [] });
    const replaced = await catalogs.replace(row.id, catalog('keep2'));
    expect(replaced?.version).toBe(2);
    expect([...(await catalogs.rejectedKeys(row.id))]).toEqual(['sales.orders']);
  });

  it('stamps a stored document with the version and last change get reads, without the document', async () => {
    const row = await catalogs.create(catalog('stamped'));
    const first = await catalogs.get(row.id);
    expect(await catalogs.stamp(row.id)).toEqual({ id: row.id, version: first!.version, updatedAt: first!.updatedAt });
    await catalogs.replace(row.id, catalog('stamped2'));
    const replaced = await catalogs.get(row.id);
    expect(await catalogs.stamp(row.id)).toEqual({ id: row.id, version: 2, updatedAt: replaced!.updatedAt });
    expect(await catalogs.stamp('00000000-0000-4000-8000-000000000000')).toBeNull();
  });

  it('changes nothing when a rejected key is unknown', async () => {
    const row = await catalogs.create(catalog('unknown'));
    expect(await catalogs.updateRejections(row.id, { reject: ['sales'], restore: ['nope'] })).toEqual({ unknownKeys: ['nope'] });
    expect((await catalogs.rejectedKeys(row.id)).size).toBe(0);
  });

  it('hides pending rows from hydration until they are activated, then retires the old ones', async () => {
    const { id: catalogId } = await catalogs.create(catalog('emb'));
    const base = { catalogId, kind: 'table', itemKey: 'sales.orders', metadata: { table: 'orders' }, model: 'm', dimensions: 4, indexRunId: null };
    const oldId = randomUUID();
    await embeddings.insertPending([{ ...base, id: oldId, chunkKey: 'table:sales.orders', content: 'old', contentHash: 'h1' }]);
    expect((await embeddings.hydrate([oldId])).size).toBe(0);
    await embeddings.activate(catalogId, [oldId], []);
    expect((await embeddings.hydrate([oldId])).get(oldId)?.content).toBe('old');

    const newId = randomUUID();
    await embeddings.insertPending([{ ...base, id: newId, chunkKey: 'table:sales.orders', content: 'new', contentHash: 'h2' }]);
    const both = await embeddings.hydrate([oldId, newId]);
    expect([...both.keys()]).toEqual([oldId]);
    await embeddings.activate(catalogId, [newId], [oldId]);
    const after = await embeddings.hydrate([oldId, newId]);
    expect([...after.keys()]).toEqual([newId]);
    expect(await embeddings.activeChunks(catalogId)).toEqual([{ id: newId, chunkKey: 'table:sales.orders', contentHash: 'h2' }]);
  });

  it('drops the rows of a deleted catalog from hydration at once', async () => {
    const { id: catalogId } = await catalogs.create(catalog('gone'));
    const id = randomUUID();
    await embeddings.insertPending([{ id, catalogId, kind: 'table', chunkKey: 'k', itemKey: 'i', content: 'c', metadata: {}, contentHash: 'h', model: 'm', dimensions: 4, indexRunId: null }]);
    await embeddings.activate(catalogId, [id], []);
    expect((await embeddings.hydrate([id])).size).toBe(1);
    expect(await catalogs.delete(catalogId)).toBe(true);
    expect((await embeddings.hydrate([id])).size).toBe(0);
  });

  it('records index runs newest first', async () => {
    const { id: catalogId } = await catalogs.create(catalog('runs'));
    const first = await runs.start(catalogId, 'reindex', 'job-1', 1);
    await runs.complete(first.id, { embedded: 3, skipped: 1, deleted: 0, tokens: 42 });
    const second = await runs.start(catalogId, 'reindex', 'job-2', 1);
    await runs.fail(second.id, 'boom');
    const listed = await runs.list(catalogId);
    expect(listed.map((r) => [r.jobId, r.status])).toEqual([
      ['job-2', 'failed'],
      ['job-1', 'completed'],
    ]);
    expect(listed[1]).toMatchObject({ embedded: 3, skipped: 1, tokens: 42 });
  });
});
