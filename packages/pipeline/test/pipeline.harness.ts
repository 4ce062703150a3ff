import { documentSparseVector } from '@catalog-indexer/text';
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
import { QdrantStore } from '@catalog-indexer/vector-store';
import { CleanupService } from '../src/cleanup.service';
import { reindexInProcess, type ReindexOptions } from '../src/in-process-fan-out';
import { ReconcileService } from '../src/reconcile.service';
import { type OpenOutcome, type ReindexResult, ReindexService, type PipelineDeps, type RunContext } from '../src/reindex.service';

/** The local embedder, counting what it is asked and able to fail on demand. */
export class ProbeEmbedder implements Embedder {
  readonly inner = new LocalEmbedder(64);
  readonly provider = this.inner.provider;
  readonly model = this.inner.model;
  readonly dimensions = this.inner.dimensions;
  calls = 0;
  texts = 0;
  tokens = 0;
  /** The token counts handed over with the texts, by text (null where none was). */
  readonly counts = new Map<string, number | null>();
  failOnCall: number | undefined;
  /** Runs while a request is in flight (after the texts are sent, before the vectors come back). */
  during: ((texts: string[]) => Promise<void>) | undefined;

  async embed(texts: string[], signal?: AbortSignal, counts?: readonly (number | null)[]): Promise<EmbeddingResult> {
    this.calls++;
    if (this.failOnCall === this.calls) throw new Error('embeddings API down');
    this.texts += texts.length;
    texts.forEach((t, i) => this.counts.set(t, counts?.[i] ?? null));
    await this.during?.(texts);
    const result = await this.inner.embed(texts, signal, counts);
    this.tokens += result.tokens;
    return result;
  }

  reset(): void {
    this.calls = 0;
    this.texts = 0;
    this.tokens = 0;
    this.counts.clear();
    this.failOnCall = undefined;
    this.during = undefined;
  }
}

/**
 * The catalog repository with hooks that run after each read of a catalog's rejected keys (a plan reads them)
 * and of its stamp (an activation reads it).
 */
export class HookedCatalogRepository extends CatalogRepository {
  afterRejectedKeys: ((catalogId: string) => Promise<void>) | undefined;
  afterStamp: ((catalogId: string) => Promise<void>) | undefined;

  override async stamp(catalogId: string): ReturnType<CatalogRepository['stamp']> {
    const stamp = await super.stamp(catalogId);
    await this.afterStamp?.(catalogId);
    return stamp;
  }

  override async rejectedKeys(catalogId: string): Promise<Set<string>> {
    const keys = await super.rejectedKeys(catalogId);
    await this.afterRejectedKeys?.(catalogId);
    return keys;
  }
}

/** A catalog as `CatalogRepository.create` and `replace` take it. */
export const toNew = (catalog: Catalog) => ({
  name: catalog.name,
  description: catalog.description ?? null,
  document: catalog as unknown as Record<string, unknown>,
  items: flattenItems(catalog),
});

/** The shop fixture with one column's description changed: exactly one chunk differs. */
export function editedShop(description = 'Why the money went back, as support wrote it.'): Catalog {
  const edited = structuredClone<Catalog>(shopCatalog);
  const refunds = edited.schemas[0]!.tables.find((t) => t.name === 'refunds')!;
  refunds.columns.find((c) => c.name === 'reason')!.description = description;
  return edited;
}

/** The shop fixture without one of its schemas (nothing else refers to `hr`). */
export function shopWithout(schema: string): Catalog {
  const edited = structuredClone<Catalog>(shopCatalog);
  edited.schemas = edited.schemas.filter((s) => s.name !== schema);
  return edited;
}

/**
 * Real Postgres (a database of its own), the Qdrant emulator in process, the local embedder, and the three
 * pipeline services over them, with small batches so that one run makes several embedding calls.
 */
export class PipelineHarness {
  readonly logger = createLogger({ level: 'silent' });
  readonly embedder = new ProbeEmbedder();
  readonly qdrant = new QdrantEmulator();
  db!: TestDatabase<DataSource>;
  /** The emulator's REST address, for stores of other collections or settings. */
  qdrantUrl!: string;
  store!: QdrantStore;
  catalogs!: HookedCatalogRepository;
  embeddings!: EmbeddingRepository;
  runs!: IndexRunRepository;
  leases!: LeaseRepository;
  deletions!: PointDeletionRepository;
  reindex!: ReindexService;
  cleanup!: CleanupService;
  reconcile!: ReconcileService;

  async start(options: Partial<Pick<PipelineDeps, 'leaseTtlMs' | 'batchMaxInputs' | 'batchMaxTokens' | 'inlineConcurrency'>> = {}): Promise<void> {
    this.db = await createTestDatabase((url) => openDataSource({ url, poolSize: 6, applicationName: 'test', migrate: true }));
    const { url } = await this.qdrant.start(0);
    this.qdrantUrl = url;
    this.store = new QdrantStore({ url, collection: uniqueName('pipeline'), dimensions: this.embedder.dimensions, writeAttempts: 2 });
    await this.store.ensureCollection();
    this.catalogs = new HookedCatalogRepository(this.db.dataSource);
    this.embeddings = new EmbeddingRepository(this.db.dataSource);
    this.runs = new IndexRunRepository(this.db.dataSource);
    this.leases = new LeaseRepository(this.db.dataSource);
    this.deletions = new PointDeletionRepository(this.db.dataSource);
    const deps = {
      catalogs: this.catalogs,
      embeddings: this.embeddings,
      runs: this.runs,
      leases: this.leases,
      deletions: this.deletions,
      store: this.store,
      logger: this.logger,
      leaseTtlMs: options.leaseTtlMs,
    };
    this.reindex = new ReindexService({ ...deps, embedder: this.embedder, batchMaxInputs: options.batchMaxInputs ?? 16, batchMaxTokens: options.batchMaxTokens, inlineConcurrency: options.inlineConcurrency ?? 1 });
    this.cleanup = new CleanupService(deps);
    this.reconcile = new ReconcileService(deps);
  }

  /** A whole reindex, conducted as production conducts it, with its batches fanned out in this process. */
  run(catalogId: string, options?: ReindexOptions, service: ReindexService = this.reindex): Promise<ReindexResult> {
    return reindexInProcess(service, catalogId, options);
  }

  /**
   * Takes the catalog's lease for `holder` as a reindex job does and opens a run, leaving the lease held (for
   * tests that take the steps one by one; {@link PipelineHarness.release} gives it back).
   */
  async begin(catalogId: string, holder: string, options: Parameters<ReindexService['open']>[1] = {}): Promise<OpenOutcome | { kind: 'busy' }> {
    const fence = await this.leases.acquire(catalogId, holder, this.reindex.lease.ttlMs);
    if (!fence) return { kind: 'busy' };
    const opened = await this.reindex.open(fence, options);
    if (opened.kind === 'missing') await this.leases.release(fence);
    return opened;
  }

  /**
   * Runs `work` while another transaction holds the rows of one batch of a run (`FOR UPDATE`), as a second
   * execution of the same batch job would; the rows are free again when it returns.
   */
  async whileBatchHeld<T>(runId: string, batch: number, work: () => Promise<T>): Promise<T> {
    const other = this.db.dataSource.createQueryRunner();
    await other.connect();
    await other.startTransaction();
    try {
      await other.query(`SELECT id FROM dq_embeddings WHERE index_run_id = $1 AND batch = $2 FOR UPDATE`, [runId, batch]);
      return await work();
    } finally {
      await other.rollbackTransaction();
      await other.release();
    }
  }

  /** Ends the catalog's lease now, as if its holder had stopped renewing it: the next writer may take it. */
  async expireLease(catalogId: string): Promise<void> {
    await this.db.dataSource.query(`UPDATE catalog_leases SET expires_at = now() - interval '1 second' WHERE catalog_id = $1`, [catalogId]);
  }

  release(run: Pick<RunContext, 'catalogId' | 'fence'>): Promise<void> {
    return this.leases.release({ catalogId: run.catalogId, fence: run.fence });
  }

  async stop(): Promise<void> {
    await this.qdrant.stop();
    await this.db.drop();
  }

  /** Before each test: no faults, counters at zero. */
  reset(): void {
    this.embedder.reset();
    this.qdrant.resetFaults();
    if (this.catalogs) {
      this.catalogs.afterRejectedKeys = undefined;
      this.catalogs.afterStamp = undefined;
    }
  }

  /** The services' shared dependencies, to build a service with other settings over the same stores. */
  deps(): PipelineDeps {
    return { catalogs: this.catalogs, embeddings: this.embeddings, runs: this.runs, leases: this.leases, deletions: this.deletions, store: this.store, embedder: this.embedder, logger: this.logger };
  }

  async createCatalog(catalog: Catalog = shopCatalog): Promise<string> {
    return (await this.catalogs.create(toNew(catalog))).id;
  }

  /** Row ids of the catalog with the given status, sorted. */
  async rowIds(catalogId: string, status: 'active' | 'pending' = 'active'): Promise<string[]> {
    const rows = await this.db.dataSource.query<{ id: string }[]>(
      `SELECT id FROM dq_embeddings WHERE catalog_id = $1 AND status = $2 ORDER BY id`,
      [catalogId, status],
    );
    return rows.map((r) => r.id);
  }

  /** Active rows of the catalog as chunk key → content. */
  async activeContent(catalogId: string): Promise<Map<string, string>> {
    const rows = await this.db.dataSource.query<{ chunk_key: string; content: string }[]>(
      `SELECT chunk_key, content FROM dq_embeddings WHERE catalog_id = $1 AND status = 'active'`,
      [catalogId],
    );
    return new Map(rows.map((r) => [r.chunk_key, r.content]));
  }

  async pointIds(catalogId: string): Promise<string[]> {
    return (await this.store.listIds(catalogId)).sort();
  }

  /** Writes a point of the catalog that no row owns. */
  async strayPoint(catalogId: string, id: string = randomUUID()): Promise<string> {
    const [vector] = (await this.embedder.inner.embed(['a point no row owns'])).vectors;
    await this.store.upsert([
      { id, vector: vector ?? [], sparse: documentSparseVector('a point no row owns'), payload: { catalog_id: catalogId, kind: 'table', schema: null, table: null, column: null, chunk_key: 'table:x.y', content_hash: 'h' } },
    ]);
    return id;
  }

  /** Chunk keys of the catalog as the pipeline plans them (rejected keys excluded). */
  static keys(catalog: Catalog, rejectedKeys?: Set<string>): string[] {
    return chunkCatalog(catalog, rejectedKeys ? { rejectedKeys } : {}).map((c) => c.key).sort();
  }
}
