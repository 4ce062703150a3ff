import { z } from 'zod';
import { type JobsOptions } from 'bullmq';
import { JOB_BACKOFF, backoffDelay } from '@catalog-indexer/retry';

/** The one queue of catalog jobs. Workers of every host consume it. */
export const CATALOG_QUEUE = 'catalog-jobs';

const DAY_S = 24 * 60 * 60;

/**
 * Backoff of every retried job: the worker's `capped` strategy, 2 s doubling up to 60 s (see
 * {@link cappedBackoff}), so that with the attempts below an outage of Postgres, Qdrant or the embeddings API
 * of several minutes delays a job but does not fail it.
 */
const COMMON_OPTIONS = {
  backoff: { type: 'capped', delay: JOB_BACKOFF.initialMs },
  removeOnComplete: { age: 7 * DAY_S, count: 5_000 },
  removeOnFail: { age: 30 * DAY_S },
} satisfies JobsOptions;

/** The largest pause between two attempts of a job. */
export const MAX_BACKOFF_MS = JOB_BACKOFF.maxMs;

/**
 * 2 s, 4 s, 8 s … capped at {@link MAX_BACKOFF_MS}, with ±20 % jitter so retries of many jobs spread out
 * ({@link JOB_BACKOFF}, starting from the job's `backoff.delay`).
 */
export function cappedBackoff(attemptsMade: number, delay = JOB_BACKOFF.initialMs, random: () => number = Math.random): number {
  return backoffDelay({ ...JOB_BACKOFF, initialMs: delay }, attemptsMade, random);
}

/**
 * Every job name, its payload schema and its default options, shared by the producer (api) and the
 * consumer (worker). Payloads carry ids and small parameters only: handlers re-read the catalog from Postgres.
 */
export const jobCatalog = {
  reindex: {
    payload: z.object({
      catalogId: z.uuid(),
      /** Re-embed every chunk even when its content hash is unchanged. */
      force: z.boolean().default(false),
      /** Where the run is, set by the worker once it has begun; its shape belongs to the pipeline, which parses it. */
      state: z.record(z.string(), z.unknown()).optional(),
    }),
    options: { ...COMMON_OPTIONS, attempts: 15 } satisfies JobsOptions,
  },
  /** One batch of a reindex's planned rows: embed, upsert points, mark embedded. A child of its reindex job. */
  'embed-batch': {
    payload: z.object({
      catalogId: z.uuid(),
      runId: z.uuid(),
      fence: z.number().int().positive(),
      batch: z.number().int().nonnegative(),
    }),
    options: { ...COMMON_OPTIONS, attempts: 15, removeOnComplete: { age: DAY_S, count: 20_000 } } satisfies JobsOptions,
  },
  cleanup: {
    payload: z.object({
      catalogId: z.uuid(),
      /** The catalog was deleted: remove all its rows and points. */
      catalogDeleted: z.boolean().default(false),
    }),
    options: { ...COMMON_OPTIONS, attempts: 15 } satisfies JobsOptions,
  },
  /** Compares rows with points and repairs both; without a catalog id, every catalog and the delete outbox. */
  reconcile: {
    payload: z.object({ catalogId: z.uuid().optional() }),
    options: { ...COMMON_OPTIONS, attempts: 5, removeOnComplete: { age: DAY_S, count: 1_000 } } satisfies JobsOptions,
  },
  /**
   * Adopts a pgvector-era table (see the pipeline's PgvectorAdoptionService). A separate source's connection
   * string is never in the payload: `sourceRef` names it in the {@link SourceVault}.
   */
  'pgvector-adoption': {
    payload: z.object({
      sourceRef: z.uuid().optional(),
      table: z.string().min(1).max(128).optional(),
      model: z.string().min(1).max(128).optional(),
      dryRun: z.boolean().default(false),
      dropLegacy: z.boolean().default(false),
    }),
    options: { ...COMMON_OPTIONS, attempts: 10 } satisfies JobsOptions,
  },
  /** Writes the vectors of a pgvector-era table back from Qdrant; `targetRef` as `sourceRef` above. */
  'pgvector-rollback': {
    payload: z.object({ targetRef: z.uuid().optional(), table: z.string().min(1).max(128).optional() }),
    options: { ...COMMON_OPTIONS, attempts: 10 } satisfies JobsOptions,
  },
} as const;

export type JobName = keyof typeof jobCatalog;
export const JOB_NAMES = Object.keys(jobCatalog) as JobName[];
export type JobPayload<N extends JobName> = z.output<(typeof jobCatalog)[N]['payload']>;
export type JobInput<N extends JobName> = z.input<(typeof jobCatalog)[N]['payload']>;

/** Validates a payload against the catalog; throws a ZodError naming what is wrong. */
export function parsePayload<N extends JobName>(name: N, data: unknown): JobPayload<N> {
  return jobCatalog[name].payload.parse(data) as JobPayload<N>;
}

export function isJobName(name: string): name is JobName {
  return Object.prototype.hasOwnProperty.call(jobCatalog, name);
}
