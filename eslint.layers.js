/**
 * The package layers as import rules (`no-restricted-imports`), one rule set per workspace package, so that
 * an import that breaks the layering fails `pnpm lint`.
 *
 * Layers, top to bottom; a package may import packages of its own layer and of the layers below, never above:
 *   apps      api, worker, query            (never import each other)
 *   edge      http                          (Express kit shared by the apps)
 *   runs      pipeline, importer
 *   adapters  queue, db, vector-store, embeddings
 *   domain    catalog, text
 *   base      config, logger, metrics, retry
 * Beside the product: emulators, testing, bench, devstack. Product code never imports them; test code
 * (`*.spec.ts`, `src/testing/**`) and the packages beside the product may.
 *
 * On top of the layers:
 * - the api never embeds or indexes (no embeddings, no pipeline) and takes from the vector store only the
 *   names in API_VECTOR_STORE_NAMES (it counts points);
 * - the read path (query) never touches the queue or the runs;
 * - stores (db, vector-store) know nothing of runs (no queue);
 * - the catalog format knows no database (no driver or ORM);
 * - every package is reached through its one public door (`@catalog-indexer/x`, no deep path); test code and
 *   the packages beside the product may also use a package's test door (`@catalog-indexer/x/testing`).
 *
 * Plain CommonJS so that both eslint.config.mjs and the unit spec that proves each rule
 * (packages/devstack/src/layers.spec.ts) load the same rules.
 */
const SCOPE = '@catalog-indexer/';

/** Top to bottom. `dir` is where the packages of the layer live. */
const LAYERS = [
  { name: 'apps', dir: 'apps', packages: ['api', 'worker', 'query'] },
  { name: 'edge', dir: 'packages', packages: ['http'] },
  { name: 'runs', dir: 'packages', packages: ['pipeline', 'importer'] },
  { name: 'adapters', dir: 'packages', packages: ['queue', 'db', 'vector-store', 'embeddings'] },
  { name: 'domain', dir: 'packages', packages: ['catalog', 'text'] },
  { name: 'base', dir: 'packages', packages: ['config', 'logger', 'metrics', 'retry'] },
];

/** Tools and test support beside the product. */
const BESIDE = ['emulators', 'testing', 'bench', 'devstack'];

/** What the api may take from the vector store: a read-only reader to count a catalog's points. */
const API_VECTOR_STORE_NAMES = ['createQdrantReader'];

/** Third-party modules that speak to a database. */
const DATABASE_MODULES = ['pg', 'typeorm', 'mysql2', 'reflect-metadata'];

/** Rules beyond the layers, for product code of one package. */
const PRODUCT_RULES = {
  api: {
    packages: ['embeddings', 'pipeline'],
    message: 'the api never embeds or indexes: enqueue a job (packages/queue) for the worker instead.',
  },
  query: {
    packages: ['queue', 'pipeline', 'importer'],
    message: 'the read path (query) never touches the queue or the runs: it reads Qdrant and Postgres only.',
  },
  db: { packages: ['queue'], message: 'stores know nothing of runs: a store must not reach the queue.' },
  'vector-store': { packages: ['queue'], message: 'stores know nothing of runs: a store must not reach the queue.' },
  catalog: {
    modules: DATABASE_MODULES,
    message: 'the catalog format knows no database: keep I/O in db or importer and pass plain values in.',
  },
};

/** A path inside a package; test code and the packages beside the product may use a package's `testing` door. */
function deepImport({ test }) {
  return {
    regex: `^${SCOPE.replace('/', '\\/')}[^/]+\\/${test ? '(?!testing$)' : ''}`,
    message: test
      ? 'import a workspace package through its public door (`@catalog-indexer/<name>` or `@catalog-indexer/<name>/testing`), not a path inside it.'
      : 'product code imports a workspace package through its public door (`@catalog-indexer/<name>`): no path inside it, no `/testing` door (test support stays out of what an app bundles).',
  };
}

function layerOf(pkg) {
  const index = LAYERS.findIndex((layer) => layer.packages.includes(pkg));
  return index < 0 ? undefined : { index, ...LAYERS[index] };
}

/** Every workspace package name the rules know, with its directory. */
function knownPackages() {
  return [
    ...LAYERS.flatMap((layer) => layer.packages.map((pkg) => ({ pkg, dir: `${layer.dir}/${pkg}` }))),
    ...BESIDE.map((pkg) => ({ pkg, dir: `packages/${pkg}` })),
  ];
}

/** `{ name, message }` entries for `no-restricted-imports` of one package's code. */
function restrictedPaths(pkg, { test }) {
  const forbidden = new Map();
  const forbid = (name, message) => {
    if (!forbidden.has(name)) forbidden.set(name, { name, message });
  };
  const own = layerOf(pkg);
  for (const [index, layer] of LAYERS.entries()) {
    for (const other of layer.packages) {
      if (other === pkg) continue;
      if (own?.name === 'apps' && layer.name === 'apps') forbid(SCOPE + other, `apps never import each other (${pkg} → ${other}): share code through a package.`);
      else if (!own && layer.name === 'apps') forbid(SCOPE + other, `nothing imports an app (${pkg} → ${other}): start it as a process.`);
      else if (own && index < own.index) {
        forbid(SCOPE + other, `${own.name} (${pkg}) must not import ${layer.name} (${other}): a layer imports only its own and lower layers.`);
      }
    }
  }
  if (own && !test) {
    for (const other of BESIDE) forbid(SCOPE + other, `product code never imports ${other}: it stands beside the product (tests, tools).`);
    const rules = PRODUCT_RULES[pkg];
    for (const other of rules?.packages ?? []) forbid(SCOPE + other, rules.message);
    for (const module of rules?.modules ?? []) forbid(module, rules.message);
  }
  const entries = [...forbidden.values()];
  if (pkg === 'api' && !test) {
    entries.push({
      name: `${SCOPE}vector-store`,
      allowImportNames: API_VECTOR_STORE_NAMES,
      message: `the api only counts points: take ${API_VECTOR_STORE_NAMES.join(', ')} from the vector store, nothing that writes.`,
    });
  }
  return entries;
}

/** Flat-config objects: one for the product code and one for the test code of every workspace package. */
function layerRules() {
  return knownPackages().flatMap(({ pkg, dir }) => {
    const testFiles = [`${dir}/src/**/*.spec.ts`, `${dir}/src/testing/**/*.ts`];
    const rule = (test) => ['error', { paths: restrictedPaths(pkg, { test }), patterns: [deepImport({ test: test || BESIDE.includes(pkg) })] }];
    return [
      { name: `layers/${pkg}`, files: [`${dir}/src/**/*.ts`], ignores: testFiles, rules: { 'no-restricted-imports': rule(false) } },
      { name: `layers/${pkg}/tests`, files: testFiles, rules: { 'no-restricted-imports': rule(true) } },
    ];
  });
}

module.exports = { LAYERS, BESIDE, API_VECTOR_STORE_NAMES, knownPackages, layerRules };
