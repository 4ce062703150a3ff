import { type DataSource } from 'typeorm';
import { IndexRunEntity, type IndexRunMode, type IndexRunRow } from '../entities/index-run.entity';

export interface IndexRunCounts {
  embedded: number;
  skipped: number;
  deleted: number;
  tokens: number;
}

/** The record of every reindex and cleanup run. */
export class IndexRunRepository {
  constructor(private readonly dataSource: DataSource) {}

  async start(catalogId: string, mode: IndexRunMode, jobId: string | null, catalogVersion: number): Promise<IndexRunRow> {
    return this.dataSource.getRepository(IndexRunEntity).save({
      catalogId,
      mode,
      jobId,
      catalogVersion,
      status: 'running',
      embedded: 0,
      skipped: 0,
      deleted: 0,
      tokens: 0,
      finishedAt: null,
      error: null,
    });
  }

  async complete(id: string, counts: IndexRunCounts): Promise<void> {
    await this.dataSource
      .getRepository(IndexRunEntity)
      .update({ id }, { ...counts, status: 'completed', finishedAt: new Date() });
  }

  async fail(id: string, error: string, counts?: Partial<IndexRunCounts>): Promise<void> {
    await this.dataSource
      .getRepository(IndexRunEntity)
      .update({ id }, { ...counts, status: 'failed', error: error.slice(0, 4000), finishedAt: new Date() });
  }

  /** Runs of a catalog, newest first. */
  async list(catalogId: string, limit = 50): Promise<IndexRunRow[]> {
    return this.dataSource
      .getRepository(IndexRunEntity)
      .find({ where: { catalogId }, order: { startedAt: 'DESC' }, take: limit });
  }
}
