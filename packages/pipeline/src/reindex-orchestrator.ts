import { FencedError } from '@catalog-indexer/db';
import { REPLAN_BACKOFF, backoffDelay } from '@catalog-indexer/retry';
import { z } from 'zod';
import { type HeldLease } from './lease-section';
import { type BatchResult, type PlanOutcome, type ReindexResult, type ReindexService, type RunContext } from './reindex.service';

/** Where a reindex run is between the jobs that carry it: the parent job keeps it in its data. */
export const reindexStateSchema = z.object({
  runId: z.uuid(),
  fence: z.number().int().positive(),
  step: z.enum(['plan', 'activate']),
  /** The catalog version the current plan indexes. */
  version: z.number().int().optional(),
  /** How many plans this run made (each plan's batch jobs have ids of their own). */
  plans: z.number().int().nonnegative().default(0),
  /** `plans` when the current attempt's budget of {@link MAX_PLANS} began (a retry gets a budget of its own). */
  budgetFrom: z.number().int().nonnegative().default(0),
  /** Plans in a row made again because batches failed for good: the next waits longer (see {@link replanDelayMs}). */
  failedPlans: z.number().int().nonnegative().default(0),
  /** Why the run last had to plan again. */
  reason: z.string().optional(),
});
export type ReindexState = z.output<typeof reindexStateSchema>;

/**
 * Plans an attempt of a run makes before it gives up: the first and twenty more (the catalog kept changing,
 * or batches kept failing). The job's retry, after its backoff, starts a budget of its own.
 */
export const MAX_PLANS = 21;

/**
 * How long a run waits before planning again after batches failed for good: 1 s, doubling with each such
 * plan in a row, at most 30 s. The API refused those batches (a rate limit a request exceeds on its own, an
 * outage of the account): planning again at once would spend the run's plans in the seconds the refusal lasts.
 */
export function replanDelayMs(failedPlans: number): number {
  return backoffDelay(REPLAN_BACKOFF, failedPlans);
}

/** How long a reindex waits before looking again whether a switch of embedding space is over. */
export const SWITCH_WAIT_MS = 5_000;

/** What the orchestrator tells the queue as a run moves on. */
export type RunProgress =
  | { phase: 'planning' }
  | { phase: 'planned'; chunks: number; skipped: number; reused: number; toEmbed: number; batches: number }
  | { phase: 'activating' }
  | { phase: 'done'; result: ReindexResult };

/**
 * What a reindex run needs from the queue that carries it, one parent job of many attempts. The worker
 * implements it with BullMQ flows; {@link InProcessFanOut} implements it in this process.
 */
export interface ReindexPort {
  /** Keeps the run's state for the job's next attempt; `null` starts the job over (its run was lost). */
  saveState(state: ReindexState | null, force: boolean): Promise<void>;
  report(progress: RunProgress): Promise<void>;
  /** Claims the requests coalesced into this job; true when one of them asked for a forced run. */
  claim(): Promise<boolean>;
  /** Records the catalog version this job's current plan indexes (later requests of that version coalesce). */
  setVersion(version: number): Promise<void>;
  /** Ends the job's claim on the coalesced requests. */
  finish(): Promise<void>;
  /** Adds one child job per batch of the run's `plan`-th plan. */
  addBatches(run: RunContext, plan: number, batches: number[]): Promise<void>;
  /** `waiting`: the job is suspended until its children are done; `done`: they already are. */
  waitForChildren(): Promise<'waiting' | 'done'>;
  /** Asks for another reindex of the catalog (after this run lost the catalog to another writer). */
  followUp(force: boolean): Promise<string | undefined>;
  /** Whether a failure now fails the job for good (no retry follows). */
  isLastAttempt(): boolean;
}

/** One attempt of a reindex job. */
export interface ReindexAttempt {
  catalogId: string;
  /** The queue's job id, recorded on the run (null in process). */
  jobId: string | null;
  /** Who takes the catalog's lease: every attempt of one job is the same holder. */
  holder: string;
  force: boolean;
  /** The state the job's previous attempt saved (unparsed), if any. */
  state?: unknown;
  /** Aborted when the process stops. */
  signal?: AbortSignal;
}

/** How an attempt ended. */
export type ReindexStep =
  /**
   * Try again in `ms`: another writer holds the catalog, the run was lost while it waited, the space is
   * switching, or batches failed for good and the run plans again after a delay.
   */
  | { kind: 'wait'; ms: number }
  /** Waiting for the run's batches; the job is resumed when they are done. */
  | { kind: 'suspended' }
  | { kind: 'done'; result: ReindexResult };

/** How an attempt of a batch job ended. */
export type BatchStep = { kind: 'wait'; ms: number } | { kind: 'done'; result: BatchResult | { status: 'fenced'; embedded: 0; tokens: 0 } };

export interface ReindexOrchestratorOptions {
  /** How long a job waits before trying again for a catalog another writer holds (default 1 s, jittered). */
  busyDelayMs?: number;
  /** While the index moves to another embedding model or size, reindexes wait for it. */
  spaces?: { switching(): Promise<boolean> };
}

/**
 * The one conductor of a reindex run, in production, tests and benchmarks alike. A run is carried by a parent
 * job of many attempts and one child job per planned batch, through a {@link ReindexPort}:
 *
 * - begin: take the catalog's lease (or wait while another writer holds it), claim the coalesced requests,
 *   open the run;
 * - plan: write the planned rows, fan out one batch job per batch and wait for them (the lease stays held
 *   while the parent waits: its batches keep it alive);
 * - activate: once every batch is done, activate in one fenced transaction; plan again when the catalog
 *   changed meanwhile, or after {@link replanDelayMs} when a batch failed for good; at most {@link MAX_PLANS}
 *   plans an attempt.
 *
 * A retried or resumed attempt takes up the run at its step with the same run and fence, or, when another
 * writer took the catalog meanwhile, abandons it and starts over. A run that loses its lease while it works
 * is abandoned (its checkpoints stay) and asks for a follow-up reindex. A failure of the last attempt fails
 * the run; earlier ones leave it for the retry. The lease is released whenever the run ends.
 */
export class ReindexOrchestrator {
  constructor(
    readonly service: ReindexService,
    private readonly options: ReindexOrchestratorOptions = {},
  ) {}

  /** Runs one attempt of a reindex job. */
  async step(attempt: ReindexAttempt, port: ReindexPort): Promise<ReindexStep> {
    const { service } = this;
    if (await this.options.spaces?.switching()) return { kind: 'wait', ms: jitter(SWITCH_WAIT_MS) };
    const busy = { kind: 'wait', ms: jitter(this.options.busyDelayMs ?? 1_000) } as const;
    const { catalogId, holder } = attempt;
    if (attempt.state === undefined || attempt.state === null) {
      const begun = await service.lease.withLease(catalogId, holder, async (held): Promise<ReindexStep> => {
        const opened = await service.open(held.fence, { jobId: attempt.jobId, force: attempt.force });
        const force = attempt.force || (await port.claim());
        if (opened.kind === 'missing') {
          await port.finish();
          return { kind: 'done', result: skipped('catalog not found') };
        }
        const state: ReindexState = { runId: opened.run.runId, fence: held.fence.fence, step: 'plan', plans: 0, budgetFrom: 0, failedPlans: 0 };
        await port.saveState(state, force);
        return this.conduct({ ...opened.run, force }, state, held, port, attempt.signal);
      });
      return begun.kind === 'busy' ? busy : begun.value;
    }
    const state = reindexStateSchema.parse(attempt.state);
    const run: RunContext = { catalogId, runId: state.runId, fence: state.fence, force: attempt.force, jobId: attempt.jobId };
    const resumed = await service.lease.resume({ catalogId, fence: state.fence }, holder, (held) => this.conduct(run, state, held, port, attempt.signal));
    if (resumed.kind === 'done') return resumed.value;
    await service.abandon(run, 'its lease was taken over while it waited');
    await port.saveState(null, attempt.force);
    return busy;
  }

  /**
   * Runs one attempt of a batch job: embeds the batch keeping the run's lease alive. A batch of a run that
   * lost its lease stops without retrying; one that another execution of the same job still holds waits.
   */
  async batch(run: Pick<RunContext, 'catalogId' | 'runId' | 'fence'>, batch: number, signal?: AbortSignal): Promise<BatchStep> {
    const { service } = this;
    // A batch planned before the switch of embedding space waits for it: its vectors would not fit.
    if (await this.options.spaces?.switching()) return { kind: 'wait', ms: SWITCH_WAIT_MS };
    try {
      const result = await service.lease.sustain({ catalogId: run.catalogId, fence: run.fence }, () => service.embedBatch(run, batch, signal));
      // Another execution of this batch holds its rows (this job was taken up again while it still runs).
      if (result.status === 'busy') return { kind: 'wait', ms: 2_000 };
      return { kind: 'done', result };
    } catch (error) {
      if (error instanceof FencedError) return { kind: 'done', result: { status: 'fenced', embedded: 0, tokens: 0 } };
      throw error;
    }
  }

  private async conduct(run: RunContext, from: ReindexState, held: HeldLease, port: ReindexPort, signal?: AbortSignal): Promise<ReindexStep> {
    const { service } = this;
    let state = from;
    try {
      for (;;) {
        signal?.throwIfAborted();
        held.signal.throwIfAborted();
        if (state.step === 'plan') {
          if (state.plans - state.budgetFrom >= MAX_PLANS) {
            throw new Error(`catalog ${run.catalogId} kept changing during its reindex: ${state.reason ?? 'batches kept failing'} (gave up after ${state.plans} plans)`);
          }
          await port.report({ phase: 'planning' });
          const plan: PlanOutcome = await service.plan(run);
          state = { ...state, step: 'activate', version: plan.kind === 'planned' ? plan.version : -1, plans: state.plans + 1 };
          await port.saveState(state, run.force);
          if (plan.kind === 'planned') {
            await port.setVersion(plan.version);
            const { chunks, skipped, reused, toEmbed, batches } = plan;
            await port.report({ phase: 'planned', chunks, skipped, reused, toEmbed, batches: batches.length });
            if (batches.length > 0) {
              await port.addBatches(run, state.plans, batches);
              if ((await port.waitForChildren()) === 'waiting') {
                held.keep();
                return { kind: 'suspended' };
              }
            }
          }
        }
        await port.report({ phase: 'activating' });
        const outcome = await service.activate(run, state.version ?? -1);
        if (outcome.kind === 'replan') {
          const failedPlans = outcome.cause === 'batches' ? state.failedPlans + 1 : 0;
          state = { ...state, step: 'plan', reason: outcome.reason, failedPlans };
          await port.saveState(state, run.force);
          if (failedPlans === 0) continue;
          // The job comes back after the delay and plans then; the run keeps its lease meanwhile.
          held.keep();
          return { kind: 'wait', ms: jitter(replanDelayMs(failedPlans)) };
        }
        await port.finish();
        await port.report({ phase: 'done', result: outcome.result });
        return { kind: 'done', result: outcome.result };
      }
    } catch (error) {
      if (error instanceof FencedError) {
        await service.abandon(run, 'its lease was taken over by another writer');
        await port.finish();
        const followUp = await port.followUp(run.force);
        return { kind: 'done', result: { ...skipped('lease taken over by another writer'), status: 'abandoned', followUp } };
      }
      if (port.isLastAttempt()) {
        await service.fail(run, error);
        await port.finish();
      } else {
        // The retry takes the run up again with the same fence, with a budget of plans of its own.
        if (state.plans - state.budgetFrom >= MAX_PLANS) await port.saveState({ ...state, budgetFrom: state.plans }, run.force);
        held.keep();
      }
      throw error;
    }
  }
}

function skipped(reason: string): ReindexResult {
  return { status: 'skipped', reason, chunks: 0, embedded: 0, skipped: 0, deleted: 0, tokens: 0 };
}

function jitter(ms: number): number {
  return Math.round(ms * (0.5 + Math.random()));
}
