import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';

/**
 * Every workspace package declares exactly the workspace packages its sources import: product code's in
 * `dependencies`, those only tests use (`*.spec.ts`, `src/testing/`) in `devDependencies`, nothing unused.
 * An app is the exception: its bundle (scripts/build-app.js) compiles the workspace packages in, so it
 * declares them all in `devDependencies` and keeps `dependencies` for what its image installs.
 */
const root = path.resolve(__dirname, '../../..');
const SCOPE = '@catalog-indexer/';

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return entry === 'node_modules' ? [] : sourceFiles(full);
    return /\.[cm]?[jt]s$/.test(entry) ? [full] : [];
  });
}

/** A spec, a file under `src/testing/`, or anything of the end-to-end packages (`tests/*`). */
function isTestFile(dir: string, file: string): boolean {
  const inSrc = path.relative(path.join(dir, 'src'), file);
  return path.basename(path.dirname(dir)) === 'tests' || /\.spec\.ts$/.test(file) || inSrc.split(path.sep)[0] === 'testing';
}

/** The workspace packages a package's product code and its tests import. */
function importsOf(dir: string): { product: Set<string>; tests: Set<string> } {
  const product = new Set<string>();
  const tests = new Set<string>();
  for (const file of sourceFiles(path.join(dir, 'src'))) {
    // TypeScript's own scan of imports, exports, require() and import() (not words in strings or comments).
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (fileName.startsWith(SCOPE)) (isTestFile(dir, file) ? tests : product).add(fileName.split('/').slice(0, 2).join('/'));
    }
  }
  return { product, tests };
}

/** What is wrong with a package's declared workspace dependencies, one line each. */
function dependencyProblems(dir: string): string[] {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;
  const workspace = (deps: Record<string, string> = {}) => new Set(Object.keys(deps).filter((d) => d.startsWith(SCOPE)));
  const deps = workspace(manifest.dependencies);
  const devDeps = workspace(manifest.devDependencies);
  const { product, tests } = importsOf(dir);
  product.delete(manifest.name);
  tests.delete(manifest.name);
  const bundled = path.basename(path.dirname(dir)) === 'apps';
  const problems: string[] = [];
  const where = bundled ? 'devDependencies (the bundle compiles it in)' : 'dependencies';
  for (const name of product) {
    if (bundled ? !devDeps.has(name) : !deps.has(name)) problems.push(`imports ${name} in product code: declare it in ${where}`);
  }
  for (const name of tests) {
    if (!product.has(name) && !deps.has(name) && !devDeps.has(name)) problems.push(`imports ${name} in tests: declare it in devDependencies`);
  }
  for (const name of deps) {
    if (bundled) problems.push(`declares ${name} in dependencies: an app bundles workspace packages, move it to devDependencies`);
    else if (!product.has(name)) problems.push(`declares ${name} in dependencies, but ${tests.has(name) ? 'only tests import it: move it to devDependencies' : 'nothing imports it: remove it'}`);
  }
  for (const name of devDeps) {
    if (!product.has(name) && !tests.has(name)) problems.push(`declares ${name} in devDependencies, but nothing imports it: remove it`);
    else if (deps.has(name)) problems.push(`declares ${name} twice: keep it in dependencies only`);
  }
  return problems;
}

const packages = ['apps', 'packages', 'tests'].flatMap((group) =>
  readdirSync(path.join(root, group))
    .map((name) => `${group}/${name}`)
    .filter((dir) => statSync(path.join(root, dir, 'package.json'), { throwIfNoEntry: false })?.isFile()),
);

describe('declared workspace dependencies', () => {
  it('finds every workspace package', () => {
    expect(packages).toEqual(expect.arrayContaining(['apps/api', 'packages/pipeline', 'packages/testing', 'tests/e2e']));
  });

  it('names an undeclared, a misplaced and an unused workspace dependency', () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'deps-'));
    try {
      const dir = path.join(tmp, 'packages', 'demo');
      mkdirSync(path.join(dir, 'src', 'testing'), { recursive: true });
      const manifest: Manifest = {
        name: `${SCOPE}demo`,
        dependencies: { [`${SCOPE}config`]: 'workspace:*', [`${SCOPE}queue`]: 'workspace:*', zod: '^4' },
        devDependencies: { [`${SCOPE}testing`]: 'workspace:*' },
      };
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest));
      writeFileSync(path.join(dir, 'src', 'a.ts'), `import { loadConfig } from '${SCOPE}config';\nexport { x } from '${SCOPE}logger';\nconst s = \`from '${SCOPE}db'\`;`);
      writeFileSync(path.join(dir, 'src', 'a.spec.ts'), `import { waitFor } from '${SCOPE}testing';\nimport { JobProducer } from '${SCOPE}queue';`);
      writeFileSync(path.join(dir, 'src', 'testing', 'h.ts'), `const e = require('${SCOPE}emulators');`);
      expect(dependencyProblems(dir)).toEqual([
        `imports ${SCOPE}logger in product code: declare it in dependencies`,
        `imports ${SCOPE}emulators in tests: declare it in devDependencies`,
        `declares ${SCOPE}queue in dependencies, but only tests import it: move it to devDependencies`,
      ]);
      manifest.dependencies = { [`${SCOPE}config`]: 'workspace:*', [`${SCOPE}logger`]: 'workspace:*', zod: '^4' };
      manifest.devDependencies = { [`${SCOPE}testing`]: 'workspace:*', [`${SCOPE}queue`]: 'workspace:*', [`${SCOPE}emulators`]: 'workspace:*', [`${SCOPE}db`]: 'workspace:*' };
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest));
      expect(dependencyProblems(dir)).toEqual([`declares ${SCOPE}db in devDependencies, but nothing imports it: remove it`]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it.each(packages)('%s declares exactly what its sources import', (dir) => {
    expect(dependencyProblems(path.join(root, dir))).toEqual([]);
  });
});
