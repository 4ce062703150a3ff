import { Client } from 'pg';
import { loadConfig } from '@catalog-indexer/config';
import { uniqueName } from './names';

/** Anything holding connections to the test database that must be closed before it is dropped. */
export interface Closable {
  destroy(): Promise<void>;
}

export interface TestDatabase<T extends Closable> {
  /** Connection URL of the new database. */
  url: string;
  /** What `connect` returned: typically an initialised, migrated DataSource. */
  dataSource: T;
  /** Closes `dataSource` and drops the database. */
  drop(): Promise<void>;
}

/** URL of the same server with another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function adminQuery(base: string, sql: string): Promise<void> {
  const admin = new Client({ connectionString: withDatabase(base, 'postgres') });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/**
 * Creates a fresh database on the configured Postgres server (`DATABASE_URL` or `POSTGRES_*`), named after
 * the configured database plus a random suffix, and hands its URL to `connect` (for instance
 * `(url) => openDataSource({ url, poolSize: 4, migrate: true })`). One per test file, dropped after.
 */
export async function createTestDatabase<T extends Closable>(connect: (url: string) => Promise<T>): Promise<TestDatabase<T>> {
  const base = loadConfig().postgres.url;
  const baseName = decodeURIComponent(new URL(base).pathname.slice(1)) || 'catalog_indexer';
  const name = uniqueName(`${baseName}_t`).toLowerCase();
  await adminQuery(base, `CREATE DATABASE "${name}"`);
  const url = withDatabase(base, name);
  let dataSource: T;
  try {
    dataSource = await connect(url);
  } catch (error) {
    await adminQuery(base, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    throw error;
  }
  return {
    url,
    dataSource,
    async drop() {
      await dataSource.destroy();
      await adminQuery(base, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}
