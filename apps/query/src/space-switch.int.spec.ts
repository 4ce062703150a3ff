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
import { LocalEmbedder } from '@catalog-indexer/embeddings';
import { QdrantEmulator } from '@catalog-indexer/emulators';
import { createLogger } from '@catalog-indexer/logger';
import { ReindexService, SpaceSwitchService, reindexInProcess } from '@catalog-indexer/pipeline';
import { createTestDatabase, uniqueName, type TestDatabase } from '@catalog-indexer/testing';
import { documentSparseVector } from '@catalog-indexer/text';
import { QdrantReader, QdrantStore } from '@catalog-indexer/vector-store';
import { createApp } from './app';
import { CatalogGraphCache } from './catalog-graph.cache';
import { ContextService } from './context.service';
import { SearchService } from './search.service';
import { ServedSpace } from './served-space';

const FUSION = { denseWeight: 1, sparseWeight: 3, rrfK: 60, candidates: 200 };
const QUESTIONS = ['revenue by region of paid orders', 'customers and their emails', 'which products were shipped', 'order totals per country'];
const OLD = { provider: 'local', model: 'hashing-v1', dimensions: 64 };
const NEW = { provider: 'local', model: 'hashing-v1', dimensions: 96 };

interface Answer {
  status: number;
  results: number;
  path: string;
}

/**
 * A running system moves to another embedding size (new configuration, then the switch the
 * workers carry out) while clients keep asking: no question may go unanswered or come back empty.
 */
describe('switching the embedding size of a running system', () => {
  const logger = createLogger({ level: 'silent' });
  let db: TestDatabase<DataSource>;
  let qdrant: QdrantEmulator;
  let url: string;
  const alias = uniqueName('switch');
  let catalogs: CatalogRepository;
  let embeddings: EmbeddingRepository;
  let leases: LeaseRepository;
  const ids: string[] = [];

  const repositories = () => ({
    catalogs,
    embeddings,
    runs: new IndexRunRepository(db.dataSource),
    leases,
    deletions: new PointDeletionRepository(db.dataSource),
    logger,
  });
  /** A query service as `main.ts` builds it: configured for `configured`, embedding in the served space. */
  const queryApp = (configured: typeof OLD, maxAgeMs: number): { app: Express; spaces: ServedSpace } => {
    const store = new QdrantReader({ url, collection: alias, ...configured });
    const spaces = new ServedSpace(store, (space) => new LocalEmbedder(space.dimensions), maxAgeMs);
    const search = new SearchService(spaces, store, embeddings, FUSION);
    const context = new ContextService(search, new CatalogGraphCache(catalogs), FUSION.candidates);
    return { app: createApp({ logger, dataSource: db.dataSource, store, search, context }), spaces };
  };
  const ask = async (app: Express, n: number): Promise<Answer> => {
    const catalogId = ids[n % ids.length]!;
    const question = QUESTIONS[n % QUESTIONS.length]!;
    const path = n % 2 === 0 ? '/v1/search' : '/v1/context';
    const body = path === '/v1/search' ? { catalogId, query: question, limit: 5 } : { catalogId, question, maxTables: 3 };
    const res = await request(app).post(path).send(body);
    const payload = res.body as { results?: unknown[]; tables?: unknown[] };
    return { status: res.status, results: (payload.results ?? payload.tables ?? []).length, path };
  };
  const activeRows = async () =>
    db.dataSource.query<{ id: string; catalog_id: string; model: string; dimensions: number }[]>(
      `SELECT id, catalog_id, model, dimensions FROM dq_embeddings WHERE status = 'active' ORDER BY id`,
    );

  beforeAll(async () => {
    db = await createTestDatabase((dbUrl) => openDataSource({ url: dbUrl, poolSize: 6, applicationName: 'test', migrate: true }));
    qdrant = new QdrantEmulator();
    url = (await qdrant.start(0)).url;
    catalogs = new CatalogRepository(db.dataSource);
    embeddings = new EmbeddingRepository(db.dataSource);
    leases = new LeaseRepository(db.dataSource);
    // The system as it runs today: the old model and size, two catalogs indexed.
    const store = new QdrantStore({ url, collection: alias, ...OLD });
    await store.ensureCollection();
    const reindex = new ReindexService({ ...repositories(), store, embedder: new LocalEmbedder(OLD.dimensions) });
    for (const name of ['shop', 'shop-copy']) {
      const catalog: Catalog = { ...structuredClone(shopCatalog), name };
      const { id } = await catalogs.create({ name, description: null, document: catalog, items: flattenItems(catalog) });
      await reindexInProcess(reindex, id);
      ids.push(id);
    }
  });
  afterAll(async () => {
    await qdrant.stop();
    await db.drop();
  });

  it('answers every question throughout, then serves the new space from a new collection with the same rows', async () => {
    const before = await activeRows();
    const oldCollection = QdrantStore.collectionFor(alias, OLD.dimensions, OLD.model, OLD.provider);
    // Query processes already restarted with the new configuration: they embed for what is served.
    const live = queryApp(NEW, 20);
    // One that resolved the old collection and keeps it long: it must cope with its disappearance.
    const stale = queryApp(NEW, 60_000);
    expect((await ask(stale.app, 0)).results).toBeGreaterThan(0);
    expect((await stale.spaces.current()).collection).toBe(oldCollection);

    const answers: Answer[] = [];
    let asking = true;
    let n = 0;
    const loop = (async () => {
      while (asking) {
        answers.push(await ask(live.app, n++));
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const answeredBy = () => answers.length;

    // The workers restart with the new configuration: the store names the collection to build.
    const store = new QdrantStore({ url, collection: alias, ...NEW });
    const ensured = await store.ensureCollection();
    expect(ensured.served).toEqual({ collection: oldCollection, ...OLD });
    const target = `${alias}-hybrid-${NEW.dimensions}-local-hashing-v1`;
    expect(ensured.switchTo).toBe(target);
    const spaces = new SpaceSwitchService({ ...repositories(), store, embedder: new LocalEmbedder(NEW.dimensions), batchSize: 8 });
    expect(await spaces.switching(0)).toBe(true);

    // Another writer holds the second catalog: the first is filled, the switch waits for the second.
    const held = await leases.acquire(ids[1]!, 'someone-else', 60_000);
    const waiting = await spaces.run('switch-test');
    expect(waiting).toMatchObject({ state: 'switching', served: oldCollection, target, busy: [ids[1]] });
    expect(await store.resolve()).toBe(oldCollection);
    // A point no row owns in the collection being filled (left by an earlier attempt): filling removes it.
    const stray = randomUUID();
    await store.withCollection(target).upsert([
      {
        id: stray,
        vector: (await new LocalEmbedder(NEW.dimensions).embed(['stray'])).vectors[0]!,
        sparse: documentSparseVector('stray'),
        payload: { catalog_id: ids[1]!, kind: 'table', schema: 'sales', table: 'stray', column: null, chunk_key: 'stray', content_hash: 'stray' },
      },
    ]);
    expect(await store.withCollection(target).listIds(ids[1]!)).toEqual([stray]);
    await leases.release(held!);
    const beforeSwitch = answeredBy();
    const switched = await spaces.run('switch-test');
    expect(switched).toMatchObject({ state: 'switched', from: oldCollection, target });
    expect(await store.resolve()).toBe(target);
    expect(await spaces.switching(0)).toBe(false);

    // Keep asking until the live service has answered several questions from the new collection.
    const until = Date.now() + 10_000;
    while (Date.now() < until && ((await live.spaces.current()).collection !== target || answeredBy() < beforeSwitch + 20)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const afterSwitch = answeredBy();
    // A later run drops the old collection (not one that a switch to yet another space started filling
    // since); questions keep being answered, the stale service included.
    const newer = `${alias}-hybrid-32-yet-another`;
    await new QdrantStore({ url, collection: alias, dimensions: 32, model: 'yet-another' }).createLayout(newer);
    const later = await spaces.run('switch-test');
    expect(later).toEqual({ state: 'current', served: target, dropped: [oldCollection] });
    const staleAnswer = await ask(stale.app, 1);
    while (answeredBy() < afterSwitch + 10 && Date.now() < until + 5_000) await new Promise((r) => setTimeout(r, 20));
    asking = false;
    await loop;

    expect(beforeSwitch).toBeGreaterThan(0);
    expect(answers.length).toBeGreaterThan(afterSwitch);
    expect(answers.filter((a) => a.status !== 200 || a.results === 0)).toEqual([]);
    expect(staleAnswer).toMatchObject({ status: 200 });
    expect(staleAnswer.results).toBeGreaterThan(0);
    expect((await stale.spaces.current()).collection).toBe(target);
    expect((await live.spaces.current()).embedder.dimensions).toBe(NEW.dimensions);

    // Postgres kept its rows (same ids, still active), now recorded in the new space; the new collection
    // holds exactly their points, and the old one is gone.
    const after = await activeRows();
    expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id));
    expect(after.every((r) => r.model === NEW.model && r.dimensions === NEW.dimensions)).toBe(true);
    for (const id of ids) {
      const points = (await store.listIds(id)).sort();
      expect(points).toEqual(after.filter((r) => r.catalog_id === id).map((r) => r.id).sort());
    }
    expect(await store.listCollections()).not.toContain(oldCollection);
    expect(await store.listCollections()).toContain(newer);
    expect((switched as { points: number }).points + (waiting as { points: number }).points).toBe(after.length);

    // A reindex in the new configuration finds every chunk current: nothing is embedded twice.
    const reindex = new ReindexService({ ...repositories(), store, embedder: new LocalEmbedder(NEW.dimensions) });
    const result = await reindexInProcess(reindex, ids[0]!);
    expect(result).toMatchObject({ status: 'completed', embedded: 0, tokens: 0 });
    expect(result.skipped).toBe(result.chunks);
  });
});
