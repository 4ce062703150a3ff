import { z } from 'zod';
import { type JobsOptions } from 'bullmq';

/** The one queue of catalog jobs. Workers of every host consume it. */
export const CATALOG_QUEUE = 'catalog-jobs';

const DAY_S = 24 * 60 * 60;

/** Backoff and retention shared by every job: finished jobs are kept for a while, not forever. */
const COMMON_OPTIONS = {
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { age: 7 * DAY_S, count: 5_000 },
  removeOnFail: { age: 30 * DAY_S },
} satisfies JobsOptions;

/**
 * Every job name, its payload schema and its default options, shared by the producer (api) and the
 * consumer (worker). Payloads carry ids only: handlers re-read the catalog from Postgres.
 */
export const jobCatalog = {
  reindex: {
    payload: z.object({
      catalogId: z.uuid(),
      /** Re-embed every chunk even when its content hash is unchanged. */
      force: z.boolean().default(false),
    }),
    options: { ...COMMON_OPTIONS, attempts: 5 } satisfies JobsOptions,
  },
  cleanup: {
    payload: z.object({
      catalogId: z.uuid(),
      /** The catalog was deleted: remove all its rows and points. */
      catalogDeleted: z.boolean().default(false),
    }),
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
