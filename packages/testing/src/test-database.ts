import { Client } from 'pg';
import { loadConfig } from '@catalog-indexer/config';
import { createDataSource, runMigrations, type DataSource } from '@catalog-indexer/db';
import { uniqueName } from './names';

export interface TestDatabase {
  /** Connection URL of the new database. */
  url: string;
  /** An initialised, migrated DataSource on it. */
  dataSource: DataSource;
  /** Closes the DataSource and drops the database. */
  drop(): Promise<void>;
}

/** URL of the same server with another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * Creates a fresh database on the configured Postgres server (`DATABASE_URL` or `POSTGRES_*`), named after
 * the configured database plus a random suffix, and migrates it. One per test file, dropped after.
 */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const base = loadConfig().postgres.url;
  const baseName = decodeURIComponent(new URL(base).pathname.slice(1)) || 'catalog_indexer';
  const name = uniqueName(`${baseName}_t`).toLowerCase();
  const admin = new Client({ connectionString: withDatabase(base, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(base, name);
  const dataSource = createDataSource({ url, poolSize: 4, applicationName: 'test' });
  await dataSource.initialize();
  if (options.migrate !== false) await runMigrations(dataSource);
  return {
    url,
    dataSource,
    async drop() {
      if (dataSource.isInitialized) await dataSource.destroy();
      const c = new Client({ connectionString: withDatabase(base, 'postgres') });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
