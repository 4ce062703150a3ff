import { chunkCatalog } from '@catalog-indexer/catalog';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { PipelineHarness } from '../test/pipeline.harness';
import { MAX_PLANS, ReindexOrchestrator, replanDelayMs, type ReindexPort, type ReindexState, type RunProgress } from './reindex-orchestrator';
import { type RunContext } from './reindex.service';

/** A queue as the orchestrator sees it, recording what it is asked; children are left to the test. */
class RecordingPort implements ReindexPort {
  states: (ReindexState | null)[] = [];
  progress: RunProgress['phase'][] = [];
  batches: { run: RunContext; plan: number; batch: number }[] = [];
  finished = 0;
  followUps = 0;
  last = true;
  children: 'waiting' | 'done' = 'waiting';
  onAddBatches: (() => Promise<void>) | undefined;

  get state(): ReindexState | null | undefined {
    return this.states.at(-1);
  }
  saveState(state: ReindexState | null): Promise<void> {
    this.states.push(state);
    return Promise.resolve();
  }
  report(progress: RunProgress): Promise<void> {
    this.progress.push(progress.phase);
    return Promise.resolve();
  }
  claim(): Promise<boolean> {
    return Promise.resolve(false);
  }
  setVersion(): Promise<void> {
    return Promise.resolve();
  }
  finish(): Promise<void> {
    this.finished++;
    return Promise.resolve();
  }
  async addBatches(run: RunContext, plan: number, batches: number[]): Promise<void> {
    this.batches.push(...batches.map((batch) => ({ run, plan, batch })));
    await this.onAddBatches?.();
  }
  waitForChildren(): Promise<'waiting' | 'done'> {
    return Promise.resolve(this.children);
  }
  followUp(): Promise<string> {
    return Promise.resolve(`follow-up-${++this.followUps}`);
  }
  isLastAttempt(): boolean {
    return this.last;
  }
}

describe(ReindexOrchestrator.name, () => {
  const h = new PipelineHarness();
  const chunks = chunkCatalog(shopCatalog);
  let orchestrator: ReindexOrchestrator;

  beforeAll(async () => {
    await h.start();
    orchestrator = new ReindexOrchestrator(h.reindex);
  });
  afterAll(() => h.stop());
  beforeEach(() => h.reset());

  const attempt = (catalogId: string, state?: unknown) => ({ catalogId, jobId: 'job-1', holder: 'job-1', force: false, state });

  it('suspends the job once its batches are fanned out, holding the lease, and activates when it is resumed', async () => {
    const id = await h.createCatalog();
    const port = new RecordingPort();
    expect(await orchestrator.step(attempt(id), port)).toEqual({ kind: 'suspended' });
    expect(port.state).toMatchObject({ step: 'activate', plans: 1, version: 1 });
    expect(port.batches.map((b) => b.plan)).toEqual(port.batches.map(() => 1));
    expect(await h.leases.get(id)).toMatchObject({ holder: 'job-1', expired: false });
    for (const { run, batch } of port.batches) {
      expect(await orchestrator.batch(run, batch)).toMatchObject({ kind: 'done', result: { status: 'embedded' } });
    }
    const resumed = await orchestrator.step(attempt(id, port.state), port);
    expect(resumed).toMatchObject({ kind: 'done', result: { status: 'completed', embedded: chunks.length } });
    expect(port.progress).toEqual(['planning', 'planned', 'activating', 'done']);
    expect(port.finished).toBe(1);
    expect(await h.leases.get(id)).toMatchObject({ holder: 'job-1:released', expired: true });
    expect(await h.pointIds(id)).toEqual(await h.rowIds(id));
  });

  it('abandons a run whose catalog another writer took while it waited, and starts the job over', async () => {
    const id = await h.createCatalog();
    const port = new RecordingPort();
    await orchestrator.step(attempt(id), port);
    const saved = port.state!;
    await h.leases.release({ catalogId: id, fence: saved.fence });
    await h.leases.acquire(id, 'other-writer', 60_000);
    const step = await orchestrator.step(attempt(id, saved), port);
    expect(step).toMatchObject({ kind: 'wait' });
    expect((step as { ms: number }).ms).toBeLessThanOrEqual(1_500);
    expect(port.state).toBeNull();
    expect(await h.runs.get(saved.runId)).toMatchObject({ status: 'abandoned', error: 'its lease was taken over while it waited' });
    expect(await h.leases.get(id)).toMatchObject({ holder: 'other-writer', expired: false });
    await h.leases.release((await h.leases.get(id))!);
    // The job, its state cleared, starts a new run once the catalog is free.
    expect(await orchestrator.step(attempt(id, port.state), port)).toEqual({ kind: 'suspended' });
    expect(port.state).toMatchObject({ step: 'activate', plans: 1 });
    expect(port.state!.runId).not.toBe(saved.runId);
  });

  it('abandons a run that loses its lease while it works and asks for a follow-up', async () => {
    const id = await h.createCatalog();
    const port = new RecordingPort();
    port.children = 'done';
    port.onAddBatches = async () => {
      port.onAddBatches = undefined;
      // The batches are embedded; then another writer takes the catalog before the run activates them.
      for (const { run, batch } of port.batches) await orchestrator.batch(run, batch);
      await h.leases.release({ catalogId: id, fence: port.state!.fence });
      await h.leases.acquire(id, 'other-writer', 60_000);
    };
    const step = await orchestrator.step(attempt(id), port);
    expect(step).toMatchObject({ kind: 'done', result: { status: 'abandoned', reason: 'lease taken over by another writer', followUp: 'follow-up-1' } });
    expect(port.finished).toBe(1);
    expect(await h.runs.get(port.state!.runId)).toMatchObject({ status: 'abandoned', error: 'its lease was taken over by another writer' });
    expect(await h.leases.get(id)).toMatchObject({ holder: 'other-writer', expired: false });
    await h.leases.release((await h.leases.get(id))!);
  });

  it('keeps the run and its lease for the retry after a failed attempt, and fails the run on the last one', async () => {
    const id = await h.createCatalog();
    const port = new RecordingPort();
    port.last = false;
    h.catalogs.afterRejectedKeys = () => Promise.reject(new Error('database went away'));
    await expect(orchestrator.step(attempt(id), port)).rejects.toThrow('database went away');
    const saved = port.state!;
    expect(saved).toMatchObject({ step: 'plan', plans: 0 });
    expect(await h.runs.get(saved.runId)).toMatchObject({ status: 'running' });
    expect(await h.leases.get(id)).toMatchObject({ holder: 'job-1', fence: saved.fence, expired: false });
    expect(port.finished).toBe(0);

    port.last = true;
    await expect(orchestrator.step(attempt(id, saved), port)).rejects.toThrow('database went away');
    expect(await h.runs.get(saved.runId)).toMatchObject({ status: 'failed', error: 'database went away' });
    expect(await h.leases.get(id)).toMatchObject({ holder: 'job-1:released', expired: true });
    expect(port.finished).toBe(1);
  });

  it('plans again after a growing delay, holding the lease, when batches failed for good, then completes', async () => {
    const id = await h.createCatalog();
    const port = new RecordingPort();
    expect(await orchestrator.step(attempt(id), port)).toEqual({ kind: 'suspended' });
    // No batch of the first plan embedded anything (the API refused them): the run waits before planning again.
    const first = await orchestrator.step(attempt(id, port.state), port);
    expect(first.kind).toBe('wait');
    expect((first as { ms: number }).ms).toBeGreaterThanOrEqual(500);
    expect((first as { ms: number }).ms).toBeLessThanOrEqual(1_500);
    expect(port.state).toMatchObject({ step: 'plan', plans: 1, failedPlans: 1, reason: `${port.batches.length} batches not embedded` });
    expect(await h.leases.get(id)).toMatchObject({ holder: 'job-1', fence: port.state!.fence, expired: false });

    expect(await orchestrator.step(attempt(id, port.state), port)).toEqual({ kind: 'suspended' });
    expect(port.state).toMatchObject({ step: 'activate', plans: 2, failedPlans: 1 });
    const second = await orchestrator.step(attempt(id, port.state), port);
    expect((second as { ms: number }).ms).toBeGreaterThanOrEqual(1_000);
    expect((second as { ms: number }).ms).toBeLessThanOrEqual(3_000);
    expect(port.state).toMatchObject({ step: 'plan', plans: 2, failedPlans: 2 });

    expect(await orchestrator.step(attempt(id, port.state), port)).toEqual({ kind: 'suspended' });
    for (const { run, batch } of port.batches.filter((b) => b.plan === 3)) await orchestrator.batch(run, batch);
    const done = await orchestrator.step(attempt(id, port.state), port);
    expect(done).toMatchObject({ kind: 'done', result: { status: 'completed', embedded: chunks.length } });
    expect(await h.pointIds(id)).toEqual(await h.rowIds(id));
    expect([1, 2, 3, 5, 6, 7].map(replanDelayMs)).toEqual([1_000, 2_000, 4_000, 16_000, 30_000, 30_000]);
  });

  it('gives the retry of an attempt that ran out of plans a budget of its own', async () => {
    const id = await h.createCatalog();
    const port = new RecordingPort();
    port.last = false;
    expect(await orchestrator.step(attempt(id), port)).toEqual({ kind: 'suspended' });
    const exhausted = { ...port.state!, step: 'plan' as const, plans: MAX_PLANS };
    await expect(orchestrator.step(attempt(id, exhausted), port)).rejects.toThrow(
      `catalog ${id} kept changing during its reindex: batches kept failing (gave up after ${MAX_PLANS} plans)`,
    );
    expect(port.state).toMatchObject({ plans: MAX_PLANS, budgetFrom: MAX_PLANS });
    expect(await h.leases.get(id)).toMatchObject({ holder: 'job-1', expired: false });
    expect(await orchestrator.step(attempt(id, port.state), port)).toEqual({ kind: 'suspended' });
    expect(port.state).toMatchObject({ step: 'activate', plans: MAX_PLANS + 1 });
    for (const { run, batch } of port.batches.filter((b) => b.plan === MAX_PLANS + 1)) await orchestrator.batch(run, batch);
    // A failure inside the new budget keeps it: the next retry still counts from where this one began.
    h.catalogs.afterStamp = () => Promise.reject(new Error('database went away'));
    await expect(orchestrator.step(attempt(id, port.state), port)).rejects.toThrow('database went away');
    expect(port.state).toMatchObject({ step: 'activate', plans: MAX_PLANS + 1, budgetFrom: MAX_PLANS });
    h.catalogs.afterStamp = undefined;
    expect(await orchestrator.step(attempt(id, port.state), port)).toMatchObject({ kind: 'done', result: { status: 'completed' } });
  });

  it('completes at once, fanning out nothing, when the plan has nothing to embed', async () => {
    const id = await h.createCatalog();
    expect((await h.run(id)).status).toBe('completed');
    const port = new RecordingPort();
    expect(await orchestrator.step(attempt(id), port)).toMatchObject({ kind: 'done', result: { status: 'completed', skipped: chunks.length, embedded: 0 } });
    expect(port.batches).toEqual([]);
    expect(port.progress).toEqual(['planning', 'planned', 'activating', 'done']);
  });

  it('has a batch wait while another execution holds its rows, and ends it as fenced once the run lost its lease', async () => {
    const id = await h.createCatalog();
    const port = new RecordingPort();
    expect(await orchestrator.step(attempt(id), port)).toEqual({ kind: 'suspended' });
    const [first, second] = port.batches;
    await h.whileBatchHeld(first!.run.runId, first!.batch, async () => {
      expect(await orchestrator.batch(first!.run, first!.batch)).toEqual({ kind: 'wait', ms: 2_000 });
    });
    await h.leases.release({ catalogId: id, fence: port.state!.fence });
    await h.leases.acquire(id, 'other-writer', 60_000);
    expect(await orchestrator.batch(second!.run, second!.batch)).toEqual({ kind: 'done', result: { status: 'fenced', embedded: 0, tokens: 0 } });
    expect(h.embedder.calls).toBe(0);
    await h.leases.release((await h.leases.get(id))!);
  });

  it('ends at its next step a run whose catalog was deleted, removing the index and releasing the lease', async () => {
    const id = await h.createCatalog();
    expect((await h.run(id)).status).toBe('completed');
    const port = new RecordingPort();
    expect(await orchestrator.step({ ...attempt(id), force: true }, port)).toEqual({ kind: 'suspended' });
    const [first, ...rest] = port.batches;
    expect(rest.length).toBeGreaterThan(0);
    expect(await orchestrator.batch(first!.run, first!.batch)).toMatchObject({ kind: 'done', result: { status: 'embedded' } });
    expect(await h.catalogs.delete(id)).toBe(true);

    // The batches not yet taken embed nothing: no call is paid for a deleted catalog.
    const calls = h.embedder.calls;
    for (const { run, batch } of rest) expect(await orchestrator.batch(run, batch)).toMatchObject({ kind: 'done', result: { status: 'catalog-deleted' } });
    expect(h.embedder.calls).toBe(calls);

    const step = await orchestrator.step({ ...attempt(id, port.state), force: true }, port);
    expect(step).toMatchObject({ kind: 'done', result: { status: 'abandoned', reason: 'catalog deleted' } });
    expect(port.state).toMatchObject({ plans: 1 });
    expect(port.finished).toBe(1);
    expect(await h.runs.get(port.state!.runId)).toMatchObject({ status: 'abandoned', error: 'catalog deleted' });
    expect(await h.runs.countRunning(id)).toBe(0);
    expect(await h.rowIds(id)).toEqual([]);
    expect(await h.pointIds(id)).toEqual([]);
    expect(await h.leases.get(id)).toMatchObject({ holder: 'job-1:released', expired: true });
  });

  it('waits while the index switches to another embedding space, taking nothing', async () => {
    const id = await h.createCatalog();
    const port = new RecordingPort();
    const switching = new ReindexOrchestrator(h.reindex, { spaces: { switching: () => Promise.resolve(true) } });
    const step = await switching.step(attempt(id), port);
    expect(step.kind).toBe('wait');
    // The reindex looks again in about 5 s, jittered by half either way.
    expect((step as { ms: number }).ms).toBeGreaterThanOrEqual(2_500);
    expect((step as { ms: number }).ms).toBeLessThanOrEqual(7_500);
    expect(await switching.batch({ catalogId: id, runId: '00000000-0000-4000-8000-000000000000', fence: 1 }, 0)).toEqual({ kind: 'wait', ms: 5_000 });
    expect(await h.leases.get(id)).toBeNull();
    expect(port.states).toEqual([]);
  });
});
