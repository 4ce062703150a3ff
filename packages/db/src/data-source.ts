import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { type Config } from '@catalog-indexer/config';
import { type Logger } from '@catalog-indexer/logger';
import { checkConnectionBudget } from './connection-budget';
import { TimedClient } from './timed-pg-client';
import { CatalogEntity } from './entities/catalog.entity';
import { CatalogItemEntity } from './entities/catalog-item.entity';
import { EmbeddingEntity } from './entities/embedding.entity';
import { IndexRunEntity } from './entities/index-run.entity';
import { KeepPgvectorTable1732521500000 } from './migrations/1732521500000-keep-pgvector-table';
import { AdoptedCatalogs1764288000000 } from './migrations/1764288000000-adopted-catalogs';
import { InitialSchema1732521600000 } from './migrations/1732521600000-initial-schema';
import { RunsLeasesOutbox1764115200000 } from './migrations/1764115200000-runs-leases-outbox';
import { QuotesInChunkMetadata1764892800000 } from './migrations/1764892800000-quotes-in-chunk-metadata';
import { RunsTokensBilled1796342400000 } from './migrations/1796342400000-runs-tokens-billed';
import { EmbeddingTokens1796515200000 } from './migrations/1796515200000-embedding-tokens';
import { RunVocabulary1796601600000 } from './migrations/1796601600000-run-vocabulary';
import { RunRetirements1796688000000 } from './migrations/1796688000000-run-retirements';

export const ENTITIES = [CatalogEntity, CatalogItemEntity, EmbeddingEntity, IndexRunEntity];
export const MIGRATIONS = [
  KeepPgvectorTable1732521500000,
  InitialSchema1732521600000,
  RunsLeasesOutbox1764115200000,
  AdoptedCatalogs1764288000000,
  QuotesInChunkMetadata1764892800000,
  RunsTokensBilled1796342400000,
  EmbeddingTokens1796515200000,
  RunVocabulary1796601600000,
  RunRetirements1796688000000,
];

/** Arbitrary constant: the advisory lock that lets one of many starting processes run the migrations. */
const MIGRATION_LOCK = 7_318_001;

export interface DataSourceOptions {
  url: string;
  poolSize?: number;
  /** Name shown in `pg_stat_activity`. */
  applicationName?: string;
}

/** A TypeORM DataSource for the catalog database (not yet initialised). */
export function createDataSource(options: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: false,
    // Every connection of the pool is a TimedClient: each query's duration lands in the Postgres metric.
    extra: { max: options.poolSize ?? 10, application_name: options.applicationName ?? 'catalog-indexer', Client: TimedClient },
  });
}

/**
 * Runs pending migrations under a Postgres advisory lock, so that api, workers and query may all start at
 * once and only one of them migrates. Returns the names of the migrations it ran.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const poolSize = (dataSource.options.extra as { max?: number } | undefined)?.max ?? 10;
  if (poolSize < 2) throw new Error('runMigrations needs a pool of at least 2 connections');
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const ran = await dataSource.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}

/**
 * Opens the catalog database for a service: connects and, when `migrate` is set, runs pending migrations.
 * Every app starts with this.
 */
export async function openDataSource(options: DataSourceOptions & { migrate: boolean }): Promise<DataSource> {
  const dataSource = createDataSource(options);
  await dataSource.initialize();
  if (options.migrate) await runMigrations(dataSource);
  return dataSource;
}

/**
 * The configured database for one service, migrated at start when the configuration says so. With a
 * logger, warns when `DB_POOL_SIZE` × `DB_PROCESS_COUNT` would not fit the server's `max_connections`.
 */
export async function openConfiguredDataSource(
  postgres: Config['postgres'],
  applicationName: string,
  logger?: Logger,
): Promise<DataSource> {
  const dataSource = await openDataSource({
    url: postgres.url,
    poolSize: postgres.poolSize,
    applicationName,
    migrate: postgres.migrateOnStart,
  });
  if (logger) {
    const budget = await checkConnectionBudget(dataSource, postgres).catch(() => undefined);
    if (budget && !budget.fits) {
      logger.warn(
        budget,
        `DB_POOL_SIZE ${postgres.poolSize} × DB_PROCESS_COUNT ${postgres.processCount} = ${budget.needed} connections, ` +
          `but Postgres accepts ${budget.available} (max_connections ${budget.maxConnections} less ${budget.reserved} reserved): ` +
          'lower DB_POOL_SIZE, raise max_connections or put PgBouncer in front',
      );
    }
  }
  return dataSource;
}
