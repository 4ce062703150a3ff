import { parseArgs } from 'node:util';
import { loadConfig } from '@catalog-indexer/config';
import { createLogger, exitOnStartupFailure, maskUrl } from '@catalog-indexer/logger';
import { createDataSource, runMigrations } from './data-source';

/** `pnpm db:migrate`: applies pending migrations to the configured database. */
async function main(): Promise<void> {
  // It takes no arguments: one given is a mistake (a typo, or meant for another command), not to be ignored.
  const args = process.argv.slice(2);
  try {
    parseArgs({ args, options: {}, strict: true, allowPositionals: false });
  } catch {
    throw new Error(`pnpm db:migrate takes no arguments, got "${args.join(' ')}"`);
  }
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel, name: 'migrate' });
  const dataSource = createDataSource({ url: config.postgres.url, poolSize: 2, applicationName: 'migrate' });
  await dataSource.initialize();
  try {
    const ran = await runMigrations(dataSource);
    log.info({ database: maskUrl(config.postgres.url), ran }, ran.length ? 'migrations applied' : 'database up to date');
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => exitOnStartupFailure('migrate', error));
