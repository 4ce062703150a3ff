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
import { QdrantStore } from '@catalog-indexer/vector-store';
import { CleanupService, ReindexService, reindexInProcess } from './index';

/** The local embedder, counting what it is asked and able to fail on demand. */
class ProbeEmbedder implements Embedder {
  readonly inner = new LocalEmbedder(64);
  readonly provider = this.inner.provider;
  readonly model = this.inner.model;
  readonly dimensions = this.inner.dimensions;
  calls = 0;
  texts = 0;
  failOnCall: number | undefined;

  async embed(texts: string[]): Promise<EmbeddingResult> {
    this.calls++;
    if (this.failOnCall === this.calls) throw new Error('embeddings API down');
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

describe(ReindexService.name, () => {
  const logger = createLogger({ level: 'silent' });
  let db: TestDatabase<DataSource>;
  let qdrant: QdrantEmulator;
  let store: QdrantStore;
  let catalogs: CatalogRepository;
  let embeddings: EmbeddingRepository;
  let runs: IndexRunRepository;
  let embedder: ProbeEmbedder;
  let service: ReindexService;
  let leases: LeaseRepository;
  let deletions: PointDeletionRepository;

  const rowIds = async (catalogId: string, status = 'active') =>
    ((await db.dataSource.query<{ id: string }[]>(`SELECT id FROM dq_embeddings WHERE catalog_id = $1 AND status = $2`, [catalogId, status])))
      .map((r) => r.id)
      .sort();
  const pointIds = async (catalogId: string) => (await store.listIds(catalogId)).sort();

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'test', migrate: true }));
    qdrant = new QdrantEmulator();
    const { url } = await qdrant.start(0);
    embedder = new ProbeEmbedder();
    store = new QdrantStore({ url, collection: uniqueName('pipeline'), dimensions: embedder.dimensions, writeAttempts: 2 });
    await store.ensureCollection();
    catalogs = new CatalogRepository(db.dataSource);
    embeddings = new EmbeddingRepository(db.dataSource);
    runs = new IndexRunRepository(db.dataSource);
    leases = new LeaseRepository(db.dataSource);
    deletions = new PointDeletionRepository(db.dataSource);
    // Small batches, one at a time, so that one run makes several embedding calls and upserts in order.
    service = new ReindexService({
      catalogs,
      embeddings,
      runs,
      leases,
      deletions,
      store,
      embedder,
      logger,
      batchMaxInputs: 16,
      inlineConcurrency: 1,
      upsertPatienceMs: 1_500,
    });
  });
  afterAll(async () => {
    await qdrant.stop();
    await db.drop();
  });
  beforeEach(() => {
    embedder.calls = 0;
    embedder.texts = 0;
    embedder.failOnCall = undefined;
    qdrant.resetFaults();
  });

  it('indexes every chunk and leaves exactly one point per current row', async () => {
    const { id } = await catalogs.create(toNew(shopCatalog));
    const result = await reindexInProcess(service, id);
    const chunks = chunkCatalog(shopCatalog);
    expect(result).toMatchObject({ status: 'completed', chunks: chunks.length, embedded: chunks.length, skipped: 0 });
    expect(embedder.texts).toBe(chunks.length);
    const rows = await rowIds(id);
    expect(rows).toHaveLength(chunks.length);
    expect(await pointIds(id)).toEqual(rows);
    expect((await runs.list(id))[0]).toMatchObject({ status: 'completed', embedded: chunks.length });
  });

  it('embeds nothing for an unchanged catalog and only the changed chunks after an edit', async () => {
    const { id } = await catalogs.create(toNew(shopCatalog));
    await reindexInProcess(service, id);
    embedder.calls = 0;
    embedder.texts = 0;
    const again = await reindexInProcess(service, id);
    expect(again).toMatchObject({ embedded: 0, deleted: 0 });
    expect(embedder.calls).toBe(0);

    const edited = structuredClone<Catalog>(shopCatalog);
    const refunds = edited.schemas[0]!.tables.find((t) => t.name === 'refunds')!;
    refunds.columns.find((c) => c.name === 'reason')!.description = 'Why the money went back, as support wrote it.';
    const before = new Map(chunkCatalog(shopCatalog).map((c) => [c.key, c.content]));
    const changed = chunkCatalog(edited).filter((c) => before.get(c.key) !== c.content);
    expect(changed.length).toBeGreaterThan(0);
    await catalogs.replace(id, toNew(edited));
    const result = await reindexInProcess(service, id);
    expect(result).toMatchObject({ embedded: changed.length, deleted: changed.length });
    // The run's record keeps the same counts.
    const unchanged = chunkCatalog(edited).length - changed.length;
    expect(await runs.get(result.runId!)).toMatchObject({ status: 'completed', embedded: changed.length, skipped: unchanged, deleted: changed.length });
    expect(embedder.texts).toBe(changed.length);
    expect(await pointIds(id)).toEqual(await rowIds(id));
  });

  it('embeds again the chunks whose points were lost, and only those', async () => {
    const { id } = await catalogs.create(toNew(shopCatalog));
    await reindexInProcess(service, id);
    const lost = (await rowIds(id)).slice(0, 5);
    await store.deleteIds(lost);
    embedder.texts = 0;
    const result = await reindexInProcess(service, id);
    expect(result).toMatchObject({ embedded: 5, deleted: 5 });
    expect(embedder.texts).toBe(5);
    const rows = await rowIds(id);
    expect(rows.filter((r) => lost.includes(r))).toEqual([]);
    expect(await pointIds(id)).toEqual(rows);
  });

  it('leaves the previous index whole when embedding fails midway, and the next run pays only for the rest', async () => {
    const { id } = await catalogs.create(toNew(shopCatalog));
    await reindexInProcess(service, id);
    const previousRows = await rowIds(id);
    const edited = structuredClone<Catalog>(shopCatalog);
    for (const table of edited.schemas[0]!.tables) table.description = `${table.description ?? ''} (revised)`;
    await catalogs.replace(id, toNew(edited));
    const changed = chunkCatalog(edited).filter((c) => !chunkCatalog(shopCatalog).some((o) => o.key === c.key && o.content === c.content));
    expect(changed.length).toBeGreaterThan(16);
    embedder.calls = 0;
    embedder.texts = 0;
    embedder.failOnCall = 2;
    await expect(reindexInProcess(service, id)).rejects.toThrow('embeddings API down');
    // The previous index stays whole and visible; the first batch is kept as a checkpoint.
    expect(await rowIds(id)).toEqual(previousRows);
    const checkpoints = (
      await db.dataSource.query<{ id: string }[]>(
        `SELECT id FROM dq_embeddings WHERE catalog_id = $1 AND status = 'pending' AND embedded_at IS NOT NULL`,
        [id],
      )
    ).map((r) => r.id);
    expect(checkpoints).toHaveLength(16);
    expect((await runs.list(id))[0]).toMatchObject({ status: 'failed', error: 'embeddings API down' });
    const embeddedBefore = embedder.texts;
    expect(embeddedBefore).toBe(16);
    embedder.texts = 0;
    const result = await reindexInProcess(service, id);
    expect(result.status).toBe('completed');
    expect(embedder.texts).toBe(changed.length - embeddedBefore);
    expect(await rowIds(id, 'pending')).toEqual([]);
    const rows = await rowIds(id);
    expect(checkpoints.every((c) => rows.includes(c))).toBe(true);
    expect(await pointIds(id)).toEqual(rows);
  });

  it('keeps the previous index when Qdrant refuses an upsert for good, and leaves no point without a row', async () => {
    const { id } = await catalogs.create(toNew(shopCatalog));
    await reindexInProcess(service, id);
    const rows = await rowIds(id);
    // The first upsert of the run goes through; the second fails on both of its attempts.
    let upserts = 0;
    const off = qdrant.onExchange((x) => {
      if (x.method === 'PUT' && /\/points$/.test(x.path)) upserts++;
    });
    qdrant.injectFault({ method: 'PUT', path: '/points$', delayMs: 0, times: 1 });
    qdrant.injectFault({ method: 'PUT', path: '/points$', status: 500, message: 'disk full', times: 1_000 });
    await expect(reindexInProcess(service, id, { force: true })).rejects.toThrow(/upsert points failed/);
    qdrant.resetFaults();
    off();
    expect(upserts).toBeGreaterThanOrEqual(2);
    expect(await rowIds(id)).toEqual(rows);
    // Every point is owned by a row: the active ones, or the checkpoint of the batch that went through.
    const owned = [...rows, ...(await rowIds(id, 'pending'))].sort();
    expect((await pointIds(id)).every((p) => owned.includes(p))).toBe(true);
    // A later run finishes the job and leaves exactly one point per current row.
    expect((await reindexInProcess(service, id, { force: true })).status).toBe('completed');
    expect(await rowIds(id, 'pending')).toEqual([]);
    expect(await pointIds(id)).toEqual(await rowIds(id));
  });

  it('waits out a Qdrant outage with the vectors it has, without paying for them again', async () => {
    const { id } = await catalogs.create(toNew(shopCatalog));
    // Both attempts of the store's first upsert fail; the batch keeps its vectors and tries again.
    qdrant.injectFault({ method: 'PUT', path: '/points$', status: 503, message: 'restarting', times: 2 });
    const result = await reindexInProcess(service, id);
    expect(result.status).toBe('completed');
    expect(embedder.texts).toBe(chunkCatalog(shopCatalog).length);
    expect(await pointIds(id)).toEqual(await rowIds(id));
  });

  it('removes the chunks of rejected items at cleanup', async () => {
    const { id } = await catalogs.create(toNew(shopCatalog));
    await reindexInProcess(service, id);
    await catalogs.updateRejections(id, { reject: ['hr'] });
    const cleanup = new CleanupService({ catalogs, embeddings, runs, leases, deletions, store, logger });
    const result = await cleanup.cleanup(id);
    if (result.status !== 'completed') throw new Error('cleanup found the catalog busy');
    const hrChunks = chunkCatalog(shopCatalog).filter((c) => c.metadata.schema === 'hr' || c.key.includes('hr.'));
    expect(result.deleted).toBeGreaterThanOrEqual(hrChunks.length);
    const rows = (await db.dataSource.query<{ chunk_key: string }[]>(`SELECT chunk_key FROM dq_embeddings WHERE catalog_id = $1`, [id]));
    expect(rows.some((r) => r.chunk_key.includes('hr.'))).toBe(false);
    expect(await pointIds(id)).toEqual(await rowIds(id));
  });

  it('removes every row and point of a deleted catalog at cleanup', async () => {
    const { id } = await catalogs.create(toNew(shopCatalog));
    await reindexInProcess(service, id);
    await catalogs.delete(id);
    const cleanup = new CleanupService({ catalogs, embeddings, runs, leases, deletions, store, logger });
    await cleanup.cleanup(id);
    expect(await rowIds(id)).toEqual([]);
    expect(await pointIds(id)).toEqual([]);
  });
});
