import { randomUUID } from 'node:crypto';
import { chunkCatalog, flattenItems, type Catalog } from '@catalog-indexer/catalog';
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
import { LocalEmbedder, type Embedder, type EmbeddingResult } from '@catalog-indexer/embeddings';
import { QdrantEmulator } from '@catalog-indexer/emulators';
import { createLogger } from '@catalog-indexer/logger';
import { createTestDatabase, uniqueName, type TestDatabase } from '@catalog-indexer/testing';
import { querySparseVector } from '@catalog-indexer/text';
import { QdrantStore } from '@catalog-indexer/vector-store';
import { CollectionMigrationService, ReindexService, reindexInProcess } from './index';

/** The local embedder, counting the texts it embeds. */
class CountingEmbedder implements Embedder {
  readonly inner = new LocalEmbedder(16);
  readonly provider = this.inner.provider;
  readonly model = this.inner.model;
  readonly dimensions = this.inner.dimensions;
  texts = 0;
  async embed(texts: string[]): Promise<EmbeddingResult> {
    this.texts += texts.length;
    return this.inner.embed(texts);
  }
}

const toNew = (catalog: Catalog) => ({
  name: catalog.name,
  description: catalog.description ?? null,
  document: catalog as unknown as Record<string, unknown>,
  items: flattenItems(catalog),
});

describe(CollectionMigrationService.name, () => {
  const logger = createLogger({ level: 'silent' });
  let db: TestDatabase<DataSource>;
  let qdrant: QdrantEmulator;
  let url: string;

  beforeAll(async () => {
    db = await createTestDatabase((u) => openDataSource({ url: u, poolSize: 4, applicationName: 'test', migrate: true }));
    qdrant = new QdrantEmulator();
    ({ url } = await qdrant.start(0));
  });
  afterAll(async () => {
    await qdrant.stop();
    await db.drop();
  });

  const put = (path: string, body: unknown) =>
    fetch(`${url}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('moves a collection of one unnamed vector to the hybrid layout behind an alias, copying vectors without embedding', async () => {
    const embedder = new CountingEmbedder();
    const catalogs = new CatalogRepository(db.dataSource);
    const embeddings = new EmbeddingRepository(db.dataSource);
    const name = uniqueName('legacy');
    // Index with today's pipeline into a scratch collection, then lay its points out as the old layout did.
    const scratch = new QdrantStore({ url, collection: `${name}-scratch`, dimensions: embedder.dimensions });
    await scratch.ensureCollection();
    const reindex = new ReindexService({
      catalogs,
      embeddings,
      runs: new IndexRunRepository(db.dataSource),
      leases: new LeaseRepository(db.dataSource),
      deletions: new PointDeletionRepository(db.dataSource),
      store: scratch,
      embedder,
      logger,
    });
    const { id: catalogId } = await catalogs.create(toNew(shopCatalog));
    await reindexInProcess(reindex, catalogId);
    const indexed = embedder.texts;
    await put(`/collections/${name}`, { vectors: { size: embedder.dimensions, distance: 'Cosine' } });
    let legacyPoints = 0;
    for await (const page of scratch.scrollPoints()) {
      const points = page.map((p) => ({ id: p.id, vector: (p.vector as { dense: number[] }).dense, payload: p.payload }));
      legacyPoints += points.length;
      await put(`/collections/${name}/points?wait=true`, { points });
    }
    // A point no row owns stays behind.
    await put(`/collections/${name}/points?wait=true`, {
      points: [{ id: randomUUID(), vector: Array.from({ length: embedder.dimensions }, () => 1), payload: { catalog_id: catalogId } }],
    });

    const store = new QdrantStore({ url, collection: name, dimensions: embedder.dimensions, model: embedder.model, provider: embedder.provider });
    await expect(store.ensureCollection()).rejects.toThrow(/one unnamed vector per point.*migration/);
    const migration = new CollectionMigrationService({ catalogs, embeddings, store, logger });
    const result = await migration.migrateLegacy();

    expect(result).toEqual({ migrated: true, copied: legacyPoints, skipped: 1 });
    expect(legacyPoints).toBe(chunkCatalog(shopCatalog).length);
    expect(embedder.texts).toBe(indexed);
    expect(await store.resolve()).toBe(QdrantStore.collectionFor(name, embedder.dimensions));
    // The copied vectors are of no known embedder (the layout before hybrid search did not record one):
    // recorded without a provider, they fit no embedder, and the space switch embeds them again.
    const ensured = await store.ensureCollection();
    expect(ensured.served).toMatchObject({ provider: null, model: embedder.model, dimensions: embedder.dimensions });
    expect(ensured.switchTo).toBe(QdrantStore.collectionFor(name, embedder.dimensions, embedder.model, embedder.provider));
    expect((await store.listIds(catalogId)).sort()).toEqual((await scratch.listIds(catalogId)).sort());
    // The sparse vectors were computed: a lexical-only query finds the refunds table.
    const [top] = await store.search(
      { dense: Array.from({ length: embedder.dimensions }, () => 0.1), sparse: querySparseVector('refunds refunded reason') },
      { catalogId, limit: 1, fusion: { denseWeight: 0, sparseWeight: 1, k: 2, prefetchLimit: 10 } },
    );
    const rows = await embeddings.hydrate([top!.id]);
    expect(rows.get(top!.id)?.content).toMatch(/refund/i);
    expect(await migration.migrateLegacy()).toEqual({ migrated: false, copied: 0, skipped: 0 });
  });

  it('does nothing on a new install or one already on the hybrid layout', async () => {
    const store = new QdrantStore({ url, collection: uniqueName('fresh'), dimensions: 8 });
    const migration = new CollectionMigrationService({
      catalogs: new CatalogRepository(db.dataSource),
      embeddings: new EmbeddingRepository(db.dataSource),
      store,
      logger,
    });
    expect(await migration.migrateLegacy()).toEqual({ migrated: false, copied: 0, skipped: 0 });
    await store.ensureCollection();
    expect(await migration.migrateLegacy()).toEqual({ migrated: false, copied: 0, skipped: 0 });
  });
});
