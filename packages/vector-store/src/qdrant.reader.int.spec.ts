import { randomUUID } from 'node:crypto';
import { QdrantEmulator, type Exchange } from '@catalog-indexer/emulators';
import { uniqueName } from '@catalog-indexer/testing';
import { QdrantReader } from './qdrant.reader';
import { QdrantStore } from './qdrant.store';
import { VectorStoreError } from './vector-store.error';

const DIMENSIONS = 4;
const FUSION = { denseWeight: 1, sparseWeight: 1, k: 60, prefetchLimit: 10 };
const QUERY = { dense: [1, 0, 0, 0], sparse: { indices: [1], values: [1] } };

describe(QdrantReader.name, () => {
  const emulator = new QdrantEmulator();
  let url: string;
  let exchanges: Exchange[] = [];
  /** Requests that would create or change a collection, an alias or an index. */
  const writes = () => exchanges.filter((e) => e.method === 'PUT' || e.method === 'DELETE' || e.path === '/collections/aliases');
  const collectionNames = async () => {
    const { result } = (await (await fetch(`${url}/collections`)).json()) as { result: { collections: { name: string }[] } };
    return result.collections.map((c) => c.name);
  };

  beforeAll(async () => {
    ({ url } = await emulator.start(0));
    emulator.onExchange((e) => exchanges.push(e));
  });
  afterAll(() => emulator.stop());
  beforeEach(() => {
    exchanges = [];
  });

  it('counts, searches and resolves what a writer made, through the alias', async () => {
    const collection = uniqueName('reader');
    const store = new QdrantStore({ url, collection, dimensions: DIMENSIONS, model: 'model-a' });
    await store.ensureCollection();
    const catalog = randomUUID();
    const id = randomUUID();
    await store.upsert([
      { id, vector: [1, 0, 0, 0], sparse: { indices: [1], values: [1] }, payload: { catalog_id: catalog, kind: 'table', chunk_key: 'k', content_hash: 'h' } },
    ]);
    const reader = new QdrantReader({ url, collection, dimensions: DIMENSIONS, model: 'model-a' });
    exchanges = [];

    expect(await reader.count(catalog)).toBe(1);
    expect(await reader.search(QUERY, { catalogId: catalog, limit: 5, fusion: FUSION })).toEqual([{ id, score: expect.any(Number) as number }]);
    expect(await reader.served()).toEqual({ collection: QdrantStore.collectionFor(collection, DIMENSIONS, 'model-a'), provider: null, model: 'model-a', dimensions: DIMENSIONS });
    expect(await reader.collectionExists()).toBe(true);
    expect(await reader.ping()).toBe(true);
    expect(writes()).toEqual([]);
  });

  it('counts on a missing collection with a 404 and does not create it, where a writer would', async () => {
    const collection = uniqueName('missing');
    const reader = new QdrantReader({ url, collection, dimensions: DIMENSIONS });

    const error: unknown = await reader.count(randomUUID()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VectorStoreError);
    expect((error as VectorStoreError).status).toBe(404);
    const searched: unknown = await reader.search(QUERY, { catalogId: randomUUID(), limit: 5, fusion: FUSION }).catch((e: unknown) => e);
    expect((searched as VectorStoreError).status).toBe(404);
    expect(await reader.served()).toBeNull();
    expect(await reader.collectionExists()).toBe(false);
    expect(writes()).toEqual([]);
    expect((await collectionNames()).filter((name) => name.startsWith(collection))).toEqual([]);

    // The same count by a writer creates the collection behind the alias and answers.
    expect(await new QdrantStore({ url, collection, dimensions: DIMENSIONS }).count(randomUUID())).toBe(0);
    expect(await collectionNames()).toContain(QdrantStore.collectionFor(collection, DIMENSIONS));
    expect(await reader.collectionExists()).toBe(true);
  });

  it('offers nothing that creates or changes a collection or a point', () => {
    const reader = new QdrantReader({ url, collection: uniqueName('reader'), dimensions: DIMENSIONS });
    for (const method of ['ensureCollection', 'createLayout', 'switchAlias', 'dropCollection', 'ensurePayloadIndexes', 'upsert', 'deleteIds', 'deleteCatalog']) {
      expect(method in reader).toBe(false);
    }
    expect(Object.keys(reader).sort()).toEqual(['collection', 'dimensions', 'model', 'provider']);
  });
});
