#!/usr/bin/env node
/**
 * Builds one app for production: `apps/<app>/src/main.ts` → `apps/<app>/dist/main.js` (CommonJS, Node 20),
 * with esbuild. The workspace packages (@catalog-indexer/*) are compiled into the bundle, and so is the
 * `openai` SDK (see {@link BUNDLED}); every other package stays an ordinary `require` of node_modules, so
 * the image installs production dependencies only and runs `node dist/main.js`, with no TypeScript loader at
 * run time.
 *
 * Fails when the bundle needs a package that is not a production dependency of the app: in pnpm's layout
 * the app could not resolve it at run time.
 *
 * Run from an app's directory: `node ../../scripts/build-app.js` (the app's `build` script); `bundleApp` is exported for
 * the test that builds every app (packages/devstack/src/build-app.spec.ts).
 */
const fs = require('node:fs');
const { builtinModules, createRequire } = require('node:module');
const os = require('node:os');
const path = require('node:path');
const esbuild = require('esbuild');

const WORKSPACE = '@catalog-indexer/';

/**
 * Third-party packages compiled into the bundle. The `openai` SDK is some 300 modules, loaded on an app's
 * first embeddings request (see OpenAIEmbedder): bundled, that first load takes about a third of the time
 * (no module resolution or file reads; its code is parsed with the bundle and compiled as it runs) and some
 * 9 MB less memory. Its modules still run only when first required. `stopword` is compiled in from its ES
 * module sources (see {@link ES_SOURCES}).
 */
const BUNDLED = new Set(['openai', 'stopword']);

/**
 * Bundled packages compiled from their ES module sources rather than their CommonJS build, so that esbuild
 * keeps only what the app imports: `stopword`'s CommonJS build is one module with the lists of 60 languages
 * (0.9 MB of an idle worker's heap), of which the sparse vectors use the English one.
 */
const ES_SOURCES = { stopword: 'stopword/src/stopword.js' };

/**
 * The file of cl100k's rank table written beside the bundle of an app that counts tokens: the name
 * `packages/text/src/tokens.ts` reads (`CL100K_TABLE_FILE`).
 */
const CL100K_TABLE_FILE = 'cl100k.bin';

/**
 * Writes cl100k's rank table into `outDir` as the text package's `Cl100kRanks.toBuffer` makes it from
 * gpt-tokenizer's table (as the app resolves it), so that the app reads it in a few milliseconds instead of
 * building it at its first count. The class is compiled from its source for the purpose.
 */
async function writeTokenTable(appDir, outDir) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cl100k-'));
  try {
    const compiled = path.join(scratch, 'cl100k-ranks.js');
    await esbuild.build({
      entryPoints: [path.join(__dirname, '..', 'packages', 'text', 'src', 'cl100k-ranks.ts')],
      outfile: compiled,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      logLevel: 'warning',
    });
    const { Cl100kRanks } = require(compiled);
    const tokens = createRequire(path.join(appDir, 'package.json'))('gpt-tokenizer/bpeRanks/cl100k_base').default;
    fs.writeFileSync(path.join(outDir, CL100K_TABLE_FILE), Cl100kRanks.fromTokens(tokens).toBuffer());
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** The package name of a bare import: `bullmq`, `@bull-board/api` of `@bull-board/api/bullMQAdapter`. */
function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * `code` with every character outside ASCII written as `\uXXXX` (a character beyond the BMP as its two
 * UTF-16 units), so that V8 holds the bundle's source as a one-byte string: one non-ASCII character (a `…`
 * in a comment, an emoji in the SDK's) makes the whole script a two-byte string, twice its size in memory
 * for as long as the process runs. esbuild escapes strings and identifiers already; what it leaves is in
 * comments and regular expressions, where an escape means the same character. A character written as an
 * identity escape (`\…`) loses its backslash, as the escape already means the character itself. On a line
 * with such a character, the source map's columns after it are off by the escape's extra length.
 */
function escapeNonAscii(code) {
  return code.replace(/(\\*)([^\x00-\x7f])/g, (_, slashes, char) => {
    const kept = slashes.length % 2 === 1 ? slashes.slice(1) : slashes;
    return kept + `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/**
 * Bundles `<appDir>/src/main.ts` to `outfile` and returns the third-party packages the bundle requires
 * (`external`) and those of them that are not production dependencies of the app (`missing`).
 */
async function bundleApp(appDir, outfile = path.join(appDir, 'dist', 'main.js')) {
  const manifest = JSON.parse(fs.readFileSync(path.join(appDir, 'package.json'), 'utf8'));
  const externals = new Set();
  const externalThirdParty = {
    name: 'external-third-party',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (Object.hasOwn(ES_SOURCES, args.path)) return { path: require.resolve(ES_SOURCES[args.path], { paths: [args.resolveDir] }) };
        if (args.path.startsWith('node:') || args.path.startsWith(WORKSPACE) || BUNDLED.has(packageName(args.path))) return undefined;
        externals.add(packageName(args.path));
        return { path: args.path, external: true };
      });
    },
  };
  fs.rmSync(path.dirname(outfile), { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [path.join(appDir, 'src', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [externalThirdParty],
  });
  fs.writeFileSync(outfile, escapeNonAscii(fs.readFileSync(outfile, 'utf8')));
  const declared = new Set(Object.keys(manifest.dependencies ?? {}));
  const builtins = new Set(builtinModules);
  const external = [...externals].sort();
  const missing = external.filter((name) => !declared.has(name) && !builtins.has(name));
  // The bundle counts tokens (the text package's pre-tokenizer requires gpt-tokenizer's pattern).
  if (external.includes('gpt-tokenizer') && !missing.includes('gpt-tokenizer')) await writeTokenTable(appDir, path.dirname(outfile));
  return { name: manifest.name, outfile, external, missing };
}

async function main() {
  const appDir = process.cwd();
  const { name, outfile, external, missing } = await bundleApp(appDir);
  if (missing.length > 0) {
    process.stderr.write(
      `${name}: the bundle requires ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not ` +
        `in its "dependencies": add ${missing.length === 1 ? 'it' : 'them'} (same version as the package that uses ${missing.length === 1 ? 'it' : 'them'}).\n`,
    );
    process.exit(1);
  }
  const size = fs.statSync(outfile).size;
  process.stdout.write(`${name}: ${path.relative(process.cwd(), outfile)} (${Math.round(size / 1024)} kB), external: ${external.join(', ')}\n`);
}

module.exports = { bundleApp, BUNDLED, CL100K_TABLE_FILE, escapeNonAscii };

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
