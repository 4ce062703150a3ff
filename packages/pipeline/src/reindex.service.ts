import { randomUUID } from 'node:crypto';
import { contentHash, type Chunk } from '@catalog-indexer/catalog';
import {
  ADOPTED_CHUNK_PREFIX,
  type CatalogRepository,
  type EmbeddingRepository,
  type Fence,
  assertFence,
  type IndexRunRepository,
  type LeaseRepository,
  type NewEmbedding,
  type PointDeletionRepository,
} from '@catalog-indexer/db';
import { countTokens, spreadBatches, type Embedder } from '@catalog-indexer/embeddings';
import { type Logger } from '@catalog-indexer/logger';
import { STORE_OUTAGE_BACKOFF, backoffDelay } from '@catalog-indexer/retry';
import { isPermanentStoreError, type QdrantStore, type VectorPoint } from '@catalog-indexer/vector-store';
import { type HolderLiveness } from './catalog-lease';
import { CatalogReadings, type StoredCatalog } from './catalog-readings';
import { chunkPoint, pointsWithoutVectors } from './chunk-point';
import { forgetDeletedCatalog } from './forget-catalog';
import { LeaseSection } from './lease-section';
import { StoreSync } from './store-sync';

export interface ReindexResult {
  status: 'completed' | 'skipped' | 'abandoned';
  reason?: string;
  runId?: string;
  chunks: number;
  embedded: number;
  skipped: number;
  deleted: number;
  tokens: number;
  /** The reindex asked for when this run was abandoned to another writer. */
  followUp?: string;
  /** Tokens of every embedding call made for the run, retries and attempts whose work was lost included. */
  tokensBilled?: number;
}

/** One run of one catalog as the jobs of a fanned-out reindex carry it. */
export interface RunContext {
  catalogId: string;
  runId: string;
  fence: number;
  force: boolean;
  jobId: string | null;
}

export type OpenOutcome = { kind: 'missing' } | { kind: 'ready'; run: RunContext; version: number };

export type PlanOutcome =
  | { kind: 'missing' }
  | { kind: 'planned'; version: number; chunks: number; skipped: number; reused: number; toEmbed: number; batches: number[] };

export type ActivateOutcome =
  /** `batches`: some batches failed for good (the API refused them); `changed`: the catalog was replaced. */
  | { kind: 'replan'; cause: 'batches' | 'changed'; reason: string }
  | { kind: 'abandoned'; reason: string; result: ReindexResult }
  | { kind: 'completed'; result: ReindexResult };

export interface BatchResult {
  status: 'embedded' | 'nothing-to-do' | 'catalog-deleted' | 'busy';
  embedded: number;
  tokens: number;
  /** Tokens this attempt paid for (recorded on the run at once, even when the attempt then fails). */
  tokensBilled?: number;
}

export interface PipelineDeps {
  catalogs: CatalogRepository;
  embeddings: EmbeddingRepository;
  runs: IndexRunRepository;
  leases: LeaseRepository;
  deletions: PointDeletionRepository;
  store: QdrantStore;
  embedder: Embedder;
  logger: Logger;
  /** How long a catalog lease lives without renewal (see {@link DEFAULT_LEASE_TTL_MS}). */
  leaseTtlMs?: number;
  /** Whether the holder of an expired lease is still at work (see `LeaseDeps.liveness`). */
  liveness?: HolderLiveness;
  /** The most inputs and tokens one batch job embeds (one embeddings request when within the API's limits). */
  batchMaxInputs?: number;
  batchMaxTokens?: number;
  /**
   * Batch jobs that can run at once across the workers (processes × jobs per process), read when a run
   * plans: its batches are sized to keep them all busy (see `spreadBatches`). Without it, batches are packed
   * as full as the limits allow.
   */
  slots?: () => Promise<number>;
  /** Most batches one plan may make (what the requests-per-minute limit allows), unless the limits need more. */
  maxBatches?: number;
  /** Batches embedded at once when a run fans out in this process (see {@link InProcessFanOut}). */
  inlineConcurrency?: number;
  /** How long a batch keeps its vectors and retries the upsert through a Qdrant outage (default 5 min). */
  upsertPatienceMs?: number;
}

/**
 * Brings a catalog's index in line with its current content, as steps that any worker process may run (the
 * {@link ReindexOrchestrator} conducts them):
 *
 * 1. **open**: under the catalog's lease (one writer per catalog; its fence guards every write), open a run.
 * 2. **plan**: chunk the catalog; skip chunks whose active row has the same content hash (text and the embedder's
 *    provider, model and size) and whose point exists; reuse embedded `pending` rows of earlier attempts with the same hash
 *    (checkpoints: their tokens are not paid again; an abandoned run's stay for the next run, and a forced run
 *    reuses those of its own job); write the rest as planned `pending` rows in numbered
 *    batches, each with its text's token count. Unembedded leftovers of earlier attempts are dropped and planned again.
 *    The run records the version's words (for its batches) and the active rows no chunk keeps (for its activation),
 *    so that no other step, in whichever process, reads and chunks the catalog again.
 * 3. **embed a batch** (any process, concurrently): embed the batch's rows (with the counts the plan kept, so the
 *    process need not count them again), upsert their points
 *    (`wait=true`), mark the rows embedded.
 * 4. **activate** (once every batch is done): in one fenced transaction, holding the catalog row, check that
 *    the catalog still exists and is the version planned: then make the run's rows `active` and remove the
 *    rows they replace and those of chunks gone from the catalog (as the plan recorded them), recording their points in the delete
 *    outbox. A replaced catalog is planned again (checkpoints kept); a deleted one is abandoned and its
 *    pending rows removed.
 * 5. **verify**: delete the outbox's points, then delete any point of the catalog that no row owns.
 *
 * Postgres alone decides what queries see: pending rows are invisible, and hydration drops points without
 * an active row. A run that fails before activating leaves the previous index whole.
 */
export class ReindexService {
  readonly lease: LeaseSection;
  readonly sync: StoreSync;
  /** Batches embedded at once when a run fans out in this process. */
  readonly inlineConcurrency: number;
  private readonly batchMaxInputs: number;
  private readonly batchMaxTokens: number;
  /** Parsed catalogs, their chunks and vocabularies, shared by the steps of runs in this process. */
  private readonly readings = new CatalogReadings();
  /** The words batches split compound names against, by run and planned catalog version (see {@link vocabularyOf}). */
  private readonly vocabularies = new Map<string, Promise<ReadonlySet<string> | null>>();

  constructor(private readonly deps: PipelineDeps) {
    this.lease = new LeaseSection(deps);
    this.inlineConcurrency = deps.inlineConcurrency ?? 3;
    this.sync = new StoreSync(deps.embeddings, deps.deletions, deps.store, deps.logger);
    this.batchMaxInputs = deps.batchMaxInputs ?? 256;
    this.batchMaxTokens = deps.batchMaxTokens ?? 100_000;
  }

  /**
   * Opens a run of the catalog under the lease `fence` (or continues `runId`, a retried job's run). Other
   * runs of the catalog still marked running lost their holders: they are marked abandoned.
   */
  async open(fence: Fence, options: { jobId?: string | null; force?: boolean; runId?: string | null }): Promise<OpenOutcome> {
    const { catalogs, runs } = this.deps;
    const { catalogId } = fence;
    const catalog = await catalogs.get(catalogId);
    // An adopted catalog has no document yet: its adopted rows are its index until its document is stored.
    if (!catalog || catalog.adoptedFrom) return { kind: 'missing' };
    let runId = options.runId ?? null;
    if (runId) {
      const existing = await runs.get(runId);
      if (existing?.status !== 'running') runId = null;
    }
    runId ??= (await runs.start(catalogId, 'reindex', options.jobId ?? null, catalog.version)).id;
    const abandoned = await runs.abandonOthers(catalogId, runId, 'superseded: its holder stopped and another writer took the catalog');
    if (abandoned > 0) this.deps.logger.info({ catalogId, abandoned }, 'runs of a lost holder marked abandoned');
    return {
      kind: 'ready',
      version: catalog.version,
      run: { catalogId, runId, fence: fence.fence, force: options.force ?? false, jobId: options.jobId ?? null },
    };
  }

  /** Plans the run's work as numbered batches of pending rows. See the class comment, step 2. */
  async plan(run: RunContext): Promise<PlanOutcome> {
    const { catalogs, embeddings, embedder } = this.deps;
    // What the index holds is read while the catalog is read and chunked: the plan holds the catalog's lease,
    // so no other writer changes its rows or points meanwhile, and the order of the reads does not matter.
    const held = Promise.all([embeddings.activeChunks(run.catalogId), embeddings.pendingChunks(run.catalogId), this.deps.store.listIds(run.catalogId)]);
    held.catch(() => undefined); // awaited below, unless the plan ends first
    const [catalog, rejected] = await Promise.all([catalogs.get(run.catalogId), catalogs.rejectedKeys(run.catalogId)]);
    if (!catalog) return { kind: 'missing' };
    const chunks = this.readings.chunks(catalog, rejected);
    const [activeRows, pending, pointIds] = await held;
    const active = new Map(activeRows.map((c) => [c.chunkKey, c]));
    const points = new Set(pointIds);

    // A checkpoint is an embedded pending row whose point exists. A forced run reuses only those of its job:
    // its own, and those of runs the job had to abandon before starting over (embedded after it was asked for).
    const ownRuns = new Set([run.runId, ...(run.force && run.jobId ? await this.deps.runs.idsOfJob(run.catalogId, run.jobId) : [])]);
    const checkpoints = new Map<string, { id: string; contentHash: string }>();
    for (const p of pending) {
      if (p.embedded && points.has(p.id) && (!run.force || (p.indexRunId !== null && ownRuns.has(p.indexRunId)))) checkpoints.set(p.chunkKey, p);
    }
    const adopt: string[] = [];
    const toEmbed: { chunk: Chunk; hash: string }[] = [];
    // Rows adopted from pgvector, by content hash: a chunk of the same text, model and size takes one over.
    const adoptedRows = new Map<string, string>();
    for (const c of active.values()) if (c.chunkKey.startsWith(ADOPTED_CHUNK_PREFIX) && points.has(c.id)) adoptedRows.set(c.contentHash, c.id);
    const rekey: { id: string; chunk: Chunk; hash: string }[] = [];
    let skipped = 0;
    for (const chunk of chunks) {
      const hash = contentHash(chunk.content, embedder);
      const existing = active.get(chunk.key);
      // A row whose point is gone (a Qdrant restored from an old snapshot, an emptied collection) is embedded
      // again even when its content is unchanged: a reindex repairs the index, it does not only extend it.
      if (existing && existing.contentHash === hash && points.has(existing.id) && !run.force) {
        skipped++;
        continue;
      }
      const adoptedId = existing ? undefined : adoptedRows.get(hash);
      if (adoptedId && !run.force) {
        adoptedRows.delete(hash);
        rekey.push({ id: adoptedId, chunk, hash });
        skipped++;
        continue;
      }
      const checkpoint = checkpoints.get(chunk.key);
      if (checkpoint && checkpoint.contentHash === hash) {
        adopt.push(checkpoint.id);
        continue;
      }
      toEmbed.push({ chunk, hash });
    }
    const adopted = new Set(adopt);
    const drop = pending.filter((p) => !adopted.has(p.id)).map((p) => p.id);
    const rows = this.batchRows(run, toEmbed, await this.slots());
    // The words of this version (kept with the reading), recorded with the run for the processes that embed its batches.
    const vocabulary = this.readings.vocabulary(catalog);
    const takenOver = await this.takeOverAdopted(run, rekey, vocabulary);
    // The active rows no chunk of this version keeps (chunks gone, adopted rows no chunk took): the activation
    // removes them with the rows this run's rows replace, without chunking the catalog again.
    const keys = new Set(chunks.map((c) => c.key));
    const retire: string[] = [];
    for (const c of active.values()) if (!keys.has(c.chunkKey) && !takenOver.has(c.id)) retire.push(c.id);

    await this.deps.leases.fenced(this.fence(run), async (m) => {
      await embeddings.removeRows(m, run.catalogId, drop);
      await embeddings.adopt(m, run.catalogId, adopt, run.runId);
      await embeddings.insertPending(rows, m, { embedded: false });
    });
    await this.deps.runs.setPlanned(run.runId, catalog.version, { vocabulary: [...vocabulary], retirement: { chunks: chunks.length, retire } });
    void this.keepVocabulary(`${run.runId}:${catalog.version}`, Promise.resolve(vocabulary));
    // Batches are contiguous runs of rows numbered in order (see `spreadBatches`): their numbers come sorted.
    const batches = [...new Set(rows.map((r) => r.batch ?? 0))];
    this.deps.logger.info(
      { catalogId: run.catalogId, runId: run.runId, version: catalog.version, chunks: chunks.length, skipped, reused: adopt.length, dropped: drop.length, toEmbed: toEmbed.length, batches: batches.length },
      'reindex planned',
    );
    return { kind: 'planned', version: catalog.version, chunks: chunks.length, skipped, reused: adopt.length, toEmbed: toEmbed.length, batches };
  }

  /**
   * Gives adopted rows whose text, model and size equal a chunk's that chunk's key, kind and metadata (row
   * and point payload), keeping their ids and vectors: no embedding. Adopted rows no chunk takes are
   * retired by the activation, like the rows of chunks gone from a catalog.
   */
  private async takeOverAdopted(run: RunContext, rekey: { id: string; chunk: Chunk; hash: string }[], vocabulary: ReadonlySet<string>): Promise<Set<string>> {
    if (rekey.length === 0) return new Set();
    const vectors = await this.deps.store.denseVectors(rekey.map((r) => r.id));
    const found = rekey.filter((r) => vectors.has(r.id));
    const source = (r: (typeof rekey)[number]) => ({ id: r.id, kind: r.chunk.kind, chunkKey: r.chunk.key, content: r.chunk.content, metadata: r.chunk.metadata as Record<string, unknown> });
    await this.upsertPatiently(found.map((r) => chunkPoint(run.catalogId, source(r), r.hash, vectors.get(r.id), vocabulary)));
    await this.deps.leases.fenced(this.fence(run), async (m) => {
      for (const r of found) {
        await m.query(`UPDATE dq_embeddings SET chunk_key = $2, item_key = $3, kind = $4, metadata = $5, updated_at = now() WHERE id = $1`, [
          r.id,
          r.chunk.key,
          r.chunk.itemKey,
          r.chunk.kind,
          JSON.stringify(r.chunk.metadata),
        ]);
      }
    });
    return new Set(found.map((r) => r.id));
  }

  /**
   * Embeds one planned batch and writes its points, then marks its rows embedded (a checkpoint), all while
   * holding the batch's rows (see {@link EmbeddingRepository.claimBatch}). A batch whose rows are already
   * embedded does nothing; one that another execution holds answers `busy`; a batch of a deleted catalog is
   * not paid for. Once embedded, the points are written with patience (Qdrant outages of minutes are
   * waited out with the vectors in memory) so that an outage does not cost the tokens again.
   */
  async embedBatch(run: Pick<RunContext, 'catalogId' | 'runId' | 'fence'>, batch: number, signal?: AbortSignal): Promise<BatchResult> {
    const { embeddings, embedder } = this.deps;
    const fence = this.fence(run);
    const outcome = await embeddings.claimBatch(run.runId, batch, async (rows, m) => {
      const vocabulary = await this.vocabularyOf(run);
      if (!vocabulary) return { status: 'catalog-deleted' as const, embedded: 0, tokens: 0 };
      // Cheap check before paying for tokens: a holder that lost the lease stops here.
      await this.lease.assertHeld(fence);
      // The counts the plan took travel with the rows: this process need not count the texts again.
      const embedding = embedder.embed(
        rows.map((r) => r.content),
        signal,
        rows.map((r) => r.tokens),
      );
      // A point's sparse vector and payload need no dense vector: they are made while the request is out.
      const made = pointsWithoutVectors(run.catalogId, rows, vocabulary);
      made.catch(() => undefined); // awaited below, once the request is paid for
      const { vectors, tokens } = await embedding;
      // Paid now, whatever becomes of this attempt: the run's billed tokens count retries and lost work too.
      await this.deps.runs.add(run.runId, { tokensBilled: tokens });
      const points = await made;
      points.forEach((point, j) => (point.vector = vectors[j] ?? []));
      // Nothing is written for a run that was stopped or lost its lease while the batch was being embedded.
      signal?.throwIfAborted();
      await this.lease.assertHeld(fence);
      await this.upsertPatiently(points, signal);
      // Another writer took the catalog while the points were written (a cleanup of a deleted catalog, or a
      // run that replaced this one): no row will own them, so they go at once rather than at a reconcile.
      await assertFence(m, fence).catch(async (error: unknown) => {
        await this.removePoints(run.catalogId, rows.map((r) => r.id));
        throw error;
      });
      await embeddings.markEmbedded(m, rows.map((r) => r.id));
      // Counted with the checkpoint, in its transaction: a run's tokens are those of the chunks it embedded.
      await this.deps.runs.add(run.runId, { embedded: rows.length, tokens }, m);
      return { status: 'embedded' as const, embedded: rows.length, tokens, tokensBilled: tokens };
    });
    if (outcome.claimed) return outcome.value;
    return outcome.remaining > 0 ? { status: 'busy', embedded: 0, tokens: 0 } : { status: 'nothing-to-do', embedded: 0, tokens: 0 };
  }

  /**
   * The words of the catalog's own identifiers, which the sparse vectors split compound names against: those
   * of the version the run planned, as its plan recorded them (a few kilobytes instead of the whole catalog
   * parsed again), read once per run and version in this process however many of its batches run here. A run
   * whose plan recorded none (planned before runs recorded them) takes them from the catalog as stored now.
   * Null for a deleted catalog.
   */
  private async vocabularyOf(run: Pick<RunContext, 'catalogId' | 'runId'>): Promise<ReadonlySet<string> | null> {
    const planned = await this.deps.runs.planned(run.runId, run.catalogId);
    if (!planned.catalogExists) return null;
    const key = `${run.runId}:${planned.version}`;
    return this.vocabularies.get(key) ?? this.keepVocabulary(key, this.readVocabulary(run));
  }

  private async readVocabulary(run: Pick<RunContext, 'catalogId' | 'runId'>): Promise<ReadonlySet<string> | null> {
    const recorded = await this.deps.runs.vocabulary(run.runId);
    if (recorded?.words) return new Set(recorded.words);
    const catalog = await this.deps.catalogs.get(run.catalogId);
    return catalog ? this.readings.vocabulary(catalog) : null;
  }

  /** Keeps the words (being read, or read) of the last few runs; a read that fails is not kept. */
  private keepVocabulary(key: string, words: Promise<ReadonlySet<string> | null>): Promise<ReadonlySet<string> | null> {
    this.vocabularies.set(key, words);
    words.catch(() => this.vocabularies.get(key) === words && this.vocabularies.delete(key));
    if (this.vocabularies.size > 32) this.vocabularies.delete(this.vocabularies.keys().next().value ?? key);
    return words;
  }

  /** Upserts, waiting out Qdrant outages with capped backoff for up to `upsertPatienceMs`. */
  private async upsertPatiently(points: VectorPoint[], signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + (this.deps.upsertPatienceMs ?? 5 * 60_000);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.store.upsert(points);
        return;
      } catch (error) {
        if (Date.now() >= deadline || signal?.aborted || isPermanentStoreError(error)) throw error;
        const delay = backoffDelay(STORE_OUTAGE_BACKOFF, attempt);
        this.deps.logger.warn({ attempt, delay, err: error }, 'point upsert failed; keeping the vectors and trying again');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Deletes points that no row will own; one that cannot be deleted now is found by the next reconcile. */
  private async removePoints(catalogId: string, ids: string[]): Promise<void> {
    await this.deps.store.deleteIds(ids).catch((error: unknown) => {
      this.deps.logger.warn({ catalogId, points: ids.length, err: error }, 'could not delete the points of a batch that lost its catalog; the reconciler removes them');
    });
  }

  /** Batches of the run that still have rows without a point. */
  remainingBatches(runId: string): Promise<number[]> {
    return this.deps.embeddings.unembeddedBatches(runId);
  }

  /** Step 4 and 5 of the class comment. `version` is the catalog version the run planned. */
  async activate(run: RunContext, version: number): Promise<ActivateOutcome> {
    const { embeddings, catalogs, runs } = this.deps;
    // A deleted catalog ends the run before anything else: planning again could never finish it.
    const stamp = await catalogs.stamp(run.catalogId);
    if (!stamp) return this.endDeleted(run);
    const remaining = await embeddings.unembeddedBatches(run.runId);
    if (remaining.length > 0) return { kind: 'replan', cause: 'batches', reason: `${remaining.length} batches not embedded` };

    const gone = await this.goneRows(run, stamp);
    if (!gone) return this.endDeleted(run);
    const outcome = await this.deps.leases.fenced(this.fence(run), async (m) => {
      // Holding the catalog row: a PUT or DELETE waits for this transaction, or this one sees its result.
      const rows: { version: number }[] = await m.query(`SELECT version FROM catalogs WHERE id = $1 FOR SHARE`, [run.catalogId]);
      const current = rows[0];
      if (!current) return { kind: 'deleted' as const };
      if (current.version !== version || gone.version !== version) return { kind: 'changed' as const, version: current.version };
      return { kind: 'activated' as const, ...(await embeddings.activateRun(m, run.catalogId, run.runId, gone.rows)) };
    });
    if (outcome.kind === 'deleted') return this.endDeleted(run);
    const counts = await runs.get(run.runId);
    const base = { runId: run.runId, chunks: gone.chunks, embedded: counts?.embedded ?? 0, tokens: counts?.tokens ?? 0, tokensBilled: counts?.tokensBilled ?? 0 };
    if (outcome.kind === 'changed') return { kind: 'replan', cause: 'changed', reason: `catalog replaced: version ${version} → ${outcome.version}` };
    const drained = await this.sync.drainOutbox(run.catalogId);
    const check = await this.sync.removeOrphanPoints(run.catalogId);
    if (check.missingPoints > 0) {
      this.deps.logger.warn({ catalogId: run.catalogId, missingPoints: check.missingPoints }, 'active rows without a point: the next reindex embeds them again');
    }
    const skipped = Math.max(0, gone.chunks - outcome.activated);
    const deleted = outcome.retired.length;
    await runs.complete(run.runId, { skipped, deleted }, { activated: outcome.activated, pointsDeleted: drained.deleted, orphanPoints: check.orphanPoints, missingPoints: check.missingPoints });
    const result: ReindexResult = { status: 'completed', ...base, skipped, deleted };
    this.deps.logger.info({ catalogId: run.catalogId, ...result }, 'reindex completed');
    return { kind: 'completed', result };
  }

  /**
   * The catalog version the run's activation works on, its chunk count, and how it tells the rows of chunks gone
   * from the catalog: the ids the plan recorded, or, for a run planned before plans recorded them, every
   * current chunk key (the chunks this process made when it planned the version, else the stored document
   * chunked again). Null when the catalog is gone.
   */
  private async goneRows(
    run: RunContext,
    stamp: Omit<StoredCatalog, 'document'>,
  ): Promise<{ version: number; chunks: number; rows: { retire: readonly string[] } | { wantedKeys: readonly string[] } } | null> {
    const recorded = await this.deps.runs.retirement(run.runId);
    if (recorded) return { version: recorded.version, chunks: recorded.chunks, rows: { retire: recorded.retire } };
    const { catalogs } = this.deps;
    const rejected = await catalogs.rejectedKeys(run.catalogId);
    let chunks = this.readings.cachedChunks(stamp, rejected);
    let version = stamp.version;
    if (!chunks) {
      const stored = await catalogs.get(run.catalogId);
      if (!stored) return null;
      chunks = this.readings.chunks(stored, rejected);
      version = stored.version;
    }
    return { version, chunks: chunks.length, rows: { wantedKeys: chunks.map((c) => c.key) } };
  }

  /**
   * Ends a run whose catalog was deleted: the run is abandoned and, under its lease, everything the catalog
   * left in the index goes at once (rows, delete outbox, points), before the lease is given back.
   */
  private async endDeleted(run: RunContext): Promise<ActivateOutcome> {
    const forgotten = await forgetDeletedCatalog(this.deps, this.sync, this.fence(run));
    const counts = await this.deps.runs.get(run.runId);
    this.deps.logger.info({ catalogId: run.catalogId, runId: run.runId, ...forgotten }, 'catalog deleted during its reindex: run abandoned, index removed');
    const result: ReindexResult = {
      status: 'abandoned',
      reason: 'catalog deleted',
      runId: run.runId,
      chunks: 0,
      embedded: counts?.embedded ?? 0,
      skipped: 0,
      deleted: forgotten.rows,
      tokens: counts?.tokens ?? 0,
      tokensBilled: counts?.tokensBilled ?? 0,
    };
    return { kind: 'abandoned', reason: 'catalog deleted', result };
  }

  /** Ends a run that stopped for good before activating: its embedded rows stay as checkpoints. */
  async fail(run: RunContext, error: unknown): Promise<void> {
    await this.deps.runs.fail(run.runId, error instanceof Error ? error.message : String(error)).catch((e: unknown) => {
      this.deps.logger.error({ err: e }, 'could not record the failed run');
    });
  }

  async abandon(run: Pick<RunContext, 'runId'>, reason: string): Promise<void> {
    await this.deps.runs.abandon(run.runId, reason);
  }

  private fence(run: Pick<RunContext, 'catalogId' | 'fence'>): Fence {
    return { catalogId: run.catalogId, fence: run.fence };
  }

  /** The embedding slots the plan spreads its batches over; one when they cannot be read. */
  private async slots(): Promise<number> {
    if (!this.deps.slots) return 1;
    try {
      return Math.max(1, await this.deps.slots());
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'could not count the embedding slots: batches packed as full as the limits allow');
      return 1;
    }
  }

  /**
   * Numbered batches within the input and token budgets of one embeddings request, sized to keep `slots`
   * batch jobs busy (see `spreadBatches`).
   */
  private batchRows(run: RunContext, toEmbed: { chunk: Chunk; hash: string }[], slots: number): NewEmbedding[] {
    const tokens = toEmbed.map(({ chunk }) => countTokens(chunk.content));
    const batches = spreadBatches(
      tokens.map((n) => Math.min(n, 8191)),
      { maxInputs: this.batchMaxInputs, maxTokensPerRequest: this.batchMaxTokens },
      { slots, maxBatches: this.deps.maxBatches },
    );
    return toEmbed.map(({ chunk, hash }, i) => ({
      id: randomUUID(),
      catalogId: run.catalogId,
      kind: chunk.kind,
      chunkKey: chunk.key,
      itemKey: chunk.itemKey,
      content: chunk.content,
      metadata: chunk.metadata as Record<string, unknown>,
      contentHash: hash,
      model: this.deps.embedder.model,
      dimensions: this.deps.embedder.dimensions,
      indexRunId: run.runId,
      batch: batches[i] ?? 0,
      tokens: tokens[i]!,
    }));
  }
}
