import { documentSparseVector, querySparseVector } from '@catalog-indexer/text';
import { randomUUID } from 'node:crypto';
import { catalogVocabulary, chunkCatalog, type Catalog } from '@catalog-indexer/catalog';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { FencedError } from '@catalog-indexer/db';
import { countTokens, toNumberArray } from '@catalog-indexer/embeddings';
import { VECTOR_NAMES } from '@catalog-indexer/vector-store';
import { type ReindexProgress } from './in-process-fan-out';
import { ReindexService } from './reindex.service';
import { PipelineHarness, editedShop, shopWithout, toNew } from '../test/pipeline.harness';

describe(`${ReindexService.name} step by step`, () => {
  const h = new PipelineHarness();
  const chunks = chunkCatalog(shopCatalog);

  beforeAll(() => h.start());
  afterAll(() => h.stop());
  beforeEach(() => h.reset());

  const begin = async (id: string, holder = `holder-${randomUUID()}`, options: Parameters<PipelineHarness['begin']>[2] = {}) => {
    const begun = await h.begin(id, holder, options);
    if (begun.kind !== 'ready') throw new Error(`begin answered ${begun.kind}`);
    return begun;
  };

  describe('begin', () => {
    it('opens a run with the job id and the catalog version, and holds the lease for its time to live', async () => {
      const id = await h.createCatalog();
      const begun = await begin(id, 'job-7', { jobId: 'job-7' });
      expect(begun.version).toBe(1);
      expect(begun.run).toEqual({ catalogId: id, runId: expect.any(String), fence: 1, force: false, jobId: 'job-7' });
      expect(await h.runs.get(begun.run.runId)).toMatchObject({ status: 'running', jobId: 'job-7', catalogVersion: 1, mode: 'reindex' });
      const lease = await h.leases.get(id);
      expect(lease?.holder).toBe('job-7');
      const ttl = lease!.expiresAt.getTime() - Date.now();
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(61_000);
      await h.release(begun.run);
      expect((await h.leases.get(id))?.expired).toBe(true);
    });

    it('continues the running run of a retried job and opens a new one after that run ended', async () => {
      const id = await h.createCatalog();
      const first = await begin(id, 'job-1', { force: true });
      expect(first.run.force).toBe(true);
      const again = await begin(id, 'job-1', { runId: first.run.runId });
      expect(again.run.runId).toBe(first.run.runId);
      expect((await h.runs.get(first.run.runId))?.status).toBe('running');
      await h.reindex.abandon(first.run, 'stopped by the test');
      expect(await h.runs.get(first.run.runId)).toMatchObject({ status: 'abandoned', error: 'stopped by the test' });
      const third = await begin(id, 'job-1', { runId: first.run.runId });
      expect(third.run.runId).not.toBe(first.run.runId);
      await h.release(third.run);
    });

    it('answers missing for a deleted catalog and frees the lease', async () => {
      const id = await h.createCatalog();
      await h.catalogs.delete(id);
      expect(await h.begin(id, 'job', {})).toEqual({ kind: 'missing' });
      expect((await h.leases.get(id))?.expired).toBe(true);
      expect(await h.runs.list(id)).toEqual([]);
    });
  });

  describe('plan and embed', () => {
    it('numbers batches, embeds each once, and reports what remains', async () => {
      const id = await h.createCatalog();
      const { run } = await begin(id);
      const plan = await h.reindex.plan(run);
      expect(plan).toEqual({ kind: 'planned', version: 1, chunks: chunks.length, skipped: 0, reused: 0, toEmbed: chunks.length, batches: [0, 1, 2, 3, 4] });
      expect(await h.reindex.remainingBatches(run.runId)).toEqual([0, 1, 2, 3, 4]);
      expect(await h.reindex.activate(run, 1)).toEqual({ kind: 'replan', cause: 'batches', reason: '5 batches not embedded' });

      const first = await h.reindex.embedBatch(run, 2);
      expect(first).toEqual({ status: 'embedded', embedded: 16, tokens: h.embedder.tokens, tokensBilled: h.embedder.tokens });
      expect(await h.reindex.embedBatch(run, 2)).toEqual({ status: 'nothing-to-do', embedded: 0, tokens: 0 });
      expect(h.embedder.calls).toBe(1);
      expect(await h.reindex.remainingBatches(run.runId)).toEqual([0, 1, 3, 4]);
      expect(await h.runs.get(run.runId)).toMatchObject({ embedded: 16, tokens: first.tokens, tokensBilled: first.tokens });
      await h.release(run);
    });

    it('keeps each planned row\'s token count, and hands the counts to the embedder with the batch\'s texts', async () => {
      const id = await h.createCatalog();
      const { run } = await begin(id);
      await h.reindex.plan(run);
      const planned = await h.embeddings.batchToEmbed(run.runId, 1);
      expect(planned.length).toBeGreaterThan(0);
      for (const row of planned) expect(row.tokens).toBe(countTokens(row.content));

      const done = await h.reindex.embedBatch(run, 1);
      expect(new Map(planned.map((r) => [r.content, h.embedder.counts.get(r.content)]))).toEqual(new Map(planned.map((r) => [r.content, r.tokens])));
      expect(done.tokens).toBe(planned.reduce((s, r) => s + r.tokens!, 0));
      await h.release(run);
    });

    it('writes each point with the payload queries filter on', async () => {
      const id = await h.createCatalog();
      await h.run(id);
      const [query] = (await h.embedder.inner.embed(['payroll'])).vectors;
      const search = async (filter: { kinds?: string[]; schemas?: string[]; tables?: string[] }) =>
        new Set((await h.store.search({ dense: toNumberArray(query!), sparse: querySparseVector('payroll') }, { catalogId: id, limit: 100, fusion: { denseWeight: 1, sparseWeight: 1, k: 2, prefetchLimit: 200 }, ...filter })).map((x) => x.id));
      const hydrated = async (ids: Set<string>) => [...(await h.embeddings.hydrate([...ids])).values()].map((r) => r.chunkKey).sort();
      const keysWhere = (f: (c: (typeof chunks)[number]) => boolean) => chunks.filter(f).map((c) => c.key).sort();
      expect(await hydrated(await search({ tables: ['payroll'] }))).toEqual(keysWhere((c) => c.metadata.table === 'payroll'));
      expect(await hydrated(await search({ schemas: ['hr'], kinds: ['column'] }))).toEqual(keysWhere((c) => c.metadata.schema === 'hr' && c.kind === 'column'));
      expect(await hydrated(await search({ kinds: ['document'] }))).toEqual(keysWhere((c) => c.kind === 'document'));
    });

    it('does not pay for a batch of a deleted catalog', async () => {
      const id = await h.createCatalog();
      const { run } = await begin(id);
      const plan = await h.reindex.plan(run);
      if (plan.kind !== 'planned') throw new Error('missing');
      await h.catalogs.delete(id);
      expect(await h.reindex.embedBatch(run, 0)).toEqual({ status: 'catalog-deleted', embedded: 0, tokens: 0 });
      expect(h.embedder.calls).toBe(0);
      expect(await h.pointIds(id)).toEqual([]);
      await h.release(run);
    });

    it('writes no point when the lease was taken over while the batch was being embedded', async () => {
      const id = await h.createCatalog();
      const { run } = await begin(id, 'slow-holder');
      await h.reindex.plan(run);
      h.embedder.during = async () => {
        await h.expireLease(id);
        expect(await h.leases.acquire(id, 'new-holder', 60_000)).not.toBeNull();
      };
      await expect(h.reindex.embedBatch(run, 0)).rejects.toBeInstanceOf(FencedError);
      expect(h.embedder.calls).toBe(1);
      expect(await h.pointIds(id)).toEqual([]);
      // The tokens were paid although the work was lost: the run says so beside the tokens it kept.
      expect(h.embedder.tokens).toBeGreaterThan(0);
      expect(await h.runs.get(run.runId)).toMatchObject({ embedded: 0, tokens: 0, tokensBilled: h.embedder.tokens });
      expect(await h.reindex.remainingBatches(run.runId)).toEqual([0, 1, 2, 3, 4]);
    });

    it('stops a run whose signal was aborted while embedding, writing no point and keeping the old index', async () => {
      const id = await h.createCatalog();
      const controller = new AbortController();
      h.embedder.during = () => {
        controller.abort(new Error('shutting down'));
        return Promise.resolve();
      };
      await expect(h.run(id, { signal: controller.signal })).rejects.toThrow('shutting down');
      expect(await h.pointIds(id)).toEqual([]);
      expect(await h.rowIds(id)).toEqual([]);
      expect((await h.runs.list(id))[0]).toMatchObject({ status: 'failed', error: 'shutting down' });
    });

    it('re-embeds a checkpoint whose point was lost instead of reusing it', async () => {
      const id = await h.createCatalog();
      h.embedder.failOnCall = 2;
      await expect(h.run(id)).rejects.toThrow('embeddings API down');
      const checkpoints = await h.rowIds(id, 'pending');
      const withPoint = (await h.pointIds(id)).filter((p) => checkpoints.includes(p));
      expect(withPoint).toHaveLength(16);
      await h.store.deleteIds(withPoint.slice(0, 4));
      h.embedder.reset();
      const result = await h.run(id);
      expect(result).toMatchObject({ status: 'completed', embedded: chunks.length - 12 });
      expect(h.embedder.texts).toBe(chunks.length - 12);
      expect(await h.pointIds(id)).toEqual(await h.rowIds(id));
    });

    it('splits batches by tokens as well as by inputs, and embeds all in one request by default', async () => {
      const small = new ReindexService({ ...h.deps(), batchMaxInputs: 1000, batchMaxTokens: 300 });
      const id = await h.createCatalog();
      const begun = await h.begin(id, 'tokens', {});
      if (begun.kind !== 'ready') throw new Error(begun.kind);
      const { run } = begun;
      const plan = await small.plan(run);
      if (plan.kind !== 'planned') throw new Error('missing');
      expect(plan.batches.length).toBeGreaterThan(2);
      let total = 0;
      let shared = 0;
      for (const b of plan.batches) {
        const rows = await h.embeddings.batchToEmbed(run.runId, b);
        const tokens = rows.reduce((n, r) => n + countTokens(r.content), 0);
        // A chunk larger than the budget travels alone; otherwise a batch stays within it.
        if (rows.length > 1) {
          shared++;
          expect(tokens).toBeLessThanOrEqual(300);
        }
        total += rows.length;
      }
      expect(shared).toBeGreaterThan(2);
      expect(total).toBe(chunks.length);
      await h.release(run);

      const plain = new ReindexService(h.deps());
      const other = await h.createCatalog();
      h.embedder.reset();
      expect(await h.run(other, {}, plain)).toMatchObject({ status: 'completed', embedded: chunks.length });
      expect(h.embedder.calls).toBe(1);
    });
  });

  describe('what each step reports', () => {
    it('plans nothing to embed for an unchanged catalog, every chunk skipped, and records what activation did', async () => {
      const id = await h.createCatalog();
      const first = await h.run(id);
      expect((await h.runs.get(first.runId!))?.details).toEqual({ activated: chunks.length, pointsDeleted: 0, orphanPoints: 0, missingPoints: 0 });
      const { run } = await begin(id);
      expect(await h.reindex.plan(run)).toEqual({ kind: 'planned', version: 1, chunks: chunks.length, skipped: chunks.length, reused: 0, toEmbed: 0, batches: [] });
      await h.release(run);
    });

    it('marks the running run of a holder that stopped as superseded when another writer opens one', async () => {
      const id = await h.createCatalog();
      const { run: lost } = await begin(id, 'stopped-holder');
      await h.expireLease(id);
      const { run } = await begin(id, 'next-holder');
      expect(await h.runs.get(lost.runId)).toMatchObject({ status: 'abandoned', error: 'superseded: its holder stopped and another writer took the catalog' });
      expect((await h.runs.get(run.runId))?.status).toBe('running');
      await h.release(run);
    });

    it('answers busy for a batch another execution holds, without paying for it, and embeds it once it is free', async () => {
      const id = await h.createCatalog();
      const { run } = await begin(id);
      await h.reindex.plan(run);
      await h.whileBatchHeld(run.runId, 0, async () => {
        expect(await h.reindex.embedBatch(run, 0)).toEqual({ status: 'busy', embedded: 0, tokens: 0 });
        expect(h.embedder.calls).toBe(0);
      });
      expect((await h.reindex.embedBatch(run, 0)).status).toBe('embedded');
      await h.release(run);
    });

    it('plans again, activating nothing, when the catalog was replaced after its batches were embedded', async () => {
      const id = await h.createCatalog();
      const { run } = await begin(id);
      const plan = await h.reindex.plan(run);
      if (plan.kind !== 'planned') throw new Error(plan.kind);
      for (const batch of plan.batches) await h.reindex.embedBatch(run, batch);
      await h.catalogs.replace(id, toNew(editedShop('Replaced once its batches were embedded.')));
      expect(await h.reindex.activate(run, 1)).toEqual({ kind: 'replan', cause: 'changed', reason: 'catalog replaced: version 1 → 2' });
      expect(await h.rowIds(id)).toEqual([]);
      await h.release(run);
    });

    it('abandons the run of a catalog deleted before activation, with what it had paid for', async () => {
      const id = await h.createCatalog();
      const { run } = await begin(id);
      await h.reindex.plan(run);
      const embedded = await h.reindex.embedBatch(run, 0);
      await h.catalogs.delete(id);
      expect(await h.reindex.activate(run, 1)).toEqual({
        kind: 'abandoned',
        reason: 'catalog deleted',
        result: expect.objectContaining({ status: 'abandoned', reason: 'catalog deleted', embedded: embedded.embedded, tokens: embedded.tokens, tokensBilled: h.embedder.tokens }),
      });
      expect(h.embedder.tokens).toBeGreaterThan(0);
      expect(await h.pointIds(id)).toEqual([]);
      await h.release(run);
    });
  });

  describe('activation', () => {
    /** The shop without its `hr` schema and with one description changed: chunks gone, one changed. */
    const trimmedShop = () => {
      const trimmed = shopWithout('hr');
      trimmed.schemas[0]!.tables.find((t) => t.name === 'refunds')!.columns.find((c) => c.name === 'reason')!.description = 'Trimmed.';
      return trimmed;
    };

    /** Indexes the shop, replaces it with the trimmed one, and plans and embeds that run in a process of its own. */
    const embeddedElsewhere = async (id: string) => {
      await h.run(id);
      await h.catalogs.replace(id, toNew(trimmedShop()));
      const { run, version } = await begin(id);
      const planner = new ReindexService(h.deps());
      const plan = await planner.plan(run);
      if (plan.kind !== 'planned') throw new Error(plan.kind);
      for (const batch of plan.batches) expect((await planner.embedBatch(run, batch)).status).toBe('embedded');
      return { run, version };
    };

    /** Activates in a new process (one that did not plan), reporting which catalog reads it made. */
    const activateElsewhere = async (run: Awaited<ReturnType<typeof begin>>['run'], version: number) => {
      const documents = jest.spyOn(h.catalogs, 'get');
      const rejections = jest.spyOn(h.catalogs, 'rejectedKeys');
      try {
        const outcome = await new ReindexService(h.deps()).activate(run, version);
        return { outcome, documents: documents.mock.calls.length, rejections: rejections.mock.calls.length };
      } finally {
        documents.mockRestore();
        rejections.mockRestore();
      }
    };

    const expectTrimmedIndex = async (id: string, outcome: unknown) => {
      const wanted = chunkCatalog(trimmedShop()).map((c) => c.key).sort();
      expect(outcome).toMatchObject({
        kind: 'completed',
        result: { status: 'completed', chunks: wanted.length, embedded: 1, skipped: wanted.length - 1, deleted: chunks.length - wanted.length + 1 },
      });
      expect([...(await h.activeContent(id)).keys()].sort()).toEqual(wanted);
      expect((await h.activeContent(id)).get('column:sales.refunds.reason')).toContain('Trimmed.');
      expect(await h.pointIds(id)).toEqual(await h.rowIds(id));
    };

    it('retires the rows of chunks gone from the catalog as its plan recorded them, without reading the catalog again', async () => {
      const id = await h.createCatalog();
      const { run, version } = await embeddedElsewhere(id);
      expect((await h.runs.retirement(run.runId))?.retire).toHaveLength(chunks.length - chunkCatalog(trimmedShop()).length);
      const { outcome, documents, rejections } = await activateElsewhere(run, version);
      expect({ documents, rejections }).toEqual({ documents: 0, rejections: 0 });
      await expectTrimmedIndex(id, outcome);
      expect(await h.runs.retirement(run.runId)).toBeNull();
      await h.release(run);
    });

    it('chunks the stored catalog to tell the rows of chunks gone when the plan recorded none', async () => {
      const id = await h.createCatalog();
      const { run, version } = await embeddedElsewhere(id);
      // As a run planned before plans recorded what their activation retires.
      await h.db.dataSource.query(`UPDATE index_runs SET retire = NULL, planned_chunks = NULL WHERE id = $1`, [run.runId]);
      const { outcome, documents, rejections } = await activateElsewhere(run, version);
      expect({ documents, rejections }).toEqual({ documents: 1, rejections: 1 });
      await expectTrimmedIndex(id, outcome);
      await h.release(run);
    });
  });

  describe('what each batch writes', () => {
    /** A catalog whose table name is two of its column names written together. */
    const zoo = (extra?: string): Catalog => ({
      name: 'zoo',
      schemas: [
        {
          name: 'wild',
          tables: [
            {
              name: 'zebrastripes',
              type: 'table',
              columns: [
                { name: 'zebra', type: 'text' },
                { name: 'stripes', type: 'int' },
                ...(extra ? [{ name: extra, type: 'text' }] : []),
              ],
            },
          ],
        },
      ],
    });

    /** The terms (sparse indices) of each point, with those its row's text gives with and without `vocabulary`. */
    const terms = (v: unknown) => [...(v as { indices: number[] }).indices].sort((a, b) => a - b);
    const sparseVectors = async (catalogId: string, vocabulary: ReadonlySet<string>) => {
      const rows = await h.db.dataSource.query<{ id: string; content: string }[]>(`SELECT id, content FROM dq_embeddings WHERE catalog_id = $1 AND status = 'active'`, [catalogId]);
      const content = new Map(rows.map((r) => [r.id, r.content]));
      const stored = new Map<string, unknown>();
      for await (const page of h.store.scrollPoints()) for (const p of page) if (content.has(p.id)) stored.set(p.id, terms((p.vector as Record<string, unknown>)[VECTOR_NAMES.sparse]));
      expect(stored.size).toBe(rows.length);
      return { stored, wanted: new Map(rows.map((r) => [r.id, terms(documentSparseVector(r.content, vocabulary))])), unsplit: new Map(rows.map((r) => [r.id, terms(documentSparseVector(r.content))])) };
    };

    it("splits compound names against the words of the batch's own catalog and version", async () => {
      // Another catalog's batches ran first in this process.
      await h.run(await h.createCatalog());
      const id = await h.createCatalog(zoo());
      await h.run(id);
      const first = await sparseVectors(id, catalogVocabulary(zoo()));
      expect(first.stored).toEqual(first.wanted);
      // The vocabulary matters here: without it the table's name would not yield its parts.
      expect(first.wanted).not.toEqual(first.unsplit);

      // A new version brings a word that splits another name of the catalog.
      const next = zoo('zebrahabitat');
      next.schemas[0]!.tables[0]!.columns.push({ name: 'habitat', type: 'text' });
      await h.catalogs.replace(id, toNew(next));
      await h.run(id, { force: true });
      const second = await sparseVectors(id, catalogVocabulary(next));
      expect(second.stored).toEqual(second.wanted);
      expect(second.wanted).not.toEqual((await sparseVectors(id, catalogVocabulary(zoo()))).wanted);
    });

    /** Plans the catalog's run in one process (a service of its own), as the worker that takes the reindex job. */
    const planElsewhere = async (id: string) => {
      const { run } = await begin(id);
      const plan = await new ReindexService({ ...h.deps(), batchMaxInputs: 1 }).plan(run);
      if (plan.kind !== 'planned') throw new Error(plan.kind);
      expect(plan.batches.length).toBeGreaterThan(1);
      return { run, plan };
    };

    /** Activates the run's first plan, and checks that every point's terms are those of its text split against `vocabulary`. */
    const activatedSplitAgainst = async (run: Awaited<ReturnType<typeof begin>>['run'], id: string, vocabulary: ReadonlySet<string>) => {
      expect((await h.reindex.activate(run, 1)).kind).toBe('completed');
      const vectors = await sparseVectors(id, vocabulary);
      expect(vectors.stored).toEqual(vectors.wanted);
      await h.release(run);
    };

    it("records with the run the words of the version it planned, which its batches in any process split names against", async () => {
      const id = await h.createCatalog(zoo());
      const { run, plan } = await planElsewhere(id);
      expect(new Set((await h.runs.vocabulary(run.runId))?.words)).toEqual(catalogVocabulary(zoo()));
      // Words recorded otherwise show that the batches take the run's, not the catalog's.
      await h.runs.setPlanned(run.runId, 1, { vocabulary: [] });
      const documents = jest.spyOn(h.catalogs, 'get');
      try {
        const batches = new ReindexService({ ...h.deps(), batchMaxInputs: 1 });
        for (const batch of plan.batches) expect((await batches.embedBatch(run, batch)).status).toBe('embedded');
        expect(documents).not.toHaveBeenCalled();
      } finally {
        documents.mockRestore();
      }
      expect((await h.reindex.activate(run, 1)).kind).toBe('completed');
      const vectors = await sparseVectors(id, new Set());
      expect(vectors.stored).toEqual(vectors.unsplit);
      expect(vectors.stored).not.toEqual((await sparseVectors(id, catalogVocabulary(zoo()))).wanted);
      expect((await h.runs.vocabulary(run.runId))?.words).toBeNull();
      await h.release(run);
    });

    it('reads the words once in a process however many of its batches run at once, and not at all in the process that planned', async () => {
      const id = await h.createCatalog(zoo());
      const { run } = await begin(id);
      const planner = new ReindexService({ ...h.deps(), batchMaxInputs: 1 });
      const plan = await planner.plan(run);
      if (plan.kind !== 'planned') throw new Error(plan.kind);
      const [first, ...rest] = plan.batches;
      const reads = jest.spyOn(h.runs, 'vocabulary');
      try {
        expect((await planner.embedBatch(run, first!)).status).toBe('embedded');
        expect(reads).not.toHaveBeenCalled();
        const other = new ReindexService({ ...h.deps(), batchMaxInputs: 1 });
        expect((await Promise.all(rest.map((b) => other.embedBatch(run, b)))).map((r) => r.status)).toEqual(rest.map(() => 'embedded'));
        expect(rest.length).toBeGreaterThan(1);
        expect(reads.mock.calls).toEqual([[run.runId]]);
      } finally {
        reads.mockRestore();
      }
      await activatedSplitAgainst(run, id, catalogVocabulary(zoo()));
    });

    it('takes the words of the version planned again when the catalog changed during the run', async () => {
      const id = await h.createCatalog(zoo());
      const { run, plan } = await planElsewhere(id);
      const batches = new ReindexService({ ...h.deps(), batchMaxInputs: 1 });
      expect((await batches.embedBatch(run, plan.batches[0]!)).status).toBe('embedded');
      const next = zoo('zebrahabitat');
      next.schemas[0]!.tables[0]!.columns.push({ name: 'habitat', type: 'text' });
      await h.catalogs.replace(id, toNew(next));
      expect((await h.reindex.activate(run, 1)).kind).toBe('replan');
      const again = await new ReindexService({ ...h.deps(), batchMaxInputs: 1 }).plan(run);
      if (again.kind !== 'planned') throw new Error(again.kind);
      for (const batch of again.batches) expect((await batches.embedBatch(run, batch)).status).toBe('embedded');
      expect((await h.reindex.activate(run, 2)).kind).toBe('completed');
      const vectors = await sparseVectors(id, catalogVocabulary(next));
      expect(vectors.stored).toEqual(vectors.wanted);
      expect(vectors.wanted).not.toEqual((await sparseVectors(id, catalogVocabulary(zoo()))).wanted);
      await h.release(run);
    });

    it('reads the words again after a read of them failed, rather than keeping the failure', async () => {
      const id = await h.createCatalog(zoo());
      const { run, plan } = await planElsewhere(id);
      const [first, ...rest] = plan.batches;
      const batches = new ReindexService({ ...h.deps(), batchMaxInputs: 1 });
      // Postgres refuses the one read (a lost connection): the batch fails, paying nothing.
      const reads = jest.spyOn(h.runs, 'vocabulary').mockRejectedValueOnce(new Error('Connection terminated unexpectedly'));
      try {
        await expect(batches.embedBatch(run, first!)).rejects.toThrow('Connection terminated unexpectedly');
        expect(h.embedder.calls).toBe(0);
        for (const batch of [first!, ...rest]) expect((await batches.embedBatch(run, batch)).status).toBe('embedded');
        expect(reads).toHaveBeenCalledTimes(2);
      } finally {
        reads.mockRestore();
      }
      await activatedSplitAgainst(run, id, catalogVocabulary(zoo()));
    });

    it("reads the catalog's document once for all the batches of a run whose plan recorded no words", async () => {
      const id = await h.createCatalog(zoo());
      const { run, plan } = await planElsewhere(id);
      // As a run planned before runs recorded their words.
      await h.db.dataSource.query(`UPDATE index_runs SET vocabulary = NULL WHERE id = $1`, [run.runId]);
      const documents = jest.spyOn(h.catalogs, 'get');
      try {
        const batches = new ReindexService({ ...h.deps(), batchMaxInputs: 1 });
        for (const batch of plan.batches) expect((await batches.embedBatch(run, batch)).status).toBe('embedded');
        expect(documents.mock.calls).toEqual([[id]]);
      } finally {
        documents.mockRestore();
      }
      await activatedSplitAgainst(run, id, catalogVocabulary(zoo()));
    });

    it('removes the points it wrote when the lease was taken while they were being written', async () => {
      const id = await h.createCatalog();
      const { run } = await begin(id, 'slow-writer');
      await h.reindex.plan(run);
      const upsert = h.store.upsert.bind(h.store);
      const written: string[] = [];
      const spy = jest.spyOn(h.store, 'upsert').mockImplementationOnce(async (points) => {
        await upsert(points);
        written.push(...points.map((p) => p.id));
        await h.expireLease(id);
        expect(await h.leases.acquire(id, 'next-writer', 60_000)).not.toBeNull();
      });
      try {
        await expect(h.reindex.embedBatch(run, 0)).rejects.toBeInstanceOf(FencedError);
      } finally {
        spy.mockRestore();
      }
      expect(written).toHaveLength(16);
      expect(await h.pointIds(id)).toEqual([]);
      expect(await h.reindex.remainingBatches(run.runId)).toEqual([0, 1, 2, 3, 4]);
    });

    it('waits out a Qdrant outage with the default patience, keeping the vectors it paid for', async () => {
      const id = await h.createCatalog();
      // The store's own two attempts fail, and the first of the next two: the batch tries again after a backoff.
      h.qdrant.injectFault({ method: 'PUT', path: '/points$', status: 503, message: 'restarting', times: 3 });
      expect(await h.run(id)).toMatchObject({ status: 'completed', embedded: chunks.length });
      expect(h.embedder.texts).toBe(chunks.length);
      expect(await h.pointIds(id)).toEqual(await h.rowIds(id));
    });

    it('asks Qdrant for no vectors when the catalog has no adopted row to take over', async () => {
      const id = await h.createCatalog();
      const denseVectors = jest.spyOn(h.store, 'denseVectors');
      try {
        const { run } = await begin(id);
        expect(await h.reindex.plan(run)).toMatchObject({ kind: 'planned', toEmbed: chunks.length });
        await h.release(run);
        expect(denseVectors).not.toHaveBeenCalled();
      } finally {
        denseVectors.mockRestore();
      }
    });
  });

  describe('batches sized to the workers', () => {
    const planned = async (service: ReindexService) => {
      const id = await h.createCatalog();
      const begun = await h.begin(id, `slots-${randomUUID()}`, {});
      if (begun.kind !== 'ready') throw new Error(begun.kind);
      const plan = await service.plan(begun.run);
      if (plan.kind !== 'planned') throw new Error('missing');
      const sizes = await Promise.all(plan.batches.map(async (b) => (await h.embeddings.batchToEmbed(begun.run.runId, b)).length));
      await h.release(begun.run);
      return sizes;
    };

    it('gives every embedding slot a batch when the catalog fills them, however many inputs a request may hold', async () => {
      const sizes = await planned(new ReindexService({ ...h.deps(), batchMaxInputs: 1000, slots: () => Promise.resolve(4) }));
      expect(sizes).toHaveLength(4);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(chunks.length);
      expect(Math.min(...sizes)).toBeGreaterThan(0);

      // Without a count of the slots (or when it cannot be read) the plan packs requests as full as it may.
      expect(await planned(new ReindexService({ ...h.deps(), batchMaxInputs: 1000 }))).toEqual([chunks.length]);
      const unreadable = new ReindexService({ ...h.deps(), batchMaxInputs: 1000, slots: () => Promise.reject(new Error('CLIENT LIST refused')) });
      expect(await planned(unreadable)).toEqual([chunks.length]);
      // The requests-per-minute budget caps the batches.
      expect(await planned(new ReindexService({ ...h.deps(), batchMaxInputs: 1000, slots: () => Promise.resolve(4), maxBatches: 2 }))).toHaveLength(2);
    });

    it('embeds every chunk once over the spread batches, one request per batch', async () => {
      const spread = new ReindexService({ ...h.deps(), batchMaxInputs: 1000, slots: () => Promise.resolve(4) });
      const id = await h.createCatalog();
      h.embedder.reset();
      expect(await h.run(id, {}, spread)).toMatchObject({ status: 'completed', embedded: chunks.length });
      expect(h.embedder.calls).toBe(4);
      expect(h.embedder.texts).toBe(chunks.length);
      expect(await h.pointIds(id)).toEqual(await h.rowIds(id));
    });
  });

  describe('reindex', () => {
    it('reports its phases in order with what it embedded, and records the tokens it paid', async () => {
      const id = await h.createCatalog();
      const phases: ReindexProgress[] = [];
      const result = await h.run(id, { jobId: 'job-phases', onProgress: (p) => void phases.push(p) });
      expect(phases).toEqual([
        { phase: 'planning', embedded: 0, toEmbed: 0 },
        ...[16, 32, 48, 64, 70].map((embedded) => ({ phase: 'embedding', embedded, toEmbed: chunks.length })),
        { phase: 'activating', embedded: chunks.length, toEmbed: chunks.length },
      ]);
      expect(result).toEqual({ status: 'completed', runId: expect.any(String), chunks: chunks.length, embedded: chunks.length, skipped: 0, deleted: 0, tokens: h.embedder.tokens, tokensBilled: h.embedder.tokens });
      expect(await h.runs.get(result.runId!)).toMatchObject({ jobId: 'job-phases', tokens: h.embedder.tokens, tokensBilled: h.embedder.tokens, details: { activated: chunks.length, pointsDeleted: 0, orphanPoints: 0, missingPoints: 0 } });
      expect((await h.leases.get(id))?.holder).toBe('job-phases:released');
    });

    it('embeds every chunk again when forced, and reuses its own checkpoints when it has to plan again', async () => {
      const id = await h.createCatalog();
      await h.run(id);
      h.embedder.reset();
      let replaced = false;
      const result = await h.run(id, {
        force: true,
        onProgress: async (p) => {
          if (p.phase === 'activating' && !replaced) {
            replaced = true;
            await h.catalogs.replace(id, toNew(editedShop('Changed during a forced run.')));
          }
        },
      });
      expect(result).toMatchObject({ status: 'completed', embedded: chunks.length + 1 });
      expect(h.embedder.texts).toBe(chunks.length + 1);
      expect(await h.pointIds(id)).toEqual(await h.rowIds(id));
    });

    it('reuses, in a forced job that starts over, the checkpoints of the run it abandoned', async () => {
      const id = await h.createCatalog();
      await h.run(id);
      h.embedder.reset();
      const first = await begin(id, 'job-forced', { jobId: 'job-forced', force: true });
      const planned = await h.reindex.plan(first.run);
      if (planned.kind !== 'planned') throw new Error(planned.kind);
      expect(planned).toMatchObject({ reused: 0, toEmbed: chunks.length });
      const done = await h.reindex.embedBatch(first.run, planned.batches[0]!);
      expect(done.embedded).toBeGreaterThan(0);
      // The job lost its run (its lease taken while it waited): it abandons the run and starts over.
      await h.reindex.abandon(first.run, 'its lease was taken over while it waited');
      await h.release(first.run);
      const calls = h.embedder.texts;
      const second = await begin(id, 'job-forced', { jobId: 'job-forced', force: true });
      expect(second.run.runId).not.toBe(first.run.runId);
      const replanned = await h.reindex.plan(second.run);
      expect(replanned).toMatchObject({ kind: 'planned', reused: done.embedded, toEmbed: chunks.length - done.embedded });
      for (const batch of replanned.kind === 'planned' ? replanned.batches : []) await h.reindex.embedBatch(second.run, batch);
      expect(await h.reindex.activate(second.run, 1)).toMatchObject({ kind: 'completed' });
      expect(h.embedder.texts - calls).toBe(chunks.length - done.embedded);
      expect(await h.pointIds(id)).toEqual(await h.rowIds(id));
      await h.release(second.run);
    });

    it('waits for a batch another execution holds, and embeds it once after it was freed', async () => {
      const id = await h.createCatalog();
      let holding: Promise<void> | undefined;
      let released = false;
      const freedAtCall: boolean[] = [];
      h.embedder.during = async () => {
        freedAtCall.push(released);
        if (holding) return;
        // While batch 0 is embedded, another execution takes batch 1's rows for a second.
        const runId = (await h.runs.list(id))[0]!.id;
        let held!: () => void;
        const isHeld = new Promise<void>((r) => (held = r));
        holding = h.whileBatchHeld(runId, 1, async () => {
          held();
          await new Promise((r) => setTimeout(r, 1_000));
          released = true;
        });
        await isHeld;
      };
      expect(await h.run(id)).toMatchObject({ status: 'completed', embedded: chunks.length });
      await holding;
      // One request per batch: batch 1 was not paid for while it was held, and was embedded after.
      expect(freedAtCall).toEqual([false, true, true, true, true]);
      expect(await h.pointIds(id)).toEqual(await h.rowIds(id));
    });

    it('plans again when the catalog is replaced after activation read it but before it locked it', async () => {
      const id = await h.createCatalog();
      let armed = false;
      h.catalogs.afterStamp = async () => {
        if (!armed) return;
        armed = false;
        await h.catalogs.replace(id, toNew(editedShop('Replaced at the last moment.')));
      };
      const result = await h.run(id, {
        onProgress: (p) => {
          if (p.phase === 'activating' && !armed && h.embedder.texts === chunks.length) armed = true;
        },
      });
      expect(result.status).toBe('completed');
      expect((await h.activeContent(id)).get('column:sales.refunds.reason')).toContain('Replaced at the last moment.');
      expect((await h.runs.get(result.runId!))?.catalogVersion).toBe(2);
    });

    it('abandons the run when the catalog is deleted before planning', async () => {
      const id = await h.createCatalog();
      const result = await h.run(id, {
        onProgress: async (p) => {
          if (p.phase === 'planning') await h.catalogs.delete(id);
        },
      });
      expect(result).toMatchObject({ status: 'abandoned', reason: 'catalog deleted', embedded: 0, deleted: 0, chunks: 0 });
      expect(h.embedder.calls).toBe(0);
      expect((await h.runs.get(result.runId!))?.status).toBe('abandoned');
    });

    it('gives up on a catalog that keeps changing, after twenty-one plans, and fails the run', async () => {
      const id = await h.createCatalog();
      let plans = 0;
      await expect(
        h.run(id, {
          onProgress: async (p) => {
            if (p.phase === 'planning') plans++;
            if (p.phase === 'activating') await h.catalogs.replace(id, toNew(editedShop(`Version after plan ${plans}.`)));
          },
        }),
      ).rejects.toThrow(/kept changing during its reindex: catalog replaced/);
      expect(plans).toBe(21);
      expect((await h.runs.list(id))[0]?.status).toBe('failed');
      expect((await h.leases.get(id))?.expired).toBe(true);
    });

    it('records a failure that is not an Error by its text', async () => {
      const id = await h.createCatalog();
      // A library that rejects with a bare string: the run records the string.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      h.embedder.during = () => Promise.reject('plain failure');
      await expect(h.run(id)).rejects.toBe('plain failure');
      expect((await h.runs.list(id))[0]).toMatchObject({ status: 'failed', error: 'plain failure' });
    });
  });
});
