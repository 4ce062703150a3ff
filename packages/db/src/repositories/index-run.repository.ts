import { type DataSource, type EntityManager } from 'typeorm';
import { IndexRunEntity, type IndexRunMode, type IndexRunRow } from '../entities/index-run.entity';

export interface IndexRunCounts {
  embedded: number;
  skipped: number;
  deleted: number;
  tokens: number;
  /** Tokens paid for, whether or not the work they bought was kept. */
  tokensBilled: number;
}

/** What a reindex plan decided about the index its activation changes. */
export interface RunRetirement {
  /** Chunks of the planned catalog version: those skipped (unchanged) and those the run embeds. */
  chunks: number;
  /** Ids of the active rows to remove besides those the run's rows replace: chunks gone from the catalog. */
  retire: readonly string[];
}

/** What a plan records with its run (see `IndexRunRepository.setPlanned`). */
export interface RunPlanRecord {
  vocabulary?: readonly string[];
  retirement?: RunRetirement;
}

/** What a run's plan records only while the run lasts (see `IndexRunRepository.setPlanned`): cleared however it ends. */
const PLAN_CLEARED = { vocabulary: null, retire: null };
/** The same in SQL: the properties are the columns' own names. */
const PLAN_CLEARED_SQL = Object.keys(PLAN_CLEARED)
  .map((column) => `${column} = NULL`)
  .join(', ');

/** The record of every reindex, cleanup and reconcile run. Every run ends `completed`, `failed` or `abandoned`. */
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
      tokensBilled: 0,
      finishedAt: null,
      error: null,
      details: null,
    });
  }

  async get(id: string): Promise<IndexRunRow | null> {
    return this.dataSource.getRepository(IndexRunEntity).findOne({ where: { id } });
  }

  /**
   * Adds to a running run's counters (batch jobs report what they embedded), in the caller's transaction
   * when given one (counted if and only if the work it counts is committed).
   */
  async add(id: string, counts: Partial<IndexRunCounts>, m?: EntityManager): Promise<void> {
    await (m ?? this.dataSource).query(
      `UPDATE index_runs SET embedded = embedded + $2, skipped = skipped + $3, deleted = deleted + $4, tokens = tokens + $5,
              tokens_billed = tokens_billed + $6
        WHERE id = $1`,
      [id, counts.embedded ?? 0, counts.skipped ?? 0, counts.deleted ?? 0, counts.tokens ?? 0, counts.tokensBilled ?? 0],
    );
  }

  /**
   * Records what a run's plan decided (see {@link RunPlanRecord}): the catalog version it works on (it changes
   * when a run follows a replaced catalog) and, when given, the words of that version's identifiers (see
   * {@link vocabulary}) and what its activation retires (see {@link retirement}). Words and retirements are
   * kept while the run lasts and cleared when it ends; what a plan does not give stays as recorded.
   */
  async setPlanned(id: string, catalogVersion: number, plan: RunPlanRecord = {}): Promise<void> {
    await this.dataSource.query(
      `UPDATE index_runs SET catalog_version = $2, vocabulary = COALESCE($3::text[], vocabulary),
              planned_chunks = COALESCE($4::int, planned_chunks), retire = COALESCE($5::uuid[], retire)
        WHERE id = $1`,
      [id, catalogVersion, plan.vocabulary ?? null, plan.retirement?.chunks ?? null, plan.retirement?.retire ?? null],
    );
  }

  /**
   * What a batch of the run checks first, in one small read: whether the run's catalog still exists, and the
   * catalog version the run's plan recorded (null when there is no such run).
   */
  async planned(id: string, catalogId: string): Promise<{ catalogExists: boolean; version: number | null }> {
    const rows: { catalogExists: boolean; version: number | null }[] = await this.dataSource.query(
      `SELECT EXISTS (SELECT 1 FROM catalogs WHERE id = $2) AS "catalogExists",
              (SELECT catalog_version FROM index_runs WHERE id = $1) AS version`,
      [id, catalogId],
    );
    return rows[0]!;
  }

  /** The words the run's plan recorded, with the catalog version they are of; null words when it recorded none (or the run has ended). */
  async vocabulary(id: string): Promise<{ version: number; words: string[] | null } | null> {
    const rows: { version: number; words: string[] | null }[] = await this.dataSource.query(
      `SELECT catalog_version AS version, vocabulary AS words FROM index_runs WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  /**
   * What the run's plan recorded for its activation, with the catalog version it is of; null when it recorded
   * none (a run planned before plans recorded it, or one that has ended).
   */
  async retirement(id: string): Promise<({ version: number } & RunRetirement) | null> {
    const rows: { version: number; chunks: number | null; retire: string[] | null }[] = await this.dataSource.query(
      `SELECT catalog_version AS version, planned_chunks AS chunks, retire FROM index_runs WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    return row && row.chunks !== null && row.retire !== null ? { version: row.version, chunks: row.chunks, retire: row.retire } : null;
  }

  async complete(id: string, counts: Partial<IndexRunCounts>, details?: Record<string, unknown>): Promise<void> {
    await this.dataSource
      .getRepository(IndexRunEntity)
      .update({ id }, { ...counts, status: 'completed', finishedAt: new Date(), ...PLAN_CLEARED });
    if (details) await this.dataSource.query(`UPDATE index_runs SET details = $2::jsonb WHERE id = $1`, [id, JSON.stringify(details)]);
  }

  async fail(id: string, error: string, counts?: Partial<IndexRunCounts>): Promise<void> {
    await this.dataSource
      .getRepository(IndexRunEntity)
      .update({ id, status: 'running' }, { ...counts, status: 'failed', error: error.slice(0, 4000), finishedAt: new Date(), ...PLAN_CLEARED });
  }

  async abandon(id: string, reason: string): Promise<void> {
    await this.dataSource
      .getRepository(IndexRunEntity)
      .update({ id, status: 'running' }, { status: 'abandoned', error: reason.slice(0, 4000), finishedAt: new Date(), ...PLAN_CLEARED });
  }

  /**
   * Marks the catalog's other running runs `abandoned`: called by a writer that was just granted the lease,
   * so those runs' holders are gone (their leases expired) or finished without saying so.
   */
  async abandonOthers(catalogId: string, exceptRunId: string | null, reason: string): Promise<number> {
    const result: [unknown, number] = await this.dataSource.query(
      `UPDATE index_runs SET status = 'abandoned', error = $3, finished_at = now(), ${PLAN_CLEARED_SQL}
        WHERE catalog_id = $1 AND status = 'running' AND ($2::uuid IS NULL OR id <> $2::uuid)`,
      [catalogId, exceptRunId, reason],
    );
    return result[1];
  }

  /**
   * The holders of the expired leases of catalogs that have runs still `running`: each is either gone (its
   * runs are orphans) or only late to renew (Postgres was out of reach); the caller tells which.
   */
  async expiredHolders(): Promise<string[]> {
    const rows: { holder: string }[] = await this.dataSource.query(
      `SELECT DISTINCT l.holder FROM catalog_leases l
        WHERE l.expires_at < now() AND EXISTS (SELECT 1 FROM index_runs r WHERE r.catalog_id = l.catalog_id AND r.status = 'running')`,
    );
    return rows.map((r) => r.holder);
  }

  /**
   * Runs still `running` whose catalog lease has expired (or never existed): their holders are gone. Runs of
   * catalogs whose lease is held by one of `aliveHolders` are spared (their holders are at work).
   */
  async abandonOrphaned(reason: string, aliveHolders: readonly string[] = []): Promise<number> {
    const result: [unknown, number] = await this.dataSource.query(
      `UPDATE index_runs r SET status = 'abandoned', error = $1, finished_at = now(), ${PLAN_CLEARED_SQL}
        WHERE r.status = 'running'
          AND NOT EXISTS (SELECT 1 FROM catalog_leases l
                           WHERE l.catalog_id = r.catalog_id AND (l.expires_at >= now() OR l.holder = ANY($2::text[])))`,
      [reason, aliveHolders],
    );
    return result[1];
  }

  /** The ids of the catalog's runs opened by one job (a job that started over opens several). */
  async idsOfJob(catalogId: string, jobId: string): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(`SELECT id FROM index_runs WHERE catalog_id = $1 AND job_id = $2`, [catalogId, jobId]);
    return rows.map((r) => r.id);
  }

  /** Runs of a catalog, newest first. */
  async list(catalogId: string, limit = 50, mode?: IndexRunMode): Promise<IndexRunRow[]> {
    return this.dataSource
      .getRepository(IndexRunEntity)
      .find({ where: { catalogId, ...(mode ? { mode } : {}) }, order: { startedAt: 'DESC' }, take: limit });
  }

  async countRunning(catalogId?: string): Promise<number> {
    const rows: { n: string }[] = await this.dataSource.query(
      `SELECT count(*) AS n FROM index_runs WHERE status = 'running' AND ($1::uuid IS NULL OR catalog_id = $1::uuid)`,
      [catalogId ?? null],
    );
    return Number(rows[0]?.n ?? 0);
  }
}
