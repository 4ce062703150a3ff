import { randomUUID } from 'node:crypto';
import { QdrantEmulator, type Exchange } from '@catalog-indexer/emulators';
import { uniqueName } from '@catalog-indexer/testing';
import { QdrantReader } from './qdrant.reader';
import { QdrantStore, type QdrantStoreOptions } from './qdrant.store';
import { type VectorPoint } from './qdrant.types';
import { VectorStoreError } from './vector-store.error';

const DIMENSIONS = 4;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A point of `catalogId` with a vector near `direction` (one of the 4 axes) and an uppercase UUID. */
const point = (catalogId: string, overrides: Partial<VectorPoint['payload']> = {}, vector?: number[], terms: number[] = [7]): VectorPoint => {
  const id = randomUUID().toUpperCase();
  return {
    id,
    vector: vector ?? [Math.random(), Math.random(), Math.random(), Math.random()],
    sparse: { indices: terms, values: terms.map(() => 1) },
    payload: { catalog_id: catalogId, kind: 'column', schema: 'public', table: 'orders', chunk_key: id, content_hash: 'h', ...overrides },
  };
};
const points = (catalogId: string, n: number): VectorPoint[] => Array.from({ length: n }, () => point(catalogId));
const sorted = (ids: string[]): string[] => [...ids].map((id) => id.toLowerCase()).sort();
const FUSION = { denseWeight: 1, sparseWeight: 1, k: 60, prefetchLimit: 50 };
/** A query for `dense`, with the sparse terms `terms` (none by default). */
const q = (dense: number[], terms: number[] = []) => ({ dense, sparse: { indices: terms, values: terms.map(() => 1) } });

describe(QdrantStore.name, () => {
  const emulator = new QdrantEmulator();
  let url: string;
  let exchanges: Exchange[] = [];
  const stores: QdrantStore[] = [];

  /** A store on a collection of its own, so tests do not see each other's points. */
  const newStore = async (options: Partial<QdrantStoreOptions> = {}): Promise<QdrantStore> => {
    const store = new QdrantStore({ url, collection: uniqueName('vs'), dimensions: DIMENSIONS, writeAttempts: 3, ...options });
    await store.ensureCollection();
    stores.push(store);
    return store;
  };
  const collectionInfo = async (name: string) => {
    const res = await fetch(`${url}/collections/${name}`);
    return (await res.json()) as {
      result: { config: { params: { vectors: unknown; sparse_vectors?: unknown } }; payload_schema: Record<string, { data_type: string; params?: Record<string, unknown> }> };
    };
  };

  beforeAll(async () => {
    ({ url } = await emulator.start(0));
    emulator.onExchange((e) => exchanges.push(e));
  });
  afterAll(async () => {
    await emulator.stop();
  });
  beforeEach(() => {
    emulator.resetFaults();
    exchanges = [];
  });

  describe('ensureCollection', () => {
    it('creates a collection of named dense (cosine) and sparse (idf) vectors with the tenant and filter indexes, and can run again', async () => {
      const store = await newStore();
      await store.ensureCollection();

      const { result } = await collectionInfo(store.collection);
      expect(result.config.params.vectors).toEqual({ dense: { size: DIMENSIONS, distance: 'Cosine' } });
      expect(result.config.params.sparse_vectors).toEqual({ terms: { modifier: 'idf' } });
      expect(result.payload_schema.catalog_id).toMatchObject({ data_type: 'keyword', params: { type: 'keyword', is_tenant: true } });
      for (const field of ['kind', 'schema', 'table']) expect(result.payload_schema[field]).toMatchObject({ data_type: 'keyword' });
      const physical = QdrantStore.collectionFor(store.collection, DIMENSIONS);
      expect(exchanges.filter((e) => e.method === 'PUT' && e.path.startsWith('/collections/') && !e.path.includes('/index'))).toEqual([
        expect.objectContaining({ path: `/collections/${physical}` }),
      ]);
      expect(await store.resolve()).toBe(physical);
      expect(await store.ping()).toBe(true);
    });

    it('serves the configured name as an alias, and moves it to another collection in one request', async () => {
      const store = await newStore();
      const catalog = randomUUID();
      await store.upsert([point(catalog)]);
      const next = `${store.collection}-next`;
      await store.createLayout(next);
      exchanges = [];
      await store.switchAlias(next);

      const updates = exchanges.filter((e) => e.path === '/collections/aliases');
      expect(updates).toHaveLength(1);
      expect((updates[0]!.requestBody as { actions: unknown[] }).actions).toEqual([
        { delete_alias: { alias_name: store.collection } },
        { create_alias: { collection_name: next, alias_name: store.collection } },
      ]);
      expect(await store.resolve()).toBe(next);
      expect(await store.count(catalog)).toBe(0);
      await store.switchAlias(QdrantStore.collectionFor(store.collection, DIMENSIONS));
      expect(await store.count(catalog)).toBe(1);
      await fetch(`${url}/collections/${next}`, { method: 'DELETE' });
    });

    it('keeps serving a collection of another size or model and names the collection to build for the new space', async () => {
      const store = await newStore();
      const first = await store.ensureCollection();
      expect(first.switchTo).toBeNull();
      const bigger = new QdrantStore({ url, collection: store.collection, dimensions: DIMENSIONS * 2, model: 'model-b' });
      const sized = await bigger.ensureCollection();
      expect(sized.served).toEqual({ collection: first.served.collection, provider: null, model: 'model-b', dimensions: DIMENSIONS });
      expect(sized.switchTo).toBe(`${store.collection}-hybrid-${DIMENSIONS * 2}-model-b`);
      expect(await bigger.resolve()).toBe(first.served.collection);

      // A collection made with a model recorded: another model of the same size is a switch too.
      await bigger.createLayout(sized.switchTo!);
      await bigger.switchAlias(sized.switchTo!);
      const sameSizeOtherModel = new QdrantStore({ url, collection: store.collection, dimensions: DIMENSIONS * 2, model: 'model-c' });
      const ensured = await sameSizeOtherModel.ensureCollection();
      expect(ensured.served).toEqual({ collection: sized.switchTo, provider: null, model: 'model-b', dimensions: DIMENSIONS * 2 });
      expect(ensured.switchTo).toBe(`${store.collection}-hybrid-${DIMENSIONS * 2}-model-c`);
      expect((await bigger.ensureCollection()).switchTo).toBeNull();
    });

    it('records the embedder\'s provider with its model, and treats another provider of the same model and size as another space', async () => {
      const collection = uniqueName('vs');
      const local = new QdrantStore({ url, collection, dimensions: DIMENSIONS, model: 'hashing-v1', provider: 'local' });
      const first = await local.ensureCollection();
      expect(first.served).toEqual({ collection: `${collection}-hybrid-${DIMENSIONS}-local-hashing-v1`, provider: 'local', model: 'hashing-v1', dimensions: DIMENSIONS });
      expect(first.switchTo).toBeNull();
      const info = (await (await fetch(`${url}/collections/${first.served.collection}`)).json()) as { result: { config: { metadata: Record<string, unknown> } } };
      expect(info.result.config.metadata).toMatchObject({ embedding_provider: 'local', embedding_model: 'hashing-v1', embedding_dimensions: DIMENSIONS });

      // The same model name and size from another provider does not fit.
      const other = new QdrantStore({ url, collection, dimensions: DIMENSIONS, model: 'hashing-v1', provider: 'openai' });
      expect((await other.ensureCollection()).switchTo).toBe(`${collection}-hybrid-${DIMENSIONS}-openai-hashing-v1`);

      // A collection that records a model but no provider (made before providers were recorded) fits no provider.
      const legacy = `${collection}-legacy`;
      await new QdrantStore({ url, collection, dimensions: DIMENSIONS, model: 'text-embedding-3-small' }).createLayout(legacy);
      await local.switchAlias(legacy);
      const openai = new QdrantStore({ url, collection, dimensions: DIMENSIONS, model: 'text-embedding-3-small', provider: 'openai' });
      const ensured = await openai.ensureCollection();
      expect(ensured.served).toEqual({ collection: legacy, provider: null, model: 'text-embedding-3-small', dimensions: DIMENSIONS });
      expect(ensured.switchTo).toBe(`${collection}-hybrid-${DIMENSIONS}-openai-text-embedding-3-small`);
      for (const name of [first.served.collection, legacy]) await fetch(`${url}/collections/${name}`, { method: 'DELETE' });
    });

    it('creates a collection a copy is being written to again, as it is and with no alias, when it goes missing', async () => {
      const store = await newStore();
      const name = `${store.collection}-hybrid-${DIMENSIONS}-copy`;
      const copy = store.withCollection(name);
      await store.createLayout(name);
      await fetch(`${url}/collections/${name}`, { method: 'DELETE' });
      const catalog = randomUUID();
      await copy.upsert(points(catalog, 3));

      expect(await copy.count(catalog)).toBe(3);
      expect(await store.resolve()).not.toBe(name);
      const { result } = (await (await fetch(`${url}/aliases`)).json()) as { result: { aliases: { alias_name: string }[] } };
      expect(result.aliases.map((a) => a.alias_name)).not.toContain(name);
      await fetch(`${url}/collections/${name}`, { method: 'DELETE' });
    });

    it('refuses a collection of the layout before hybrid search, one unnamed vector', async () => {
      const collection = uniqueName('vs');
      await fetch(`${url}/collections/${collection}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ vectors: { size: DIMENSIONS, distance: 'Cosine' } }),
      });
      const store = new QdrantStore({ url, collection, dimensions: DIMENSIONS });
      await expect(store.ensureCollection()).rejects.toThrow(/one unnamed vector per point/);
      await fetch(`${url}/collections/${collection}`, { method: 'DELETE' });
    });
  });

  describe('upsert, listIds and count', () => {
    it('stores every point in batches and lists them all across scroll pages', async () => {
      const store = await newStore({ upsertBatchSize: 64, upsertParallelism: 3 });
      const catalog = randomUUID();
      const written = points(catalog, 1200);
      await store.upsert(written);

      const upserts = exchanges.filter((e) => e.method === 'PUT' && e.path.endsWith('/points'));
      expect(upserts).toHaveLength(Math.ceil(1200 / 64));
      for (const e of upserts) expect((e.requestBody as { points: unknown[] }).points.length).toBeLessThanOrEqual(64);
      expect(emulator.pointCount(store.collection)).toBe(1200);
      expect(await store.count(catalog)).toBe(1200);

      const ids = await store.listIds(catalog);
      expect(exchanges.filter((e) => e.path.endsWith('/points/scroll')).length).toBeGreaterThan(1);
      expect(sorted(ids)).toEqual(sorted(written.map((p) => p.id)));
      for (const id of ids) expect(id).toMatch(UUID);
    });

    it('counts and lists only the points of the asked catalog', async () => {
      const store = await newStore();
      const [mine, theirs] = [randomUUID(), randomUUID()];
      const own = points(mine, 5);
      await store.upsert([...own, ...points(theirs, 7)]);

      expect(await store.count(mine)).toBe(5);
      expect(sorted(await store.listIds(mine))).toEqual(sorted(own.map((p) => p.id)));
      expect(await store.listIds(randomUUID())).toEqual([]);
    });

    it('replaces a point written again under the same id', async () => {
      const store = await newStore();
      const catalog = randomUUID();
      const p = point(catalog, {}, [1, 0, 0, 0]);
      await store.upsert([p]);
      await store.upsert([{ ...p, vector: [0, 1, 0, 0] }]);

      expect(await store.count(catalog)).toBe(1);
      const hits = await store.search(q([0, 1, 0, 0]), { catalogId: catalog, limit: 1, fusion: FUSION });
      expect(hits).toHaveLength(1);
      const info = await fetch(`${url}/collections/${store.collection}/points/${p.id.toLowerCase()}`);
      const body = (await info.json()) as { result: { vector: { dense: number[] } } };
      expect(body.result.vector.dense[1]).toBeCloseTo(1, 5);
    });
  });

  describe('scroll', () => {
    it('pages through every point with its payload and vectors, and finds every catalog id', async () => {
      const store = await newStore();
      const [first, second] = [randomUUID(), randomUUID()];
      const written = [...points(first, 5), ...points(second, 4)];
      await store.upsert(written);
      exchanges = [];

      const pages: { id: string; vector: unknown; payload: Record<string, unknown> }[][] = [];
      for await (const page of store.scrollPoints(2)) pages.push(page);
      expect(pages.map((page) => page.length)).toEqual([2, 2, 2, 2, 1]);
      expect(exchanges.filter((e) => e.path.endsWith('/points/scroll'))).toHaveLength(5);
      const scrolled = pages.flat();
      expect(sorted(scrolled.map((p) => p.id))).toEqual(sorted(written.map((p) => p.id)));
      const sample = written[0]!;
      const found = scrolled.find((p) => p.id === sample.id.toLowerCase());
      expect(found?.payload).toMatchObject({ catalog_id: first, chunk_key: sample.payload.chunk_key });
      expect(found?.vector).toMatchObject({ dense: expect.any(Array) as unknown, terms: { indices: [7], values: [1] } });

      expect(await store.catalogIds()).toEqual(new Set([first, second]));
    });
  });

  describe('search', () => {
    const catalog = randomUUID();
    const other = randomUUID();
    let store: QdrantStore;
    // Dense: `near` is the question's direction. Sparse: only `lexical` shares the question's rare term 99.
    const near = point(catalog, { kind: 'table', table: 'orders' }, [1, 0, 0, 0], [1]);
    const middle = point(catalog, { kind: 'column', table: 'orders' }, [1, 1, 0, 0], [1, 2]);
    const lexical = point(catalog, { kind: 'column', schema: 'sales', table: 'customers' }, [0, 1, 0, 0], [99, 2]);
    const opposite = point(catalog, { kind: 'column', table: 'products' }, [-1, 0, 0.1, 0], [3]);
    // Another tenant's point, identical to the question on both vectors: it must never come back.
    const foreign = point(other, { kind: 'table', table: 'orders' }, [1, 0, 0, 0], [99]);
    const ids = (hits: { id: string }[]) => hits.map((h) => h.id);
    const lower = (...ps: VectorPoint[]) => ps.map((p) => p.id.toLowerCase());

    beforeAll(async () => {
      store = await newStore();
      await store.upsert([near, middle, lexical, opposite, foreign]);
    });

    it('fuses a dense and a sparse prefetch, each filtered to the catalog, by weighted RRF', async () => {
      const hits = await store.search(q([1, 0, 0, 0], [99]), { catalogId: catalog, limit: 10, fusion: FUSION });

      expect(sorted(ids(hits))).toEqual(sorted([near, middle, lexical, opposite].map((p) => p.id)));
      for (const h of hits) expect(h.id).toMatch(UUID);
      expect(ids(hits)).not.toContain(foreign.id.toLowerCase());
      // Found by both prefetches, `lexical` (sparse rank 1, dense rank 3) beats `near` (dense rank 1 only).
      expect(ids(hits).slice(0, 2)).toEqual(lower(lexical, near));
      expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
      const query = exchanges.filter((e) => e.path.endsWith('/points/query')).at(-1)!;
      const body = query.requestBody as { prefetch: { using: string; filter: unknown; limit: number }[]; query: unknown };
      expect(body.prefetch.map((p) => p.using)).toEqual(['dense', 'terms']);
      for (const p of body.prefetch) {
        expect(JSON.stringify(p.filter)).toContain(catalog);
        expect(p.limit).toBe(50);
      }
      expect(body.query).toEqual({ rrf: { k: 60, weights: [1, 1] } });
    });

    it('lets the weights decide between the two retrievers', async () => {
      const dense = await store.search(q([1, 0, 0, 0], [99]), { catalogId: catalog, limit: 1, fusion: { ...FUSION, k: 1, denseWeight: 5 } });
      const sparse = await store.search(q([1, 0, 0, 0], [99]), { catalogId: catalog, limit: 1, fusion: { ...FUSION, k: 1, sparseWeight: 5 } });
      expect(ids(dense)).toEqual(lower(near));
      expect(ids(sparse)).toEqual(lower(lexical));
    });

    it('returns nothing for a catalog without points', async () => {
      expect(await store.search(q([1, 0, 0, 0], [99]), { catalogId: randomUUID(), limit: 10, fusion: FUSION })).toEqual([]);
    });

    it('filters by kinds, schemas and tables', async () => {
      const found = async (options: { kinds?: string[]; schemas?: string[]; tables?: string[] }) =>
        sorted(ids(await store.search(q([1, 0, 0, 0], [99]), { catalogId: catalog, limit: 10, fusion: FUSION, ...options })));

      expect(await found({ kinds: ['table'] })).toEqual(sorted([near.id]));
      expect(await found({ schemas: ['sales'] })).toEqual(sorted([lexical.id]));
      expect(await found({ tables: ['orders', 'products'] })).toEqual(sorted([near.id, middle.id, opposite.id]));
      expect(await found({ kinds: ['column'], tables: ['orders'] })).toEqual(sorted([middle.id]));
      // Empty lists mean "no filter", not "match nothing".
      expect(await found({ kinds: [], schemas: [], tables: [] })).toHaveLength(4);
    });
  });

  describe('faults', () => {
    it('retries a write answered 503 and succeeds', async () => {
      const store = await newStore({ writeAttempts: 3 });
      const catalog = randomUUID();
      emulator.injectFault({ method: 'PUT', path: '/points$', status: 503, times: 2 });
      await store.upsert(points(catalog, 10));

      expect(exchanges.filter((e) => e.path.endsWith('/points')).map((e) => e.status)).toEqual([503, 503, 200]);
      expect(await store.count(catalog)).toBe(10);
    });

    it('retries a 429 with Retry-After and gives up with status 429 when it persists', async () => {
      const store = await newStore({ writeAttempts: 2 });
      const catalog = randomUUID();
      emulator.injectFault({ method: 'PUT', path: '/points$', status: 429, retryAfterSeconds: 1, times: 1 });
      await store.upsert(points(catalog, 3));
      expect(await store.count(catalog)).toBe(3);

      emulator.injectFault({ method: 'POST', path: '/points/delete$', status: 429, retryAfterSeconds: 1, times: 2 });
      const error: unknown = await store.deleteCatalog(catalog).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VectorStoreError);
      expect((error as VectorStoreError).status).toBe(429);
      expect(exchanges.filter((e) => e.path.endsWith('/points/delete')).map((e) => e.status)).toEqual([429, 429]);
      expect(await store.count(catalog)).toBe(3);
    });

    it('gives up after the configured attempts with the last status', async () => {
      const store = await newStore({ writeAttempts: 2 });
      emulator.injectFault({ method: 'PUT', path: '/points$', status: 502, times: 5 });
      const error: unknown = await store.upsert(points(randomUUID(), 1)).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(VectorStoreError);
      expect((error as VectorStoreError).status).toBe(502);
      expect(exchanges.filter((e) => e.path.endsWith('/points'))).toHaveLength(2);
    });

    it('fails at once on a 400 with Qdrant\'s message and status', async () => {
      const store = await newStore();
      const bad = point(randomUUID(), {}, [1, 0, 0]);
      const error: unknown = await store.upsert([bad]).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(VectorStoreError);
      expect(error).toMatchObject({ status: 400, code: 'vector_store_failed' });
      expect((error as Error).message).toContain('Vector dimension error: expected dim: 4, got 3');
      expect(exchanges.filter((e) => e.path.endsWith('/points'))).toHaveLength(1);
    });

    it('stops the other upsert lanes once a batch has failed for good', async () => {
      const store = await newStore({ upsertBatchSize: 10, upsertParallelism: 2, writeAttempts: 1 });
      const catalog = randomUUID();
      const written = points(catalog, 100);
      // The third batch has a wrong-size vector.
      written[25] = { ...written[25]!, vector: [1, 0, 0] };
      await expect(store.upsert(written)).rejects.toMatchObject({ status: 400 });
      const stored = await store.count(catalog);

      // Batches 1, 2 and the failing 3rd, and at most the one the other lane had in flight: nothing after.
      const upserts = exchanges.filter((e) => e.path.endsWith('/points'));
      expect(upserts.length).toBeLessThanOrEqual(4);
      expect(stored).toBe(upserts.filter((e) => e.status === 200).length * 10);
      expect(await store.count(catalog)).toBe(stored);
    });

    it('reports a Qdrant that does not answer', async () => {
      const down = new QdrantStore({ url: 'http://127.0.0.1:1', collection: 'c', dimensions: DIMENSIONS, writeAttempts: 1 });
      expect(await down.ping()).toBe(false);
      const error: unknown = await down.count('x').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VectorStoreError);
      expect((error as VectorStoreError).status).toBeUndefined();
    });
  });

  describe('observe', () => {
    it('reports every request with its operation, duration and outcome, each attempt of a retried write too', async () => {
      const calls: { operation: string; seconds: number; outcome: string }[] = [];
      const observe = (operation: string, seconds: number, outcome: 'ok' | 'error') => calls.push({ operation, seconds, outcome });
      const store = new QdrantStore({ url, collection: uniqueName('vs'), dimensions: DIMENSIONS, writeAttempts: 3, observe });
      await store.ensureCollection();
      expect(calls.map((c) => c.operation)).toEqual([
        'list aliases',
        'check collection',
        'create collection',
        'create alias',
        'read collection',
        'index catalog_id',
        'index kind',
        'index schema',
        'index table',
      ]);
      expect(calls).toHaveLength(exchanges.length);

      calls.length = 0;
      exchanges = [];
      const catalog = randomUUID();
      emulator.injectFault({ method: 'PUT', path: '/points$', status: 503, times: 1 });
      await store.upsert(points(catalog, 2));
      await store.count(catalog);
      await new QdrantReader({ url, collection: store.collection, dimensions: DIMENSIONS, observe }).count(catalog);
      expect(calls.map((c) => [c.operation, c.outcome])).toEqual([
        ['upsert points', 'error'],
        ['upsert points', 'ok'],
        ['count points', 'ok'],
        ['count points', 'ok'],
      ]);
      expect(calls).toHaveLength(exchanges.length);
      for (const { seconds } of calls) {
        expect(seconds).toBeGreaterThan(0);
        expect(seconds).toBeLessThan(60);
      }
    });

    it('reports a Qdrant that does not answer as an error, and a failing observer fails no call', async () => {
      const calls: string[] = [];
      const down = new QdrantStore({ url: 'http://127.0.0.1:1', collection: 'c', dimensions: DIMENSIONS, observe: (op, _s, outcome) => calls.push(`${op} ${outcome}`) });
      await expect(down.count('x')).rejects.toBeInstanceOf(VectorStoreError);
      expect(calls).toEqual(['count points error']);

      const store = await newStore({
        observe: () => {
          throw new Error('metric failed');
        },
      });
      const catalog = randomUUID();
      await store.upsert(points(catalog, 3));
      expect(await store.count(catalog)).toBe(3);
    });
  });

  describe('deletes', () => {
    it('deleteIds removes exactly the given points, and missing ids are no error', async () => {
      const store = await newStore();
      const catalog = randomUUID();
      const written = points(catalog, 20);
      await store.upsert(written);
      const gone = written.slice(0, 7).map((p) => p.id);
      await store.deleteIds([...gone, randomUUID()]);

      expect(sorted(await store.listIds(catalog))).toEqual(sorted(written.slice(7).map((p) => p.id)));
      await store.deleteIds([]);
      expect(await store.count(catalog)).toBe(13);
    });

    it('deleteCatalog removes every point of that catalog and none of another', async () => {
      const store = await newStore();
      const [doomed, kept] = [randomUUID(), randomUUID()];
      const keptPoints = points(kept, 6);
      await store.upsert([...points(doomed, 9), ...keptPoints]);
      await store.deleteCatalog(doomed);

      expect(await store.count(doomed)).toBe(0);
      expect(sorted(await store.listIds(kept))).toEqual(sorted(keptPoints.map((p) => p.id)));
      expect(emulator.pointCount(store.collection)).toBe(6);
    });
  });
});
