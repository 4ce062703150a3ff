import { EntitySchema } from 'typeorm';

export type IndexRunMode = 'reindex' | 'cleanup' | 'reconcile';
/**
 * `abandoned`: the run stopped without failing: its catalog was deleted, or another writer took the catalog's
 * lease after this run's holder died (its checkpoints stay for the next run).
 */
export type IndexRunStatus = 'running' | 'completed' | 'failed' | 'abandoned';

/** The record of one reindex or cleanup of one catalog. */
export interface IndexRunRow {
  id: string;
  catalogId: string;
  jobId: string | null;
  mode: IndexRunMode;
  status: IndexRunStatus;
  catalogVersion: number;
  embedded: number;
  skipped: number;
  deleted: number;
  tokens: number;
  /** Tokens of every embedding call made for the run, retries and attempts whose work was lost included. */
  tokensBilled: number;
  startedAt: Date;
  finishedAt: Date | null;
  error: string | null;
  /** Mode-specific figures, e.g. the drift a reconcile found and repaired. */
  details: Record<string, unknown> | null;
  /**
   * The words of the catalog version a reindex run planned, kept while it runs (see
   * `IndexRunRepository.setPlanned`); not read with the run's record.
   */
  vocabulary?: string[] | null;
  /** The active rows the run's activation retires, kept while it runs (see `IndexRunRepository.setPlanned`); not read with the record. */
  retire?: string[] | null;
}

export const IndexRunEntity = new EntitySchema<IndexRunRow>({
  name: 'IndexRun',
  tableName: 'index_runs',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    catalogId: { name: 'catalog_id', type: 'uuid' },
    jobId: { name: 'job_id', type: 'text', nullable: true },
    mode: { type: 'text' },
    status: { type: 'text' },
    catalogVersion: { name: 'catalog_version', type: 'integer' },
    embedded: { type: 'integer', default: 0 },
    skipped: { type: 'integer', default: 0 },
    deleted: { type: 'integer', default: 0 },
    tokens: { type: 'integer', default: 0 },
    tokensBilled: { name: 'tokens_billed', type: 'integer', default: 0 },
    startedAt: { name: 'started_at', type: 'timestamptz', createDate: true },
    finishedAt: { name: 'finished_at', type: 'timestamptz', nullable: true },
    error: { type: 'text', nullable: true },
    details: { type: 'jsonb', nullable: true },
    vocabulary: { type: 'text', array: true, nullable: true, select: false },
    retire: { type: 'uuid', array: true, nullable: true, select: false },
  },
});
