import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';

/**
 * The layer rules of eslint.config.mjs (eslint.layers.js), run through ESLint's Node API on code placed at
 * a path inside a package: each rule fires on the import that breaks it, and allowed imports pass.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const layers = require('../../../eslint.layers.js') as {
  BESIDE: string[];
  knownPackages: () => { pkg: string; dir: string }[];
  layerRules: () => Linter.Config[];
};

const root = path.resolve(__dirname, '../../..');

const eslint = new ESLint({
  cwd: root,
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...layers.layerRules()],
});

/** The messages ESLint reports for `code` written at `file` (relative to the repository root). */
async function lint(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parser'}: ${m.message}`);
}

describe('layer rules', () => {
  it.each([
    ['apps/api/src/x.ts', `import { searchRouter } from '@catalog-indexer/query';`, 'apps never import each other (api → query)'],
    ['apps/worker/src/jobs/x.job.ts', `export { createApp } from '@catalog-indexer/api';`, 'apps never import each other (worker → api)'],
    ['apps/api/src/x.ts', `import { createEmbedder } from '@catalog-indexer/embeddings';`, 'the api never embeds or indexes'],
    ['apps/api/src/routes/x.routes.ts', `import { type ReindexService } from '@catalog-indexer/pipeline';`, 'the api never embeds or indexes'],
    ['apps/api/src/x.ts', `import { QdrantStore } from '@catalog-indexer/vector-store';`, 'the api only counts points'],
    ['apps/api/src/main.ts', `import { createQdrantStore } from '@catalog-indexer/vector-store';`, 'the api only counts points'],
    ['packages/retry/src/x.ts', `import { createLogger } from '@catalog-indexer/logger';\nimport { chunkCatalog } from '@catalog-indexer/catalog';`, 'base (retry) must not import domain (catalog)'],
    ['apps/query/src/x.ts', `import { JobProducer } from '@catalog-indexer/queue';`, 'the read path (query) never touches the queue'],
    ['apps/query/src/x.ts', `import { ReindexService } from '@catalog-indexer/pipeline';`, 'the read path (query) never touches the queue'],
    ['apps/worker/src/main.ts', `import { QdrantEmulator } from '@catalog-indexer/emulators';`, 'product code never imports emulators'],
    ['packages/pipeline/src/x.ts', `import { createTestDatabase } from '@catalog-indexer/testing';`, 'product code never imports testing'],
    ['packages/db/src/x.ts', `import { runBench } from '@catalog-indexer/bench';`, 'product code never imports bench'],
    ['apps/api/src/main.ts', `import { startStack } from '@catalog-indexer/devstack';`, 'product code never imports devstack'],
    ['packages/db/src/x.ts', `import { JobProducer } from '@catalog-indexer/queue';`, 'stores know nothing of runs'],
    ['packages/vector-store/src/x.ts', `import { type Queue } from '@catalog-indexer/queue';`, 'stores know nothing of runs'],
    ['packages/vector-store/src/x.ts', `import { ReindexService } from '@catalog-indexer/pipeline';`, 'adapters (vector-store) must not import runs (pipeline)'],
    ['packages/catalog/src/x.ts', `import { Pool } from 'pg';`, 'the catalog format knows no database'],
    ['packages/catalog/src/x.ts', `import { DataSource } from 'typeorm';`, 'the catalog format knows no database'],
    ['packages/catalog/src/x.ts', `import { CatalogRepository } from '@catalog-indexer/db';`, 'domain (catalog) must not import adapters (db)'],
    ['packages/logger/src/x.ts', `import { chunkCatalog } from '@catalog-indexer/catalog';`, 'base (logger) must not import domain (catalog)'],
    ['packages/text/src/x.ts', `import { AppError } from '@catalog-indexer/http';`, 'domain (text) must not import edge (http)'],
    ['packages/importer/src/x.ts', `import { createApp } from '@catalog-indexer/worker';`, 'runs (importer) must not import apps (worker)'],
    ['packages/pipeline/src/x.ts', `import { chunkCatalog } from '@catalog-indexer/catalog/src/chunker';`, 'through its public door'],
    ['apps/api/src/main.ts', `import { shopCatalog } from '@catalog-indexer/catalog/testing';`, 'no `/testing` door'],
    ['packages/pipeline/src/x.spec.ts', `import { chunkCatalog } from '@catalog-indexer/catalog/src/chunker';`, 'not a path inside it'],
    ['packages/catalog/src/x.spec.ts', `import { ReindexService } from '@catalog-indexer/pipeline';`, 'domain (catalog) must not import runs (pipeline)'],
    ['packages/emulators/src/x.ts', `import { createApp } from '@catalog-indexer/api';`, 'nothing imports an app (emulators → api)'],
  ])('%s: %s is refused', async (file, code, expected) => {
    const messages = await lint(file, code);
    expect(messages).toEqual([expect.stringContaining(expected)]);
    expect(messages[0]).toMatch(/^no-restricted-imports: /);
  });

  it.each([
    ['apps/worker/src/x.ts', `import { ReindexService } from '@catalog-indexer/pipeline';\nimport { JobProducer } from '@catalog-indexer/queue';`],
    ['apps/api/src/main.ts', `import { createQdrantReader } from '@catalog-indexer/vector-store';\nimport { JobProducer } from '@catalog-indexer/queue';\nimport { importCatalog } from '@catalog-indexer/importer';`],
    ['apps/query/src/x.ts', `import { createEmbedder } from '@catalog-indexer/embeddings';\nimport { type QdrantStore } from '@catalog-indexer/vector-store';\nimport { AppError } from '@catalog-indexer/http';`],
    ['apps/query/src/x.int.spec.ts', `import { ReindexService } from '@catalog-indexer/pipeline';\nimport { QdrantEmulator } from '@catalog-indexer/emulators';`],
    ['apps/api/src/x.spec.ts', `import { createTestDatabase } from '@catalog-indexer/testing';`],
    ['packages/pipeline/src/testing/x.harness.ts', `import { QdrantEmulator } from '@catalog-indexer/emulators';\nimport { createTestDatabase } from '@catalog-indexer/testing';`],
    ['packages/pipeline/src/x.ts', `import { CatalogRepository } from '@catalog-indexer/db';\nimport { chunkCatalog } from '@catalog-indexer/catalog';\nimport { loadConfig } from '@catalog-indexer/config';`],
    ['packages/catalog/src/x.ts', `import { countTokens } from '@catalog-indexer/text';\nimport { z } from 'zod';`],
    ['packages/http/src/x.ts', `import { CatalogValidationError } from '@catalog-indexer/catalog';\nimport { register } from '@catalog-indexer/metrics';`],
    ['packages/pipeline/src/x.int.spec.ts', `import { shopCatalog } from '@catalog-indexer/catalog/testing';`],
    ['packages/devstack/src/start.ts', `import { shopCatalog } from '@catalog-indexer/catalog/testing';`],
    ['packages/bench/src/x.bench.ts', `import { startStack } from '@catalog-indexer/devstack';\nimport { ReindexService } from '@catalog-indexer/pipeline';`],
  ])('%s may import what its layer allows', async (file, code) => {
    expect(await lint(file, code)).toEqual([]);
  });

  it('knows the layer of every workspace package', () => {
    const onDisk = ['apps', 'packages'].flatMap((dir) => readdirSync(path.join(root, dir)).map((name) => `${dir}/${name}`));
    expect(layers.knownPackages().map((p) => p.dir).sort()).toEqual(onDisk.sort());
  });

  it('is part of the configuration `pnpm lint` runs', () => {
    const printed = execFileSync(path.join(root, 'node_modules/.bin/eslint'), ['--print-config', 'apps/query/src/main.ts'], { cwd: root, encoding: 'utf8' });
    const config = JSON.parse(printed) as { rules: Record<string, [unknown, { paths: { name: string }[] }]> };
    const names = config.rules['no-restricted-imports']?.[1].paths.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['@catalog-indexer/queue', '@catalog-indexer/pipeline', '@catalog-indexer/testing']));
  });
});
