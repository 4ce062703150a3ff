import { contentHash, parseCatalog } from '@catalog-indexer/catalog';
import { assertFence, type AdoptedRow, type Fence, type LeaseRepository, type PgvectorAdoptionRepository } from '@catalog-indexer/db';
import { type Logger } from '@catalog-indexer/logger';
import { type QdrantStore } from '@catalog-indexer/vector-store';
import {
  AdoptionError,
  IN_PLACE_TABLE,
  LOOPBACK_ONLY,
  checkAdoption,
  openLegacy,
  openSource,
  describeSource,
  requireVerified,
  type AdoptionRequest,
  type LegacyLayout,
  type LegacyRow,
  type LegacySource,
  type ServedSpace,
} from '@catalog-indexer/importer';
import { LeaseSection } from './lease-section';
import { chunkPoint } from './chunk-point';
import { adoptedChunk, adoptedDocument } from './legacy-chunk';
import { runBounded } from './in-process-fan-out';

export interface PgvectorAdoptionDeps {
  adoptions: PgvectorAdoptionRepository;
  leases: LeaseRepository;
  store: QdrantStore;
  logger: Logger;
  space: ServedSpace;
  /** The product's own database: the source of an adoption in place. */
  databaseUrl: string;
  /** `IMPORT_ALLOWED_HOSTS`: the servers a caller's `targetUrl` may name (loopback only when not given). */
  allowedHosts?: readonly string[];
  leaseTtlMs?: number;
  /** Legacy rows read and written per page (default {@link DEFAULT_PAGE_SIZE}). */
  pageSize?: number;
  /** How long the adoption waits for a catalog held by another writer (default 10 min). */
  leaseWaitMs?: number;
}

export interface AdoptionProgress {
  phase: 'copying' | 'verifying' | 'dropping';
  rows: number;
  total: number;
  migrated: number;
}

export interface Verification {
  ok: boolean;
  catalogs: number;
  /** Catalogs whose legacy, product and Qdrant counts differ. */
  countMismatches: { catalogId: string; legacy: number; rows: number; points: number }[];
  vectorsSampled: number;
  /** The lowest cosine similarity between a sampled legacy vector and its point's vector. */
  minCosine: number;
  neighbourQueries: number;
  /** Mean share of pgvector's exact top-10 (same catalog) that Qdrant's top-10 returns. */
  recallAt10: number;
}

export interface AdoptionResult {
  source: string;
  table: string;
  dryRun: boolean;
  rows: number;
  migrated: number;
  /** Rows already adopted by an earlier run (a rerun writes nothing). */
  unchanged: number;
  skipped: { noVector: number; noCatalog: number; wrongSize: number };
  catalogs: number;
  tokens: 0;
  dimensions: number;
  model: string;
  verified: Verification | null;
  dropped: { column: string; extensionDropped: boolean } | null;
}

export interface RollbackResult {
  source: string;
  table: string;
  rows: number;
  restored: number;
  /** Rows without a point in Qdrant (never adopted, or adopted rows retired since). */
  missing: number;
  dimensions: number;
  tokens: 0;
}

const DEFAULT_MODEL = 'text-embedding-3-large';

/** What the copy of one adoption run carries from page to page. */
interface CopyRun {
  model: string;
  dryRun: boolean;
  result: AdoptionResult;
  catalogs: Set<string>;
  leaseOf: (catalogId: string) => Promise<Fence>;
  source: string;
  onProgress: ((p: AdoptionProgress) => Promise<void> | void) | undefined;
}
const VECTOR_SAMPLE = 64;
const NEIGHBOUR_SAMPLE = 16;
const MIN_COSINE = 0.9999;
const MIN_RECALL = 0.95;
/**
 * Rows per page: one upsert request of about 8 MB of JSON at 3072 dimensions (Qdrant advises 64-256 points).
 * Three pages are in flight at once; larger pages copy no faster and hold more memory.
 */
export const DEFAULT_PAGE_SIZE = 128;

/**
 * Adopts the embeddings of a pgvector-era table without embedding anything: each legacy row becomes a
 * Qdrant point with the same id and vector and an active row of the product with its text, kind and
 * metadata; each legacy catalog id becomes an *adopted* catalog. Reads in keyset pages, one page in memory
 * at a time; writes each page's points, then its rows (fenced by the catalog's lease), then the checkpoint,
 * so a killed run resumes after its last page and a rerun finds every row adopted and writes nothing.
 * Then verifies counts, vectors and exact neighbours, and on request drops the legacy vector column.
 */
export class PgvectorAdoptionService {
  private readonly section: LeaseSection;

  constructor(private readonly deps: PgvectorAdoptionDeps) {
    this.section = new LeaseSection(deps);
  }

  /** See {@link checkAdoption}. */
  check(request: AdoptionRequest): Promise<{ source: string; layout: LegacyLayout }> {
    return checkAdoption(this.deps, request);
  }

  /** The whole adoption (see the class comment). `holder` names the writer in the catalogs' leases. */
  async adopt(request: AdoptionRequest, holder: string, onProgress?: (p: AdoptionProgress) => Promise<void> | void): Promise<AdoptionResult> {
    const { db, source, layout, close } = await openLegacy(this.deps, request);
    try {
      const model = request.model ?? DEFAULT_MODEL;
      const dryRun = request.dryRun ?? false;
      const result: AdoptionResult = {
        source,
        table: layout.table,
        dryRun,
        rows: 0,
        migrated: 0,
        unchanged: 0,
        skipped: { noVector: 0, noCatalog: 0, wrongSize: 0 },
        catalogs: 0,
        tokens: 0,
        dimensions: layout.dimensions,
        model,
        verified: null,
        dropped: null,
      };
      if (request.dropLegacy && !dryRun) await requireVerified(this.deps, db, source, layout);
      const catalogs = new Set<string>();
      await this.withLeases(holder, dryRun, async (leaseOf) => {
        const record = dryRun ? null : await this.deps.adoptions.begin(source, { model, dimensions: layout.dimensions });
        // A resumed run continues after its checkpoint with the counts it had; rows before it are all written.
        const after = record?.lastId ?? null;
        if (record?.lastId) Object.assign(result, pickCounts(record.counts));
        const last = await this.copy(db, layout, after, { model, dryRun, result, catalogs, leaseOf, source, onProgress });
        result.catalogs = catalogs.size;
        if (dryRun) return;
        await this.deps.adoptions.checkpoint(source, last ?? '00000000-0000-0000-0000-000000000000', countsOf(result));
        await this.deps.adoptions.rewind(source);
        // Every catalog of the source, also those a resumed run copied before its checkpoint.
        const all = layout.has.catalog_id ? [...(await db.migratableCounts(layout)).keys()] : [];
        await this.describe([...new Set([...all, ...catalogs])], leaseOf);
        await onProgress?.({ phase: 'verifying', rows: result.rows, total: layout.rows, migrated: result.migrated });
        result.verified = await this.verify(db, layout);
        result.catalogs = result.verified.catalogs;
        await this.deps.adoptions.setVerified(source, { ...result.verified, rows: result.rows, migratable: result.migrated + result.unchanged });
      });
      if (request.dropLegacy && !dryRun) {
        if (!result.verified?.ok) {
          throw new AdoptionError('adoption_not_verified', `the copy of ${source} ${layout.table} did not verify; the legacy column was kept`, result.verified);
        }
        await onProgress?.({ phase: 'dropping', rows: result.rows, total: layout.rows, migrated: result.migrated });
        const dropped = await db.dropVectorColumn(layout);
        await this.deps.adoptions.setDropped(source);
        result.dropped = { column: layout.column, ...dropped };
      }
      this.deps.logger.info({ ...result, verified: result.verified?.ok ?? null }, dryRun ? 'pgvector adoption dry run' : 'pgvector adoption done');
      return result;
    } finally {
      await close();
    }
  }

  /**
   * Writes the vectors back from Qdrant into a `vector(n)` column of the legacy table (recreating the
   * extension and the column when they were dropped), so the pgvector-era application runs again.
   */
  async rollback(request: { targetUrl?: string | null; table?: string }, onProgress?: (p: { rows: number; restored: number }) => Promise<void> | void): Promise<RollbackResult> {
    const url = request.targetUrl ?? this.deps.databaseUrl;
    const table = request.table ?? (request.targetUrl ? 'dq_embeddings' : IN_PLACE_TABLE);
    const db = await openSource(url, request.targetUrl ? { allowedHosts: this.deps.allowedHosts ?? LOOPBACK_ONLY } : {});
    try {
      const source = `${describeSource(url)} ${table}`;
      const record = await this.deps.adoptions.record(source);
      const dimensions = record?.dimensions ?? this.deps.store.dimensions;
      await db.ensureVectorColumn(table, 'embedding', dimensions);
      const result: RollbackResult = { source, table, rows: 0, restored: 0, missing: 0, dimensions, tokens: 0 };
      let after: string | null = null;
      for (;;) {
        const ids = await db.ids(table, after, this.deps.pageSize ?? DEFAULT_PAGE_SIZE);
        if (ids.length === 0) break;
        after = ids[ids.length - 1] ?? after;
        const vectors = await this.deps.store.denseVectors(ids);
        const found = [...vectors].filter(([, v]) => v.length === dimensions).map(([id, vector]) => ({ id, vector }));
        result.rows += ids.length;
        result.restored += await db.writeVectors(table, 'embedding', found);
        result.missing += ids.length - found.length;
        await onProgress?.({ rows: result.rows, restored: result.restored });
      }
      this.deps.logger.info(result, 'pgvector rollback done');
      return result;
    } finally {
      await db.close();
    }
  }

  /**
   * Copies the table from after `after` to its end, three pages at a time in different stages: the next
   * page is read while this page's points are written to Qdrant and the previous page's rows are committed
   * (then its checkpoint). Points of a page are written before its rows, and rows and checkpoints in page
   * order, so a run killed anywhere leaves at worst points that the next run writes again (same id, same
   * vector), never a row without its point or a checkpoint past an unwritten row. Answers the last id read.
   */
  private async copy(db: LegacySource, layout: LegacyLayout, after: string | null, run: CopyRun): Promise<string | null> {
    const pageSize = this.deps.pageSize ?? DEFAULT_PAGE_SIZE;
    const read = (from: string | null) => db.page(layout, from, pageSize);
    let last = after;
    let next = settle(read(last));
    let committing: Promise<void> = Promise.resolve();
    try {
      for (;;) {
        const page = await next.value();
        if (page.length === 0) break;
        last = page[page.length - 1]?.id ?? last;
        next = settle(read(last));
        const { rows, fences } = await this.writePoints(page, layout, run);
        const counts = countsOf(run.result);
        const progress: AdoptionProgress = { phase: 'copying', rows: run.result.rows, total: layout.rows, migrated: run.result.migrated };
        const checkpoint = last;
        await committing;
        committing = (async () => {
          if (rows.length > 0) await this.commitRows(rows, fences);
          if (!run.dryRun && checkpoint) await this.deps.adoptions.checkpoint(run.source, checkpoint, counts);
          await run.onProgress?.(progress);
        })();
        // Observed at once so that a failure while the next page is written is never an unhandled rejection.
        committing.catch(() => undefined);
      }
      await committing;
      return last;
    } finally {
      await committing.catch(() => undefined);
      await next.value().catch(() => undefined);
    }
  }

  /**
   * One page: classify its rows, take the leases of the catalogs its new rows belong to, and write their
   * points in one batched upsert. Answers the rows to commit and the fences they are committed under.
   */
  private async writePoints(page: LegacyRow[], layout: LegacyLayout, run: CopyRun): Promise<{ rows: AdoptedRow[]; fences: Fence[] }> {
    const { result } = run;
    result.rows += page.length;
    const candidates: (LegacyRow & { catalogId: string; vector: Float32Array })[] = [];
    for (const row of page) {
      if (!row.vector) result.skipped.noVector++;
      else if (!row.catalogId) result.skipped.noCatalog++;
      else if (row.vector.length !== layout.dimensions) result.skipped.wrongSize++;
      else candidates.push(row as LegacyRow & { catalogId: string; vector: Float32Array });
    }
    for (const row of candidates) run.catalogs.add(row.catalogId);
    const existing = await this.deps.adoptions.existingIds(candidates.map((r) => r.id));
    const fresh = candidates.filter((r) => !existing.has(r.id));
    result.unchanged += candidates.length - fresh.length;
    result.migrated += fresh.length;
    if (run.dryRun || fresh.length === 0) return { rows: [], fences: [] };
    // Leases in catalog order, so two adoptions never wait on each other crosswise.
    const fences: Fence[] = [];
    for (const catalogId of [...new Set(fresh.map((r) => r.catalogId))].sort()) fences.push(await run.leaseOf(catalogId));
    const identity = { provider: 'openai' as const, model: run.model, dimensions: layout.dimensions };
    const rows: AdoptedRow[] = [];
    const points = fresh.map((r) => {
      const { kind, metadata } = adoptedChunk(r);
      const row: AdoptedRow = { id: r.id, catalogId: r.catalogId, kind, content: r.content, metadata, contentHash: contentHash(r.content, identity), model: run.model, dimensions: layout.dimensions };
      rows.push(row);
      return chunkPoint(r.catalogId, { ...row, chunkKey: `pgvector:${r.id}` }, row.contentHash, r.vector, undefined);
    });
    await this.deps.store.upsert(points);
    return { rows, fences };
  }

  /** Commits a page's rows (and their adopted catalogs) in one transaction that proves every fence first. */
  private async commitRows(rows: AdoptedRow[], fences: Fence[]): Promise<void> {
    const [first, ...others] = fences;
    if (!first) return;
    await this.deps.leases.fenced(first, async (m) => {
      for (const fence of others) await assertFence(m, fence);
      await this.deps.adoptions.ensureCatalogs(m, fences.map((f) => f.catalogId));
      await this.deps.adoptions.insertAdopted(m, rows);
    });
  }

  /**
   * Gives each adopted catalog still without its real document the schemas, tables and columns its adopted
   * rows name, so that `/v1/context` can show them; a catalog whose document is unchanged is not written.
   */
  private async describe(catalogIds: readonly string[], leaseOf: (catalogId: string) => Promise<Fence>): Promise<void> {
    for (const catalogId of await this.deps.adoptions.stillAdopted(catalogIds)) {
      const items = await this.deps.adoptions.namedItems(catalogId);
      const name = `pgvector ${catalogId.slice(0, 8)}`;
      let document: Record<string, unknown> = adoptedDocument(name, 'Adopted from a pgvector table', items);
      try {
        parseCatalog(document);
      } catch (error) {
        this.deps.logger.warn({ catalogId, err: error }, 'the names of the adopted rows do not make a valid catalog; the adopted catalog keeps no tables');
        document = { name, description: 'Adopted from a pgvector table', schemas: [] };
      }
      const fence = await leaseOf(catalogId);
      await this.deps.leases.fenced(fence, (m) => this.deps.adoptions.describeAdopted(m, catalogId, document));
    }
  }

  /** Counts per catalog, a sample of vectors, and exact top-10 neighbours against Qdrant's. */
  private async verify(db: LegacySource, layout: LegacyLayout): Promise<Verification> {
    const legacy = layout.has.catalog_id ? await db.migratableCounts(layout) : new Map<string, number>();
    const ids = [...legacy.keys()];
    const rows = await this.deps.adoptions.adoptedCounts(ids);
    const countMismatches: Verification['countMismatches'] = [];
    for (const [catalogId, n] of legacy) {
      const points = await this.deps.store.count(catalogId);
      const adopted = rows.get(catalogId) ?? 0;
      if (adopted !== n || points < n) countMismatches.push({ catalogId, legacy: n, rows: adopted, points });
    }
    const sample = await db.sample(layout, VECTOR_SAMPLE);
    const stored = await this.deps.store.denseVectors(sample.map((s) => s.id));
    let minCosine = 1;
    for (const s of sample) {
      const v = stored.get(s.id);
      minCosine = Math.min(minCosine, v ? cosine(s.vector, v) : 0);
    }
    let recall = 0;
    const queries = sample.slice(0, NEIGHBOUR_SAMPLE);
    // Each exact search scans its catalog's vectors in Postgres: two at a time, one for each connection of
    // the source's pool.
    await runBounded(queries, 2, async (q) => {
      const [exact, nearest] = await Promise.all([db.exactNeighbours(layout, q.catalogId, q.vector, 10), this.deps.store.nearestDense(q.catalogId, Array.from(q.vector), 10)]);
      const found = new Set(nearest);
      recall += exact.length === 0 ? 1 : exact.filter((id) => found.has(id)).length / exact.length;
    });
    const recallAt10 = queries.length > 0 ? recall / queries.length : 1;
    return {
      ok: countMismatches.length === 0 && minCosine >= MIN_COSINE && recallAt10 >= MIN_RECALL,
      catalogs: legacy.size,
      countMismatches: countMismatches.slice(0, 20),
      vectorsSampled: sample.length,
      minCosine: round(minCosine),
      neighbourQueries: queries.length,
      recallAt10: round(recallAt10),
    };
  }

  /**
   * The adoption's one use of catalog leases: `work` gets a function that takes (waiting while another
   * writer holds it) and keeps alive the lease of each catalog it writes; all are released in every outcome.
   */
  private async withLeases<T>(holder: string, dryRun: boolean, work: (leaseOf: (catalogId: string) => Promise<Fence>) => Promise<T>): Promise<T> {
    if (dryRun) return work(() => Promise.reject(new Error('a dry run takes no lease')));
    return this.section.withLeasesOf(holder, this.deps.leaseWaitMs ?? 10 * 60_000, work);
  }
}

/** A promise whose rejection is held until {@link value} is awaited (a read started ahead of its use). */
function settle<T>(promise: Promise<T>): { value: () => Promise<T> } {
  promise.catch(() => undefined);
  return { value: () => promise };
}

function pickCounts(counts: Record<string, unknown>): Partial<AdoptionResult> {
  const out: Partial<AdoptionResult> = {};
  if (typeof counts.rows === 'number') out.rows = counts.rows;
  if (typeof counts.migrated === 'number') out.migrated = counts.migrated;
  if (typeof counts.unchanged === 'number') out.unchanged = counts.unchanged;
  if (isRecord(counts.skipped)) out.skipped = { ...(counts.skipped as AdoptionResult['skipped']) };
  return out;
}

function countsOf(r: AdoptionResult): Record<string, unknown> {
  // A snapshot: the next page's counting must not change what this page's checkpoint records.
  return { rows: r.rows, migrated: r.migrated, unchanged: r.unchanged, skipped: { ...r.skipped } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
