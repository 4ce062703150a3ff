#!/usr/bin/env node
/**
 * `pnpm test:mutation:group <group>`: one group of the pipeline's mutation run, incremental across machines.
 *
 * A whole mutation run of the pipeline takes longer than a 2-core machine gives it in one sitting, so it goes
 * by groups of files (a mutant is tested on its own, so the groups' figures add up to one run's). Each group's
 * Stryker incremental report is kept in the repository, in `mutation/<group>.json`: a rerun on any clone
 * retests only the mutants whose code or covering tests changed since the report was written, and writes the
 * report back. `node scripts/mutation-table.mjs mutation/*.json` adds the groups up into the README's tables.
 *
 * Usage: node scripts/mutation-group.mjs <group> [--fresh]    (--fresh: test every mutant again)
 *        node scripts/mutation-group.mjs --list
 * DATABASE_URL, when set, names the Postgres database the specs use (they create it when missing).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PIPELINE = 'packages/pipeline/src';
const REPOSITORIES = 'packages/db/src/repositories';

/** The groups; every file `stryker.config.mjs` mutates belongs to exactly one. */
export const GROUPS = {
  run: [`${PIPELINE}/reindex.service.ts`, `${PIPELINE}/reindex-orchestrator.ts`, `${PIPELINE}/in-process-fan-out.ts`],
  adoption: [
    `${PIPELINE}/pgvector-adoption.service.ts`,
    `${PIPELINE}/legacy-chunk.ts`,
    `${PIPELINE}/collection-migration.service.ts`,
    `${PIPELINE}/space-switch.service.ts`,
    `${REPOSITORIES}/embedding.repository.ts`,
  ],
  lease: [
    `${PIPELINE}/lease-section.ts`,
    `${PIPELINE}/catalog-lease.ts`,
    `${PIPELINE}/forget-catalog.ts`,
    `${PIPELINE}/store-sync.ts`,
    `${PIPELINE}/cleanup.service.ts`,
    `${PIPELINE}/reconcile.service.ts`,
    `${REPOSITORIES}/lease.repository.ts`,
    `${REPOSITORIES}/point-deletion.repository.ts`,
  ],
  readings: [`${REPOSITORIES}/index-run.repository.ts`, `${PIPELINE}/catalog-readings.ts`, `${PIPELINE}/chunk-point.ts`],
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { fresh: { type: 'boolean', default: false }, list: { type: 'boolean', default: false } },
});

if (values.list) {
  for (const [name, files] of Object.entries(GROUPS)) process.stdout.write(`${name}: ${files.join(' ')}\n`);
  process.exit(0);
}

const [group] = positionals;
if (positionals.length !== 1 || !Object.hasOwn(GROUPS, group)) {
  process.stderr.write(
    `usage: node scripts/mutation-group.mjs <group> [--fresh] | --list\ngroups: ${Object.keys(GROUPS).join(', ')}\n`,
  );
  process.exit(2);
}

const report = join('mutation', `${group}.json`);
mkdirSync(join(ROOT, 'mutation'), { recursive: true });
if (values.fresh && existsSync(join(ROOT, report))) rmSync(join(ROOT, report));

const result = spawnSync(
  'pnpm',
  ['exec', 'stryker', 'run', '--mutate', GROUPS[group].join(','), '--incrementalFile', report],
  { cwd: ROOT, stdio: 'inherit' },
);
if (result.error) throw result.error;
process.exit(result.status ?? 1);
