import { randomUUID } from 'node:crypto';
import { catalogVocabulary, chunkCatalog, contentHash, parseCatalog, type Chunk } from '@catalog-indexer/catalog';
import { documentSparseVector } from '@catalog-indexer/text';
import {
  type CatalogRepository,
  type EmbeddingRepository,
  type IndexRunRepository,
  type NewEmbedding,
} from '@catalog-indexer/db';
import { type Embedder } from '@catalog-indexer/embeddings';
import { type Logger } from '@catalog-indexer/logger';
import { type QdrantStore, type VectorPoint } from '@catalog-indexer/vector-store';
import { StoreSync } from './store-sync';

export interface ReindexOptions {
  jobId?: string | null;
  /** Embed every chunk again, even when its content hash is unchanged. */
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: ReindexProgress) => Promise<void> | void;
}

export interface ReindexProgress {
  phase: 'planning' | 'embedding' | 'activating' | 'verifying';
  embedded: number;
  toEmbed: number;
}

export interface ReindexResult {
  status: 'completed' | 'skipped';
  reason?: string;
  runId?: string;
  chunks: number;
  embedded: number;
  skipped: number;
  deleted: number;
  tokens: number;
}

export interface PipelineDeps {
  catalogs: CatalogRepository;
  embeddings: EmbeddingRepository;
  runs: IndexRunRepository;
  store: QdrantStore;
  embedder: Embedder;
  logger: Logger;
  /** Chunks embedded, written and upserted per step; bounds memory on large catalogs. */
  sliceSize?: number;
}

/**
 * Brings a catalog's index in line with its current content.
 *
 * Order of writes, chosen so that Postgres alone decides what queries see:
 * 1. rows of new or changed chunks are inserted `pending` (invisible), then their points upserted;
 * 2. one transaction makes them `active` and deletes the rows they replace;
 * 3. the replaced points are deleted, and the catalog's points are compared with its rows: points that no
 *    row owns are removed, so a completed run leaves exactly one point per current row.
 * A failure before step 2 deletes what the run wrote (compensating deletes) and leaves the previous index
 * whole; unchanged chunks (same content hash of text, model and size) whose point exists are never
 * embedded again.
 */
export class ReindexService {
  private readonly sync: StoreSync;
  private readonly sliceSize: number;

  constructor(private readonly deps: PipelineDeps) {
    this.sync = new StoreSync(deps.embeddings, deps.store, deps.logger);
    this.sliceSize = deps.sliceSize ?? 512;
  }

  async reindex(catalogId: string, options: ReindexOptions = {}): Promise<ReindexResult> {
    const { catalogs, embeddings, runs, embedder } = this.deps;
    const log = this.deps.logger.child({ catalogId, jobId: options.jobId ?? undefined });
    const catalog = await catalogs.get(catalogId);
    if (!catalog) {
      return { status: 'skipped', reason: 'catalog not found', chunks: 0, embedded: 0, skipped: 0, deleted: 0, tokens: 0 };
    }
    const run = await runs.start(catalogId, 'reindex', options.jobId ?? null, catalog.version);
    const counts = { embedded: 0, skipped: 0, deleted: 0, tokens: 0 };
    const written: string[] = [];
    let activated = false;
    try {
      await options.onProgress?.({ phase: 'planning', embedded: 0, toEmbed: 0 });
      // Leftovers of an attempt that died before activating: pending rows and their points.
      counts.deleted += await this.sync.removePending(catalogId);

      const document = parseCatalog(catalog.document);
      const chunks = chunkCatalog(document, { rejectedKeys: await catalogs.rejectedKeys(catalogId) });
      const vocabulary = catalogVocabulary(document);
      const current = new Map((await embeddings.activeChunks(catalogId)).map((c) => [c.chunkKey, c]));
      // A row whose point is gone (a Qdrant restored from an old snapshot, an emptied collection) is embedded
      // again even when its content is unchanged: a reindex repairs the index, it does not only extend it.
      const points = new Set(await this.deps.store.listIds(catalogId));
      const toEmbed: { chunk: Chunk; hash: string }[] = [];
      const retired: string[] = [];
      const wanted = new Set<string>();
      for (const chunk of chunks) {
        wanted.add(chunk.key);
        const hash = contentHash(chunk.content, embedder.model, embedder.dimensions);
        const existing = current.get(chunk.key);
        if (existing && existing.contentHash === hash && points.has(existing.id) && !options.force) {
          counts.skipped++;
          continue;
        }
        if (existing) retired.push(existing.id);
        toEmbed.push({ chunk, hash });
      }
      for (const [key, row] of current) if (!wanted.has(key)) retired.push(row.id);
      log.info({ runId: run.id, chunks: chunks.length, toEmbed: toEmbed.length, retire: retired.length }, 'reindex planned');

      for (let i = 0; i < toEmbed.length; i += this.sliceSize) {
        options.signal?.throwIfAborted();
        const slice = toEmbed.slice(i, i + this.sliceSize);
        const { vectors, tokens } = await embedder.embed(slice.map((s) => s.chunk.content), options.signal);
        counts.tokens += tokens;
        const rows: NewEmbedding[] = slice.map(({ chunk, hash }) => ({
          id: randomUUID(),
          catalogId,
          kind: chunk.kind,
          chunkKey: chunk.key,
          itemKey: chunk.itemKey,
          content: chunk.content,
          metadata: chunk.metadata as Record<string, unknown>,
          contentHash: hash,
          model: embedder.model,
          dimensions: embedder.dimensions,
          indexRunId: run.id,
        }));
        await embeddings.insertPending(rows);
        written.push(...rows.map((r) => r.id));
        const points: VectorPoint[] = rows.map((row, j) => ({
          id: row.id,
          vector: vectors[j] ?? [],
          sparse: documentSparseVector(row.content, vocabulary),
          payload: {
            catalog_id: catalogId,
            kind: row.kind,
            schema: stringOrNull(row.metadata.schema),
            table: stringOrNull(row.metadata.table),
            column: stringOrNull(row.metadata.column),
            chunk_key: row.chunkKey,
            content_hash: row.contentHash,
          },
        }));
        await this.deps.store.upsert(points);
        counts.embedded += rows.length;
        await options.onProgress?.({ phase: 'embedding', embedded: counts.embedded, toEmbed: toEmbed.length });
      }

      await options.onProgress?.({ phase: 'activating', embedded: counts.embedded, toEmbed: toEmbed.length });
      await embeddings.activate(catalogId, written, retired);
      activated = true;
      counts.deleted += retired.length;

      await options.onProgress?.({ phase: 'verifying', embedded: counts.embedded, toEmbed: toEmbed.length });
      await this.deps.store.deleteIds(retired);
      const check = await this.sync.removeOrphanPoints(catalogId);
      if (check.missingPoints > 0) {
        log.warn({ missingPoints: check.missingPoints }, 'rows without a Qdrant point: a forced reindex restores them');
      }
      await runs.complete(run.id, counts);
      log.info({ runId: run.id, ...counts }, 'reindex completed');
      return { status: 'completed', runId: run.id, chunks: chunks.length, ...counts };
    } catch (error) {
      if (!activated) await this.sync.compensate(catalogId, written);
      await runs.fail(run.id, error instanceof Error ? error.message : String(error), counts).catch((e: unknown) => {
        log.error({ err: e }, 'could not record the failed run');
      });
      throw error;
    }
  }
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
