import { type DataSource } from 'typeorm';

/** Whether the configured pools fit the server's connection limit. */
export interface ConnectionBudget {
  fits: boolean;
  /** Connections the pools may open: pool size × processes. */
  needed: number;
  /** `max_connections` minus the slots reserved for superusers. */
  available: number;
  maxConnections: number;
  reserved: number;
}

/**
 * Compares what every process's pool may open (`poolSize` × `processCount`, from `DB_POOL_SIZE` and
 * `DB_PROCESS_COUNT`) with what Postgres accepts (`max_connections` less
 * `superuser_reserved_connections`). Pools grow on demand, so a misfit shows only under load, as
 * "sorry, too many clients already": this is read at start to say so before it happens.
 */
export async function checkConnectionBudget(
  dataSource: DataSource,
  options: { poolSize: number; processCount: number },
): Promise<ConnectionBudget> {
  const [row] = await dataSource.query<{ max: string; reserved: string }[]>(
    `SELECT current_setting('max_connections') AS max, current_setting('superuser_reserved_connections') AS reserved`,
  );
  const maxConnections = Number(row?.max ?? 100);
  const reserved = Number(row?.reserved ?? 3);
  const available = maxConnections - reserved;
  const needed = options.poolSize * options.processCount;
  return { fits: needed <= available, needed, available, maxConnections, reserved };
}
