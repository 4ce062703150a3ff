import { randomUUID } from 'node:crypto';
import { catalogVocabulary, chunkCatalog, contentHash, parseCatalog, type Chunk } from '@catalog-indexer/catalog';
import {
  type CatalogRepository,
  type EmbeddingRepository,
  type Fence,
  FencedError,
  assertFence,
  type IndexRunRepository,
  type LeaseRepository,
  type NewEmbedding,
  type PointDeletionRepository,
} from '@catalog-indexer/db';
import { countTokens, type Embedder } from '@catalog-indexer/embeddings';
import { type Logger } from '@catalog-indexer/logger';
import { type QdrantStore, type VectorPoint } from '@catalog-indexer/vector-store';
import { CatalogLease } from './catalog-lease';
import { chunkPoint } from './chunk-point';
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
  status: 'completed' | 'skipped' | 'abandoned';
  reason?: string;
  runId?: string;
  chunks: number;
  embedded: number;
  skipped: number;
  deleted: number;
  tokens: number;
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

export type BeginOutcome =
  | { kind: 'busy' }
  | { kind: 'missing' }
  | { kind: 'ready'; run: RunContext; version: number };

export type PlanOutcome =
  | { kind: 'missing' }
  | { kind: 'planned'; version: number; chunks: number; skipped: number; reused: number; toEmbed: number; batches: number[] };

export type ActivateOutcome =
  | { kind: 'replan'; reason: string }
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
  /** How long a catalog lease lives without renewal (default 60 s). */
  leaseTtlMs?: number;
  /** The most inputs and tokens one batch job embeds (one embeddings request when within the API's limits). */
  batchMaxInputs?: number;
  batchMaxTokens?: number;
  /** Batches embedded at once by {@link ReindexService.reindex} (the in-process path). */
  inlineConcurrency?: number;
  /** How long a batch keeps its vectors and retries the upsert through a Qdrant outage (default 5 min). */
  upsertPatienceMs?: number;
}

/**
 * Brings a catalog's index in line with its current content, as steps that any worker process may run:
 *
 * 1. **begin**: take the catalog's lease (one writer per catalog; its fence guards every write) and open a run.
 * 2. **plan**: chunk the catalog; skip chunks whose active row has the same content hash (text, model, size)
 *    and whose point exists; reuse embedded `pending` rows of earlier attempts with the same hash
 *    (checkpoints: their tokens are not paid again); write the rest as planned `pending` rows in numbered
 *    batches. Unembedded leftovers of earlier attempts are dropped and planned again.
 * 3. **embed a batch** (any process, concurrently): embed the batch's rows, upsert their points
 *    (`wait=true`), mark the rows embedded.
 * 4. **activate** (once every batch is done): in one fenced transaction, holding the catalog row, check that
 *    the catalog still exists and is the version planned: then make the run's rows `active` and remove the
 *    rows they replace and those of chunks gone from the catalog, recording their points in the delete
 *    outbox. A replaced catalog is planned again (checkpoints kept); a deleted one is abandoned and its
 *    pending rows removed.
 * 5. **verify**: delete the outbox's points, then delete any point of the catalog that no row owns.
 *
 * Postgres alone decides what queries see: pending rows are invisible, and hydration drops points without
 * an active row. A run that fails before activating leaves the previous index whole.
 */
export class ReindexService {
  readonly lease: CatalogLease;
  readonly sync: StoreSync;
  private readonly batchMaxInputs: number;
  private readonly batchMaxTokens: number;
  private readonly vocabularies = new Map<string, ReadonlySet<string>>();

  constructor(private readonly deps: PipelineDeps) {
    this.lease = new CatalogLease(deps.leases, deps.leaseTtlMs ?? 60_000, deps.logger);
    this.sync = new StoreSync(deps.embeddings, deps.deletions, deps.store, deps.logger);
    this.batchMaxInputs = deps.batchMaxInputs ?? 256;
    this.batchMaxTokens = deps.batchMaxTokens ?? 100_000;
  }

  /**
   * Takes the catalog's lease for `holder` and opens a run (or continues `runId`, a retried job's run).
   * Other runs of the catalog still marked running lost their holders: they are marked abandoned.
   */
  async begin(catalogId: string, holder: string, options: { jobId?: string | null; force?: boolean; runId?: string | null }): Promise<BeginOutcome> {
    const { catalogs, runs } = this.deps;
    const fence = await this.lease.acquire(catalogId, holder);
    if (!fence) return { kind: 'busy' };
    const catalog = await catalogs.get(catalogId);
    if (!catalog) {
      await this.lease.release(fence);
      return { kind: 'missing' };
    }
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
    const catalog = await catalogs.get(run.catalogId);
    if (!catalog) return { kind: 'missing' };
    const chunks = chunkCatalog(parseCatalog(catalog.document), { rejectedKeys: await catalogs.rejectedKeys(run.catalogId) });
    const active = new Map((await embeddings.activeChunks(run.catalogId)).map((c) => [c.chunkKey, c]));
    const pending = await embeddings.pendingChunks(run.catalogId);
    const points = new Set(await this.deps.store.listIds(run.catalogId));

    // A checkpoint is an embedded pending row whose point exists. A forced run reuses only its own.
    const checkpoints = new Map<string, { id: string; contentHash: string }>();
    for (const p of pending) {
      if (p.embedded && points.has(p.id) && (!run.force || p.indexRunId === run.runId)) checkpoints.set(p.chunkKey, p);
    }
    const adopt: string[] = [];
    const toEmbed: { chunk: Chunk; hash: string }[] = [];
    let skipped = 0;
    for (const chunk of chunks) {
      const hash = contentHash(chunk.content, embedder.model, embedder.dimensions);
      const existing = active.get(chunk.key);
      // A row whose point is gone (a Qdrant restored from an old snapshot, an emptied collection) is embedded
      // again even when its content is unchanged: a reindex repairs the index, it does not only extend it.
      if (existing && existing.contentHash === hash && points.has(existing.id) && !run.force) {
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
    const rows = this.batchRows(run, toEmbed);

    await this.deps.leases.fenced(this.fence(run), async (m) => {
      await embeddings.removeRows(m, run.catalogId, drop);
      await embeddings.adopt(m, run.catalogId, adopt, run.runId);
      await embeddings.insertPending(rows, m, { embedded: false });
    });
    await this.deps.runs.setVersion(run.runId, catalog.version);
    const batches = [...new Set(rows.map((r) => r.batch ?? 0))].sort((a, b) => a - b);
    this.deps.logger.info(
      { catalogId: run.catalogId, runId: run.runId, version: catalog.version, chunks: chunks.length, skipped, reused: adopt.length, dropped: drop.length, toEmbed: toEmbed.length, batches: batches.length },
      'reindex planned',
    );
    return { kind: 'planned', version: catalog.version, chunks: chunks.length, skipped, reused: adopt.length, toEmbed: toEmbed.length, batches };
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
      const vocabulary = await this.vocabularyOf(run.catalogId);
      if (!vocabulary) return { status: 'catalog-deleted' as const, embedded: 0, tokens: 0 };
      // Cheap check before paying for tokens: a holder that lost the lease stops here.
      if (!(await this.lease.holds(fence))) throw new FencedError(fence.catalogId, fence.fence);
      const { vectors, tokens } = await embedder.embed(rows.map((r) => r.content), signal);
      // Paid now, whatever becomes of this attempt: the run's billed tokens count retries and lost work too.
      await this.deps.runs.add(run.runId, { tokensBilled: tokens });
      const points: VectorPoint[] = rows.map((row, j) => chunkPoint(run.catalogId, row, row.contentHash, vectors[j], vocabulary));
      // Nothing is written for a run that was stopped or lost its lease while the batch was being embedded.
      signal?.throwIfAborted();
      if (!(await this.lease.holds(fence))) throw new FencedError(fence.catalogId, fence.fence);
      await this.upsertPatiently(points, signal);
      await assertFence(m, fence);
      await embeddings.markEmbedded(m, rows.map((r) => r.id));
      return { status: 'embedded' as const, embedded: rows.length, tokens, tokensBilled: tokens };
    });
    if (outcome.claimed) {
      // Counted once the checkpoint is committed: a run's tokens are those of the chunks it embedded.
      if (outcome.value.embedded > 0) await this.deps.runs.add(run.runId, { embedded: outcome.value.embedded, tokens: outcome.value.tokens });
      return outcome.value;
    }
    return outcome.remaining > 0 ? { status: 'busy', embedded: 0, tokens: 0 } : { status: 'nothing-to-do', embedded: 0, tokens: 0 };
  }

  /**
   * The words of the catalog's own identifiers, which the sparse vectors split compound names against;
   * kept per catalog version, so a batch does not parse the whole catalog again. Null for a deleted catalog.
   */
  private async vocabularyOf(catalogId: string): Promise<ReadonlySet<string> | null> {
    const state = await this.deps.catalogs.state(catalogId);
    if (!state) return null;
    const key = `${catalogId}:${state.version}`;
    let vocabulary = this.vocabularies.get(key);
    if (!vocabulary) {
      const catalog = await this.deps.catalogs.get(catalogId);
      if (!catalog) return null;
      vocabulary = catalogVocabulary(parseCatalog(catalog.document));
      this.vocabularies.set(key, vocabulary);
      if (this.vocabularies.size > 32) this.vocabularies.delete(this.vocabularies.keys().next().value ?? key);
    }
    return vocabulary;
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
        const delay = Math.min(15_000, 500 * 2 ** (attempt - 1));
        this.deps.logger.warn({ attempt, delay, err: error }, 'point upsert failed; keeping the vectors and trying again');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Batches of the run that still have rows without a point. */
  remainingBatches(runId: string): Promise<number[]> {
    return this.deps.embeddings.unembeddedBatches(runId);
  }

  /** Step 4 and 5 of the class comment. `version` is the catalog version the run planned. */
  async activate(run: RunContext, version: number): Promise<ActivateOutcome> {
    const { embeddings, catalogs, runs } = this.deps;
    const remaining = await embeddings.unembeddedBatches(run.runId);
    if (remaining.length > 0) return { kind: 'replan', reason: `${remaining.length} batches not embedded` };

    const catalog = await catalogs.get(run.catalogId);
    const wanted = catalog
      ? chunkCatalog(parseCatalog(catalog.document), { rejectedKeys: await catalogs.rejectedKeys(run.catalogId) }).map((c) => c.key)
      : [];
    const outcome = await this.deps.leases.fenced(this.fence(run), async (m) => {
      // Holding the catalog row: a PUT or DELETE waits for this transaction, or this one sees its result.
      const rows: { version: number }[] = await m.query(`SELECT version FROM catalogs WHERE id = $1 FOR SHARE`, [run.catalogId]);
      const current = rows[0];
      if (!current) {
        const pending = (await embeddings.pendingChunks(run.catalogId)).map((p) => p.id);
        const removed = await embeddings.removeRows(m, run.catalogId, pending);
        return { kind: 'deleted' as const, removed: removed.length };
      }
      if (current.version !== version || catalog?.version !== version) return { kind: 'changed' as const, version: current.version };
      return { kind: 'activated' as const, ...(await embeddings.activateRun(m, run.catalogId, run.runId, wanted)) };
    });
    const counts = await runs.get(run.runId);
    const base = { runId: run.runId, chunks: wanted.length, embedded: counts?.embedded ?? 0, tokens: counts?.tokens ?? 0, tokensBilled: counts?.tokensBilled ?? 0 };
    if (outcome.kind === 'changed') return { kind: 'replan', reason: `catalog replaced: version ${version} → ${outcome.version}` };
    if (outcome.kind === 'deleted') {
      await this.sync.drainOutbox(run.catalogId);
      await runs.abandon(run.runId, 'catalog deleted during the run');
      this.deps.logger.info({ catalogId: run.catalogId, runId: run.runId, removed: outcome.removed }, 'catalog deleted during its reindex: run abandoned');
      return {
        kind: 'abandoned',
        reason: 'catalog deleted',
        result: { status: 'abandoned', reason: 'catalog deleted', ...base, skipped: 0, deleted: outcome.removed },
      };
    }
    const drained = await this.sync.drainOutbox(run.catalogId);
    const check = await this.sync.removeOrphanPoints(run.catalogId);
    if (check.missingPoints > 0) {
      this.deps.logger.warn({ catalogId: run.catalogId, missingPoints: check.missingPoints }, 'active rows without a point: the next reindex embeds them again');
    }
    const skipped = Math.max(0, wanted.length - outcome.activated);
    const deleted = outcome.retired.length;
    await runs.complete(run.runId, { skipped, deleted }, { activated: outcome.activated, pointsDeleted: drained.deleted, orphanPoints: check.orphanPoints, missingPoints: check.missingPoints });
    const result: ReindexResult = { status: 'completed', ...base, skipped, deleted };
    this.deps.logger.info({ catalogId: run.catalogId, ...result }, 'reindex completed');
    return { kind: 'completed', result };
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

  release(run: Pick<RunContext, 'catalogId' | 'fence'>): Promise<void> {
    return this.lease.release(this.fence(run));
  }

  /**
   * The whole reindex in this process: begin, plan, embed the batches a few at a time, activate (planning
   * again while the catalog changes). For tests, benchmarks and one-process setups; the worker runs the same
   * steps as separate jobs.
   */
  async reindex(catalogId: string, options: ReindexOptions = {}): Promise<ReindexResult> {
    const holder = options.jobId ?? `inline-${randomUUID()}`;
    const begun = await this.begin(catalogId, holder, { jobId: options.jobId, force: options.force });
    if (begun.kind === 'busy') throw new Error(`catalog ${catalogId} is being written by another run`);
    if (begun.kind === 'missing') return { status: 'skipped', reason: 'catalog not found', chunks: 0, embedded: 0, skipped: 0, deleted: 0, tokens: 0 };
    const { run } = begun;
    const stop = this.lease.keepAlive(this.fence(run));
    try {
      for (let round = 0; ; round++) {
        await options.onProgress?.({ phase: 'planning', embedded: 0, toEmbed: 0 });
        const plan = await this.plan(run);
        if (plan.kind === 'missing') {
          const outcome = await this.activate(run, -1);
          if (outcome.kind === 'abandoned') return outcome.result;
          continue;
        }
        let embedded = 0;
        await runBounded(plan.batches, this.deps.inlineConcurrency ?? 3, async (batch) => {
          options.signal?.throwIfAborted();
          const r = await this.embedBatch(run, batch, options.signal);
          embedded += r.embedded;
          await options.onProgress?.({ phase: 'embedding', embedded, toEmbed: plan.toEmbed });
        });
        await options.onProgress?.({ phase: 'activating', embedded, toEmbed: plan.toEmbed });
        const outcome = await this.activate(run, plan.version);
        if (outcome.kind !== 'replan') return outcome.result;
        if (round >= 20) throw new Error(`catalog ${catalogId} kept changing during its reindex: ${outcome.reason}`);
      }
    } catch (error) {
      await this.fail(run, error);
      throw error;
    } finally {
      stop();
      await this.release(run);
    }
  }

  private fence(run: Pick<RunContext, 'catalogId' | 'fence'>): Fence {
    return { catalogId: run.catalogId, fence: run.fence };
  }

  /** Numbered batches within the input and token budgets of one embeddings request. */
  private batchRows(run: RunContext, toEmbed: { chunk: Chunk; hash: string }[]): NewEmbedding[] {
    const rows: NewEmbedding[] = [];
    let batch = 0;
    let inputs = 0;
    let tokens = 0;
    for (const { chunk, hash } of toEmbed) {
      const t = Math.min(countTokens(chunk.content), 8191);
      if (inputs > 0 && (inputs + 1 > this.batchMaxInputs || tokens + t > this.batchMaxTokens)) {
        batch++;
        inputs = 0;
        tokens = 0;
      }
      inputs++;
      tokens += t;
      rows.push({
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
        batch,
      });
    }
    return rows;
  }
}

/** Runs `work` over `items` with at most `limit` in flight; the first failure rejects once all settled. */
export async function runBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const outcomes = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, lane));
  const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/** A 4xx of Qdrant other than 429: a retry cannot fix it (a wrong vector size, a malformed request). */
function isPermanentStoreError(error: unknown): boolean {
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 429 && status !== 404;
}
