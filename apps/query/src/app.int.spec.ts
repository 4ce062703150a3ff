import { randomUUID } from 'node:crypto';
import { type Express } from 'express';
import request from 'supertest';
import { flattenItems, type Catalog } from '@catalog-indexer/catalog';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import {
  CatalogRepository,
  EmbeddingRepository,
  IndexRunRepository,
  LeaseRepository,
  PointDeletionRepository,
  openDataSource,
  type DataSource,
} from '@catalog-indexer/db';
import { LocalEmbedder, toNumberArray } from '@catalog-indexer/embeddings';
import { QdrantEmulator } from '@catalog-indexer/emulators';
import { createLogger } from '@catalog-indexer/logger';
import { ReindexService, reindexInProcess } from '@catalog-indexer/pipeline';
import { createTestDatabase, uniqueName, type TestDatabase } from '@catalog-indexer/testing';
import { countTokens, documentSparseVector, querySparseVector } from '@catalog-indexer/text';
import { QdrantReader, QdrantStore } from '@catalog-indexer/vector-store';
import { createApp } from './app';
import { CatalogGraphCache } from './catalog-graph.cache';
import { ContextService } from './context.service';
import { IndexCoverage } from './index-coverage';
import { SearchService, type SearchResponse } from './search.service';

const FUSION = { denseWeight: 1, sparseWeight: 3, rrfK: 60, candidates: 200 };

const QUESTION = 'revenue by region of paid orders last quarter';

const toNew = (catalog: Catalog) => ({
  name: catalog.name,
  description: catalog.description ?? null,
  document: catalog as unknown as Record<string, unknown>,
  items: flattenItems(catalog),
});

interface EmbeddingDbRow {
  id: string;
  catalog_id: string;
  kind: string;
  item_key: string;
  content: string;
  metadata: Record<string, unknown>;
}

describe('query app', () => {
  const logger = createLogger({ level: 'silent' });
  const embedder = new LocalEmbedder(64);
  let db: TestDatabase<DataSource>;
  let qdrant: QdrantEmulator;
  let store: QdrantStore;
  let catalogs: CatalogRepository;
  let reindex: ReindexService;
  let app: Express;
  /** The shop catalog, indexed. */
  let shopId: string;
  /** A second catalog with the same content, so its chunks score exactly like the shop's. */
  let twinId: string;

  const rowsOf = async (catalogId: string): Promise<Map<string, EmbeddingDbRow>> => {
    const rows = await db.dataSource.query<EmbeddingDbRow[]>(
      `SELECT id, catalog_id, kind, item_key, content, metadata FROM dq_embeddings WHERE catalog_id = $1 AND status = 'active'`,
      [catalogId],
    );
    return new Map(rows.map((r) => [r.id, r]));
  };
  const search = async (body: Record<string, unknown>): Promise<SearchResponse> =>
    (await request(app).post('/v1/search').send(body).expect(200)).body as SearchResponse;
  const questionVector = async (): Promise<number[]> => toNumberArray((await embedder.embed([QUESTION])).vectors[0]!);
  /** A Qdrant point of a catalog (the shop's by default) with no row in Postgres, as close to the question as can be. */
  const ghostPoint = async (catalogId = shopId) => ({
    id: randomUUID(),
    vector: await questionVector(),
    sparse: documentSparseVector(QUESTION),
    payload: {
      catalog_id: catalogId,
      kind: 'table',
      schema: 'sales',
      table: 'orders',
      column: null,
      chunk_key: 'sales.orders',
      content_hash: 'ghost',
    },
  });

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: true }));
    qdrant = new QdrantEmulator();
    const { url } = await qdrant.start(0);
    store = new QdrantStore({ url, collection: uniqueName('query'), dimensions: embedder.dimensions });
    await store.ensureCollection();
    catalogs = new CatalogRepository(db.dataSource);
    const embeddings = new EmbeddingRepository(db.dataSource);
    reindex = new ReindexService({
      catalogs,
      embeddings,
      runs: new IndexRunRepository(db.dataSource),
      leases: new LeaseRepository(db.dataSource),
      deletions: new PointDeletionRepository(db.dataSource),
      store,
      embedder,
      logger,
    });
    shopId = (await catalogs.create(toNew(shopCatalog))).id;
    const twin = structuredClone<Catalog>(shopCatalog);
    twin.name = 'shop-twin';
    twinId = (await catalogs.create(toNew(twin))).id;
    await reindexInProcess(reindex, shopId);
    await reindexInProcess(reindex, twinId);
    // The service reads as main.ts wires it: through a reader that never creates a collection.
    const reader = new QdrantReader({ url, collection: store.collection, dimensions: embedder.dimensions });
    const searchService = new SearchService(embedder, reader, embeddings, FUSION);
    const context = new ContextService(searchService, new CatalogGraphCache(catalogs), FUSION.candidates);
    app = createApp({ logger, dataSource: db.dataSource, store: reader, search: searchService, context });
  });
  afterAll(async () => {
    await qdrant.stop();
    await db.drop();
  });

  describe('POST /v1/search', () => {
    it('returns results hydrated from their dq_embeddings rows, best first, with timings', async () => {
      const response = await search({ catalogId: shopId, query: QUESTION });
      const rows = await rowsOf(shopId);

      expect(response.results).toHaveLength(10);
      for (const result of response.results) {
        const row = rows.get(result.id);
        expect(row).toBeDefined();
        expect(result).toMatchObject({ kind: row!.kind, content: row!.content, key: row!.item_key, metadata: row!.metadata });
      }
      const scores = response.results.map((r) => r.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      expect(new Set(response.results.map((r) => r.id)).size).toBe(response.results.length);
      for (const name of ['embedMs', 'analyzeMs', 'searchMs', 'hydrateMs', 'totalMs'] as const) {
        expect(typeof response.timings[name]).toBe('number');
      }
    });

    it('puts the chunk whose text is the question first', async () => {
      const rows = [...(await rowsOf(shopId)).values()];
      const target = rows.find((r) => r.kind === 'column' && r.item_key === 'sales.orders.shipping_country')!;
      const response = await search({ catalogId: shopId, query: target.content, limit: 3 });
      expect(response.results[0]).toMatchObject({ id: target.id, content: target.content });
    });

    it('returns only chunks of the requested catalog, even when another catalog has the same chunks', async () => {
      const shopRows = await rowsOf(shopId);
      const twinRows = await rowsOf(twinId);
      const fromShop = await search({ catalogId: shopId, query: QUESTION, limit: 50 });
      const fromTwin = await search({ catalogId: twinId, query: QUESTION, limit: 50 });

      expect(fromShop.results).toHaveLength(50);
      expect(fromShop.results.every((r) => shopRows.has(r.id))).toBe(true);
      expect(fromTwin.results.every((r) => twinRows.has(r.id))).toBe(true);
      // Ties within a retriever are broken by point id, so ranks (and fused scores) may differ a little
      // between the twins; over every chunk, the two catalogs return the same texts and nothing else.
      const all = async (catalogId: string) => (await search({ catalogId, query: QUESTION, limit: 100 })).results.map((r) => r.content).sort();
      expect(await all(twinId)).toEqual(await all(shopId));
      expect(await all(twinId)).toHaveLength(shopRows.size);
    });

    it('accepts the catalog id in upper case', async () => {
      const response = await search({ catalogId: shopId.toUpperCase(), query: QUESTION, limit: 3 });
      const rows = await rowsOf(shopId);
      expect(response.results).toHaveLength(3);
      expect(response.results.every((r) => rows.has(r.id))).toBe(true);
    });

    it('returns only the kinds asked for', async () => {
      const columns = await search({ catalogId: shopId, query: QUESTION, kinds: ['column'], limit: 20 });
      expect(columns.results).toHaveLength(20);
      expect(new Set(columns.results.map((r) => r.kind))).toEqual(new Set(['column']));

      const docs = await search({ catalogId: shopId, query: QUESTION, kinds: ['document', 'example'], limit: 20 });
      expect(docs.results.length).toBeGreaterThan(0);
      expect(docs.results.every((r) => r.kind === 'document' || r.kind === 'example')).toBe(true);
    });

    it('returns only the tables asked for', async () => {
      const response = await search({ catalogId: shopId, query: QUESTION, tables: ['refunds'], limit: 20 });
      expect(response.results.length).toBeGreaterThan(0);
      expect(response.results.every((r) => r.metadata.table === 'refunds')).toBe(true);
    });

    it('returns at most limit results, 10 by default', async () => {
      expect((await search({ catalogId: shopId, query: QUESTION, limit: 1 })).results).toHaveLength(1);
      expect((await search({ catalogId: shopId, query: QUESTION, limit: 7 })).results).toHaveLength(7);
      expect((await search({ catalogId: shopId, query: QUESTION })).results).toHaveLength(10);
    });

    it('returns nothing for a catalog without an index', async () => {
      expect((await search({ catalogId: randomUUID(), query: QUESTION })).results).toEqual([]);
    });

    it.each([
      ['a missing catalogId', { query: QUESTION }, 'catalogId'],
      ['a catalogId that is not a UUID', { catalogId: 'shop', query: QUESTION }, 'catalogId'],
      ['a missing query', { catalogId: randomUUID() }, 'query'],
      ['an empty query', { catalogId: randomUUID(), query: '   ' }, 'query'],
      ['a limit of 0', { catalogId: randomUUID(), query: QUESTION, limit: 0 }, 'limit'],
      ['a limit of 101', { catalogId: randomUUID(), query: QUESTION, limit: 101 }, 'limit'],
      ['a limit that is not an integer', { catalogId: randomUUID(), query: QUESTION, limit: 2.5 }, 'limit'],
      ['an unknown kind', { catalogId: randomUUID(), query: QUESTION, kinds: ['view'] }, 'kinds.0'],
      ['an unknown field', { catalogId: randomUUID(), query: QUESTION, top_k: 5 }, 'top_k'],
    ])('answers %s with 400 invalid_request naming the field', async (_what, body, field) => {
      const res = await request(app).post('/v1/search').send(body).expect(400);
      const error = (res.body as { error: { code: string; message: string; details: { path: string; message: string }[] } }).error;
      expect(error.code).toBe('invalid_request');
      expect(error.message).toContain(field);
      expect(JSON.stringify(error.details)).toContain(field);
    });

    it('answers malformed JSON with 400 invalid_json and a body that is not JSON with 415', async () => {
      const bad = await request(app).post('/v1/search').set('Content-Type', 'application/json').send('{"query":').expect(400);
      expect(bad.body).toMatchObject({ error: { code: 'invalid_json' } });
      const text = await request(app).post('/v1/search').set('Content-Type', 'text/plain').send(QUESTION).expect(415);
      expect(text.body).toMatchObject({ error: { code: 'unsupported_media_type' } });
    });
  });

  describe('POST /v1/context', () => {
    interface Context {
      tables: { schema: string; table: string; score: number; bridge?: boolean; columns: { name: string; primaryKey?: boolean }[] }[];
      joins: { from: { schema: string; table: string; columns: string[] }; to: { schema: string; table: string; columns: string[] } }[];
      examples: { question: string; sql: string }[];
      documents: { title: string; text: string }[];
      text: string;
      tokens: number;
      timings: Record<string, number>;
    }
    const context = async (body: Record<string, unknown>): Promise<Context> =>
      (await request(app).post('/v1/context').send(body).expect(200)).body as Context;

    it('answers a question that needs a join with both tables, the bridge table and the join conditions', async () => {
      const answer = await context({ catalogId: shopId, question: 'Which product names were sold in orders placed last month?', maxTables: 4 });
      const names = answer.tables.map((t) => `${t.schema}.${t.table}`);
      expect(names).toEqual(expect.arrayContaining(['sales.orders', 'catalog.products', 'sales.order_items']));
      expect(answer.joins).toEqual(
        expect.arrayContaining([
          { from: { schema: 'sales', table: 'order_items', columns: ['order_id'] }, to: { schema: 'sales', table: 'orders', columns: ['id'] } },
          { from: { schema: 'sales', table: 'order_items', columns: ['product_id'] }, to: { schema: 'catalog', table: 'products', columns: ['id'] } },
        ]),
      );
      expect(answer.text).toContain('CREATE TABLE sales.order_items (');
      expect(answer.text).toContain('-- JOIN ON sales.order_items.product_id = catalog.products.id');
      const items = answer.tables.find((t) => t.table === 'order_items')!;
      expect(items.columns.map((c) => c.name)).toEqual(expect.arrayContaining(['order_id', 'line_no', 'product_id']));
      const scores = answer.tables.filter((t) => !t.bridge).map((t) => t.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    });

    it('keeps the text within the token budget, counted as cl100k counts, and keys even when columns must go', async () => {
      const small = await context({ catalogId: shopId, question: QUESTION, tokenBudget: 256 });
      expect(small.tokens).toBe(countTokens(small.text));
      expect(small.tokens).toBeLessThanOrEqual(256);
      const large = await context({ catalogId: shopId, question: QUESTION, tokenBudget: 100_000 });
      expect(large.tokens).toBeGreaterThan(small.tokens);
      for (const table of small.tables) {
        const full = large.tables.find((t) => t.table === table.table);
        for (const key of full?.columns.filter((c) => c.primaryKey) ?? []) expect(table.columns.map((c) => c.name)).toContain(key.name);
      }
    });

    it('offers matching examples and documents, and respects maxTables', async () => {
      const answer = await context({ catalogId: shopId, question: 'How many orders were placed last month?', maxTables: 2, tokenBudget: 8000 });
      expect(answer.tables.length).toBeLessThanOrEqual(2);
      expect(answer.examples.map((e) => e.question)).toContain('How many orders were placed last month?');
      expect(answer.examples[0]!.sql).toMatch(/^SELECT count\(\*\) FROM sales\.orders/);
      for (const name of ['embedMs', 'searchMs', 'hydrateMs', 'contextMs', 'totalMs']) expect(typeof answer.timings[name]).toBe('number');
      const statuses = await context({ catalogId: shopId, question: 'What does it mean when an order status is cancelled?', tokenBudget: 8000 });
      const document = statuses.documents.find((d) => d.title === 'Order statuses');
      expect(document?.text).toContain("Unpaid orders are 'cancelled' after 48 hours.");
      expect(statuses.text).toContain('-- Document: Order statuses');
    });

    it("quotes examples and documents from their rows' metadata, and leaves out a row whose metadata holds none", async () => {
      const copy = structuredClone<Catalog>(shopCatalog);
      copy.name = 'shop-quotes';
      const { id } = await catalogs.create(toNew(copy));
      await reindexInProcess(reindex, id);
      const question = 'How many orders were placed last month?';
      const body = { catalogId: id, question, tokenBudget: 8000 };
      const setMetadata = (kind: string, sql: string) =>
        db.dataSource.query(`UPDATE dq_embeddings SET metadata = ${sql} WHERE catalog_id = $1 AND kind = $2 AND status = 'active'`, [id, kind]);
      await setMetadata('example', `metadata || jsonb_build_object('sql', 'SELECT 42 -- ' || (metadata->>'question'))`);
      await setMetadata('document', `metadata || jsonb_build_object('text', 'Told by the metadata.')`);
      const quoted = await context(body);
      expect(quoted.examples.find((e) => e.question === question)?.sql).toBe(`SELECT 42 -- ${question}`);
      expect(quoted.text).toContain(`-- Q: ${question}\nSELECT 42 -- ${question}`);
      expect(quoted.documents.length).toBeGreaterThan(0);
      for (const d of quoted.documents) expect(d.text).toBe('Told by the metadata.');
      await setMetadata('example', `metadata - 'sql'`);
      await setMetadata('document', `metadata - 'text'`);
      const without = await context(body);
      expect(without.examples).toEqual([]);
      expect(without.documents).toEqual([]);
      expect(without.tables.map((t) => t.table)).toEqual(quoted.tables.map((t) => t.table));
    });

    it('leaves rejected columns and tables out of the context', async () => {
      const copy = structuredClone<Catalog>(shopCatalog);
      copy.name = 'shop-rejections';
      const { id } = await catalogs.create(toNew(copy));
      await catalogs.updateRejections(id, { reject: ['sales.orders.tax_amount', 'sales.refunds'] });
      await reindexInProcess(reindex, id);
      const answer = await context({ catalogId: id, question: 'tax amount and refunds of orders', tokenBudget: 100_000 });
      expect(answer.tables.map((t) => t.table)).not.toContain('refunds');
      const orders = answer.tables.find((t) => t.table === 'orders')!;
      expect(orders.columns.map((c) => c.name)).not.toContain('tax_amount');
      expect(orders.columns.map((c) => c.name)).toContain('total_amount');
      expect(answer.text).not.toMatch(/^\s*tax_amount /m);
      expect(answer.text).not.toContain('CREATE TABLE sales.refunds');
    });

    it('ranks the context on current rows only: points without a row change nothing, pending rows count for nothing', async () => {
      const body = { catalogId: shopId, question: QUESTION, maxTables: 2, tokenBudget: 100_000 };
      // Fused scores depend on ranks, which ghosts at the top take: the tables, their order and columns must not.
      const tablesOf = (answer: Context) => answer.tables.map((t) => ({ table: `${t.schema}.${t.table}`, columns: t.columns.map((c) => c.name) }));
      const before = await context(body);
      // Ghosts of other tables at the very top of the ranking, more tables than the checks of chosen chunks
      // go through before every hit is read.
      const others = [
        ['hr', 'employees'],
        ['hr', 'payroll'],
        ['catalog', 'categories'],
        ['catalog', 'products'],
        ['sales', 'customers'],
        ['sales', 'refunds'],
        ['sales', 'daily_revenue'],
        ['sales', 'order_items'],
      ].filter(([schema, table]) => !before.tables.some((t) => t.schema === schema && t.table === table));
      const ghosts = await Promise.all(
        others.flatMap(([schema, table]) =>
          [1, 2, 3].map(async (n) => {
            const ghost = await ghostPoint();
            return { ...ghost, payload: { ...ghost.payload, kind: 'column', schema, table, column: `ghost_${n}`, chunk_key: `${schema}.${table}.ghost_${n}` } };
          }),
        ),
      );
      await store.upsert(ghosts);
      try {
        expect(tablesOf(await context(body))).toEqual(tablesOf(before));
      } finally {
        await store.deleteIds(ghosts.map((g) => g.id));
      }
      // The first table's own chunks pending (as during a reindex): it is ranked without them.
      const [top] = before.tables;
      const hidden: { id: string }[] = await db.dataSource.query(
        `UPDATE dq_embeddings SET status = 'pending' WHERE catalog_id = $1 AND kind IN ('table', 'column') AND metadata->>'schema' = $2 AND metadata->>'table' = $3 RETURNING id`,
        [shopId, top!.schema, top!.table],
      );
      expect(hidden.length).toBeGreaterThan(1);
      try {
        const after = await context(body);
        const again = after.tables.find((t) => t.schema === top!.schema && t.table === top!.table);
        expect(again === undefined || again.score < top!.score).toBe(true);
      } finally {
        await db.dataSource.query(`UPDATE dq_embeddings SET status = 'active' WHERE id = ANY($1::uuid[])`, [hidden.map((h) => h.id)]);
      }
    });

    it('answers an unknown catalog with 404 and bad input with 400 naming the field', async () => {
      const missing = await request(app).post('/v1/context').send({ catalogId: randomUUID(), question: QUESTION }).expect(404);
      expect(missing.body).toMatchObject({ error: { code: 'not_found' } });
      for (const [body, field] of [
        [{ catalogId: shopId }, 'question'],
        [{ catalogId: shopId, question: QUESTION, maxTables: 51 }, 'maxTables'],
        [{ catalogId: shopId, question: QUESTION, tokenBudget: 255 }, 'tokenBudget'],
        [{ catalogId: 'x', question: QUESTION }, 'catalogId'],
      ] as const) {
        const res = await request(app).post('/v1/context').send(body).expect(400);
        expect(JSON.stringify(res.body)).toContain(field);
      }
    });
  });

  describe('visibility (invariant 1)', () => {
    it('drops a Qdrant point that has no row, even when it is the nearest one', async () => {
      const ghost = await ghostPoint();
      await store.upsert([ghost]);
      try {
        const hits = await store.search(
          { dense: ghost.vector, sparse: querySparseVector(QUESTION) },
          { catalogId: shopId, limit: 1, fusion: { denseWeight: 1, sparseWeight: 1, k: 60, prefetchLimit: 10 } },
        );
        expect(hits[0]?.id).toBe(ghost.id);

        const response = await search({ catalogId: shopId, query: QUESTION, limit: 5 });
        expect(response.results.map((r) => r.id)).not.toContain(ghost.id);
        expect(response.results).toHaveLength(5);
      } finally {
        await store.deleteIds([ghost.id]);
      }
    });

    it('drops the hit of a row that is pending, not current', async () => {
      const before = await search({ catalogId: shopId, query: QUESTION, limit: 5 });
      const top = before.results[0]!;
      await db.dataSource.query(`UPDATE dq_embeddings SET status = 'pending' WHERE id = $1`, [top.id]);
      try {
        const after = await search({ catalogId: shopId, query: QUESTION, limit: 5 });
        expect(after.results.map((r) => r.id)).not.toContain(top.id);
        expect(after.results.map((r) => r.id)).toEqual([...before.results.slice(1).map((r) => r.id), after.results[4]!.id]);
      } finally {
        await db.dataSource.query(`UPDATE dq_embeddings SET status = 'active' WHERE id = $1`, [top.id]);
      }
    });

    it('still returns limit results when invisible points crowd the top of the ranking', async () => {
      const ghosts = await Promise.all([1, 2, 3, 4, 5, 6].map(() => ghostPoint()));
      await store.upsert(ghosts);
      try {
        const response = await search({ catalogId: shopId, query: QUESTION, limit: 4 });
        const rows = await rowsOf(shopId);
        expect(response.results).toHaveLength(4);
        expect(response.results.every((r) => rows.has(r.id))).toBe(true);
      } finally {
        await store.deleteIds(ghosts.map((g) => g.id));
      }
    });

    it('returns nothing of a deleted catalog, whose rows and points are still there until cleanup', async () => {
      const copy = structuredClone<Catalog>(shopCatalog);
      copy.name = 'shop-deleted';
      const { id } = await catalogs.create(toNew(copy));
      await reindexInProcess(reindex, id);
      expect((await search({ catalogId: id, query: QUESTION, limit: 3 })).results).toHaveLength(3);

      await catalogs.delete(id);
      expect(await store.count(id)).toBeGreaterThan(0);
      expect((await search({ catalogId: id, query: QUESTION, limit: 3 })).results).toEqual([]);
    });
  });

  describe('operations', () => {
    it('answers /healthz and /readyz with 200 when Postgres and Qdrant answer', async () => {
      await request(app).get('/healthz').expect(200, { status: 'ok' });
      const ready = await request(app).get('/readyz').expect(200);
      expect(ready.body).toEqual({ status: 'ready', checks: { postgres: true, qdrant: true, collection: true }, problems: {} });
    });

    it('answers /readyz with 503 when the collection is missing, as after a Qdrant restarted empty', async () => {
      const lost = new QdrantReader({ url: qdrant.url, collection: uniqueName('lost'), dimensions: embedder.dimensions });
      const search = new SearchService(embedder, lost, new EmbeddingRepository(db.dataSource), FUSION);
      const context = new ContextService(search, new CatalogGraphCache(new CatalogRepository(db.dataSource)), FUSION.candidates);
      const other = createApp({ logger, dataSource: db.dataSource, store: lost, search, context });
      const ready = await request(other).get('/readyz').expect(503);
      expect(ready.body).toMatchObject({ status: 'not ready', checks: { postgres: true, qdrant: true, collection: false } });
      expect((ready.body as { problems: { collection: string } }).problems.collection).toMatch(/^index ".+" is missing from the vector store$/);
    });

    /** A catalog like the shop's, indexed, an app that watches the coverage, and the loss of the catalog's points. */
    const coveredCatalog = async (name: string) => {
      const copy = structuredClone<Catalog>(shopCatalog);
      copy.name = name;
      const { id } = await catalogs.create(toNew(copy));
      await reindexInProcess(reindex, id);
      const embeddings = new EmbeddingRepository(db.dataSource);
      const coverage = new IndexCoverage(store, embeddings, 0);
      const searchService = new SearchService(embedder, store, embeddings, FUSION, coverage);
      const context = new ContextService(searchService, new CatalogGraphCache(catalogs), FUSION.candidates);
      const covered = createApp({ logger, dataSource: db.dataSource, store, search: searchService, context, coverage });
      /** The vector store loses the catalog's points, as when Qdrant comes back without them. */
      const lose = async () => {
        const lostIds = [...(await rowsOf(id)).keys()];
        await store.deleteIds(lostIds);
        return lostIds;
      };
      return { id, covered, embeddings, lose };
    };
    const lostCatalog = async (name: string) => {
      const { id, covered, lose } = await coveredCatalog(name);
      return { id, covered, lostIds: await lose() };
    };
    const answers = async (covered: Express, catalogId: string) => {
      const ready = await request(covered).get('/readyz');
      const found = await request(covered).post('/v1/search').send({ catalogId, query: QUESTION, limit: 3 });
      const body = found.body as { results?: unknown[]; error?: { code: string; details: unknown } };
      return { ready: ready.status, search: found.status, code: body.error?.code, details: body.error?.details, results: body.results?.length };
    };

    it('answers /readyz with 503 naming the rebuilding index, and searches of the affected catalog with 503 index_rebuilding, until its points are back', async () => {
      const { id: lostId, covered, embeddings, lose } = await coveredCatalog('shop-lost');
      expect((await request(covered).get('/readyz').expect(200)).body).toMatchObject({ checks: { index: true }, problems: {} });

      const lostIds = await lose();
      const notReady = await request(covered).get('/readyz').expect(503);
      expect(notReady.body).toMatchObject({ status: 'not ready', checks: { index: false } });
      const { active } = await embeddings.servingCounts();
      expect((notReady.body as { problems: { index: string } }).problems.index).toBe(
        `index "${store.collection}" is rebuilding: the vector store serves ${active - lostIds.length} of ${active} current chunks`,
      );
      for (const [path, body] of [['/v1/search', { catalogId: lostId, query: QUESTION }], ['/v1/context', { catalogId: lostId, question: QUESTION }]] as const) {
        const answer = await request(covered).post(path).send(body).expect(503);
        expect(answer.headers['retry-after']).toBe('5');
        expect(answer.body).toMatchObject({ error: { code: 'index_rebuilding', details: { catalogId: lostId, points: 0, rows: lostIds.length } } });
        expect((answer.body as { error: { message: string } }).error.message).toMatch(/is being rebuilt/);
      }
      // Catalogs whose points are all there are answered as usual.
      expect((await request(covered).post('/v1/search').send({ catalogId: shopId, query: QUESTION, limit: 3 }).expect(200)).body).toMatchObject({ results: [{}, {}, {}] });

      await reindexInProcess(reindex, lostId);
      expect((await request(covered).get('/readyz').expect(200)).body).toMatchObject({ checks: { index: true } });
      expect((await request(covered).post('/v1/search').send({ catalogId: lostId, query: QUESTION, limit: 3 }).expect(200)).body).toMatchObject({ results: [{}, {}, {}] });
    });

    it('answers 503 while the rebuild has written its points but not activated its rows, never an empty 200', async () => {
      const { id, covered, lostIds } = await lostCatalog('shop-rebuilt');
      const seen: unknown[] = [];
      await reindexInProcess(reindex, id, {
        onProgress: async (progress) => {
          if (progress.phase !== 'activating') return;
          // Every point of the rebuild is written: as many as the points lost, none of them of an active row.
          seen.push({ points: await store.count(id), ...(await answers(covered, id)) });
        },
      });
      expect(seen).toEqual([
        { points: lostIds.length, ready: 503, search: 503, code: 'index_rebuilding', details: { catalogId: id, points: 0, rows: lostIds.length }, results: undefined },
      ]);
      expect(await answers(covered, id)).toMatchObject({ ready: 200, search: 200, results: 3 });
    });

    it('answers 503 while points without a visible row stand in the lost ones\' number (a batch written, its rows not marked embedded yet)', async () => {
      const { id, covered, lostIds } = await lostCatalog('shop-marked');
      const ghosts = await Promise.all(lostIds.map(() => ghostPoint(id)));
      await store.upsert(ghosts);
      // The counts alone cannot tell: as many points as active rows, and no embedded pending row.
      expect(await store.count(id)).toBe(lostIds.length);
      expect(await new EmbeddingRepository(db.dataSource).servingCounts(id)).toEqual({ active: lostIds.length, embeddedPending: 0 });
      expect(await answers(covered, id)).toEqual({ ready: 503, search: 503, code: 'index_rebuilding', details: { catalogId: id, points: 0, rows: lostIds.length }, results: undefined });

      await store.deleteIds(ghosts.map((g) => g.id));
      await reindexInProcess(reindex, id);
      expect(await answers(covered, id)).toMatchObject({ ready: 200, search: 200, results: 3 });
    });

    it('answers a search that finds the collection gone with 503: index_rebuilding for a catalog with rows, never 404', async () => {
      const gone = new QdrantReader({ url: qdrant.url, collection: uniqueName('gone'), dimensions: embedder.dimensions });
      const embeddings = new EmbeddingRepository(db.dataSource);
      // A measure trusted for a minute and not taken yet: only the failed search can tell.
      const coverage = new IndexCoverage(gone, embeddings, 60_000);
      const covered = new SearchService(embedder, gone, embeddings, FUSION, coverage);
      const plain = new SearchService(embedder, gone, embeddings, FUSION);
      const appOf = (search: SearchService, withCoverage: boolean) =>
        createApp({
          logger,
          dataSource: db.dataSource,
          store: gone,
          search,
          context: new ContextService(search, new CatalogGraphCache(catalogs), FUSION.candidates),
          ...(withCoverage ? { coverage } : {}),
        });
      const rows = await embeddings.countActive(shopId);
      expect(rows).toBeGreaterThan(0);
      for (const [path, body] of [['/v1/search', { catalogId: shopId, query: QUESTION }], ['/v1/context', { catalogId: shopId, question: QUESTION }]] as const) {
        const rebuilding = await request(appOf(covered, true)).post(path).send(body).expect(503);
        expect(rebuilding.body).toMatchObject({ error: { code: 'index_rebuilding', details: { catalogId: shopId, points: 0, rows } } });
        // Without the coverage check it is still the vector store that is unavailable, not a route or catalog not found.
        const unavailable = await request(appOf(plain, false)).post(path).send(body).expect(503);
        expect(unavailable.body).toMatchObject({ error: { code: 'service_unavailable' } });
      }
    });

    it('answers an unknown route with 404 in the error shape', async () => {
      const res = await request(app).post('/v1/nothing').send({}).expect(404);
      expect(res.body).toMatchObject({ error: { code: 'not_found' } });
    });
  });
});
