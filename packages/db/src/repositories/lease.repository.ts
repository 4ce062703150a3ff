import { type DataSource, type EntityManager } from 'typeorm';
import { FencedError } from '../errors/fenced.error';

/** The right of one run to write a catalog's index, proven by its fence number. */
export interface Fence {
  catalogId: string;
  fence: number;
}

export interface LeaseView {
  catalogId: string;
  fence: number;
  holder: string;
  expiresAt: Date;
  expired: boolean;
}

/**
 * One writer per catalog, across every process and host: a lease row per catalog in Postgres.
 *
 * - A lease is granted when there is none, when it expired (its holder stopped renewing it: a dead process
 *   cannot keep it), or to the holder that already has it (a retried job of the same run).
 * - Each grant to a new holder raises the fence. Every write of a holder runs in a transaction that first
 *   locks the lease row `FOR SHARE` and checks the fence ({@link LeaseRepository.fenced}); a grant updates
 *   that row, so it waits for writes in progress and, once done, makes every later write of the previous
 *   holder fail with {@link FencedError}. A holder that lost its lease cannot write.
 * - Time is Postgres's `now()`: one clock for every host.
 */
export class LeaseRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Grants the lease to `holder` for `ttlMs`, or returns null while another holder's lease is live. */
  async acquire(catalogId: string, holder: string, ttlMs: number): Promise<Fence | null> {
    const rows: { fence: string }[] = await this.dataSource.query(
      `INSERT INTO catalog_leases AS l (catalog_id, fence, holder, expires_at)
       VALUES ($1, 1, $2, now() + $3 * interval '1 millisecond')
       ON CONFLICT (catalog_id) DO UPDATE
          SET fence = l.fence + CASE WHEN l.holder = EXCLUDED.holder THEN 0 ELSE 1 END,
              holder = EXCLUDED.holder,
              expires_at = EXCLUDED.expires_at
        WHERE l.holder = EXCLUDED.holder OR l.expires_at < now()
       RETURNING fence`,
      [catalogId, holder, ttlMs],
    );
    const row = rows[0];
    return row ? { catalogId, fence: Number(row.fence) } : null;
  }

  /** Extends a lease still held with this fence; false when it was taken over. */
  async renew(fence: Fence, ttlMs: number): Promise<boolean> {
    const result: [unknown, number] = await this.dataSource.query(
      `UPDATE catalog_leases SET expires_at = now() + $3 * interval '1 millisecond'
        WHERE catalog_id = $1 AND fence = $2`,
      [fence.catalogId, fence.fence, ttlMs],
    );
    return result[1] > 0;
  }

  /** Ends a lease at once (the fence stays, so numbers keep growing). No-op when it was taken over. */
  async release(fence: Fence): Promise<void> {
    await this.dataSource.query(
      `UPDATE catalog_leases SET expires_at = now() - interval '1 millisecond', holder = holder || ':released'
        WHERE catalog_id = $1 AND fence = $2`,
      [fence.catalogId, fence.fence],
    );
  }

  async get(catalogId: string): Promise<LeaseView | null> {
    const rows: { fence: string; holder: string; expires_at: Date; expired: boolean }[] = await this.dataSource.query(
      `SELECT fence, holder, expires_at, expires_at < now() AS expired FROM catalog_leases WHERE catalog_id = $1`,
      [catalogId],
    );
    const row = rows[0];
    return row ? { catalogId, fence: Number(row.fence), holder: row.holder, expiresAt: row.expires_at, expired: row.expired } : null;
  }

  /** Whether `fence` is still the catalog's current fence. */
  async holds(fence: Fence): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM catalog_leases WHERE catalog_id = $1 AND fence = $2`,
      [fence.catalogId, fence.fence],
    );
    return rows.length > 0;
  }

  /**
   * Runs `work` in a transaction that holds the lease row `FOR SHARE` and proves the fence first; throws
   * {@link FencedError} (and writes nothing) when the lease has been taken over.
   */
  async fenced<T>(fence: Fence, work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (m) => {
      await assertFence(m, fence);
      return work(m);
    });
  }
}

/** Locks the lease row `FOR SHARE` and checks the fence, inside the caller's transaction. */
export async function assertFence(m: EntityManager, fence: Fence): Promise<void> {
  const rows: unknown[] = await m.query(
    `SELECT 1 FROM catalog_leases WHERE catalog_id = $1 AND fence = $2 FOR SHARE`,
    [fence.catalogId, fence.fence],
  );
  if (rows.length === 0) throw new FencedError(fence.catalogId, fence.fence);
}
