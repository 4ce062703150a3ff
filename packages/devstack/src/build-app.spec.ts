import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runInNewContext } from 'node:vm';
import { CL100K_TABLE_FILE as TOKENS_TABLE_FILE, loadCl100kRanks } from '@catalog-indexer/text';

/**
 * The production bundle of each app (scripts/build-app.js, run by the image build) requires only packages the
 * app declares: pnpm's layout would not resolve any other one at run time.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { bundleApp, BUNDLED, CL100K_TABLE_FILE, escapeNonAscii } = require('../../../scripts/build-app.js') as {
  bundleApp: (appDir: string, outfile: string) => Promise<{ external: string[]; missing: string[] }>;
  BUNDLED: Set<string>;
  CL100K_TABLE_FILE: string;
  escapeNonAscii: (code: string) => string;
};

const root = path.resolve(__dirname, '../../..');

describe('production bundles', () => {
  let out: string;
  beforeAll(() => {
    out = mkdtempSync(path.join(tmpdir(), 'bundle-'));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it.each(['api', 'worker', 'query'])('%s requires only its declared dependencies', async (app) => {
    const { external, missing } = await bundleApp(path.join(root, 'apps', app), path.join(out, app, 'main.js'));
    expect(missing).toEqual([]);
    expect(external).toEqual(expect.arrayContaining(['pino', 'zod']));
  });

  it.each(['api', 'worker', 'query'])('%s carries no test fixture', async (app) => {
    const outfile = path.join(out, `${app}-fixtures`, 'main.js');
    await bundleApp(path.join(root, 'apps', app), outfile);
    const bundle = readFileSync(outfile, 'utf8');
    expect(bundle).toContain('catalog_items');
    // The shop fixture's own words (packages/catalog/src/testing/shop.fixture.ts).
    expect(bundle).not.toContain('Revenue is the sum of order totals net of refunds');
    expect(bundle).not.toContain('shop.fixture');
  });

  it.each(['worker', 'query'])("%s carries the openai SDK in its bundle, loaded on its first request", async (app) => {
    expect([...BUNDLED]).toEqual(['openai', 'stopword']);
    const outfile = path.join(out, `${app}-sdk`, 'main.js');
    const { external } = await bundleApp(path.join(root, 'apps', app), outfile);
    expect(external).not.toContain('openai');
    const bundle = readFileSync(outfile, 'utf8');
    expect(bundle).toContain('node_modules/openai/client.js');
    // Nothing requires the SDK from node_modules at run time.
    expect(bundle).not.toMatch(/require\(["']openai["']\)/);
  });

  it.each(['api', 'worker', 'query'])('%s is written in ASCII only, so that V8 holds its source as a one-byte string', async (app) => {
    const outfile = path.join(out, `${app}-ascii`, 'main.js');
    await bundleApp(path.join(root, 'apps', app), outfile);
    const bundle = readFileSync(outfile, 'utf8');
    expect(bundle.match(/[^\t\n\r\x20-\x7e]/g) ?? []).toEqual([]);
    // Escaped, the bundle still parses: an escape in the wrong place would be a syntax error here.
    expect(() => execFileSync(process.execPath, ['--check', outfile], { stdio: 'pipe' })).not.toThrow();
  });

  it.each(['api', 'worker', 'query'])("%s has cl100k's rank table beside its bundle, as the text package builds it", async (app) => {
    const outfile = path.join(out, `${app}-cl100k`, 'main.js');
    await bundleApp(path.join(root, 'apps', app), outfile);
    expect(CL100K_TABLE_FILE).toBe(TOKENS_TABLE_FILE);
    const written = readFileSync(path.join(out, `${app}-cl100k`, CL100K_TABLE_FILE));
    // `out` holds no table of its own: this one is built from gpt-tokenizer's.
    expect(Buffer.compare(written, loadCl100kRanks(out).toBuffer())).toBe(0);
    expect(loadCl100kRanks(path.dirname(outfile)).size).toBe(100_256);
  });

  it('worker compiles in only the English stop words, from the ES module sources of stopword', async () => {
    const outfile = path.join(out, 'worker-stopwords', 'main.js');
    const { external } = await bundleApp(path.join(root, 'apps', 'worker'), outfile);
    expect(external).not.toContain('stopword');
    const bundle = readFileSync(outfile, 'utf8');
    expect(bundle).toContain('stopword/src/stopwords_eng.js');
    expect(bundle).not.toContain('stopwords_afr');
    expect(bundle).not.toMatch(/require\(["']stopword["']\)/);
  });
});

describe('escapeNonAscii', () => {
  const run = (code: string): unknown => runInNewContext(code);

  it.each([
    ['a string', String.raw`'café …'`, String.raw`'caf\u00e9 \u2026'`],
    ['a regular expression', String.raw`/[.!?…]$/.test("done…")`, String.raw`/[.!?\u2026]$/.test("done\u2026")`],
    ['a character beyond the BMP, in a unicode expression', String.raw`/^👋$/u.test("👋")`, String.raw`/^\ud83d\udc4b$/u.test("\ud83d\udc4b")`],
    ['a template', String.raw`${'`'}±${'${'}20} %${'`'}`, String.raw`${'`'}\u00b1${'${'}20} %${'`'}`],
    ['an identity escape', String.raw`'\…'`, String.raw`'\u2026'`],
    ['a backslash before the character', String.raw`'\\…'`, String.raw`'\\\u2026'`],
  ])('keeps what %s means', (_, code, escaped) => {
    const result = escapeNonAscii(code);
    expect(result).toBe(escaped);
    expect(run(result)).toEqual(run(code));
  });

  it('escapes the characters of comments and leaves ASCII as it is', () => {
    const code = '/** backoff (1 s … 5 min) */\nconst x = 1; // ±20 %';
    expect(escapeNonAscii(code)).toBe(String.raw`/** backoff (1 s \u2026 5 min) */` + '\n' + String.raw`const x = 1; // \u00b120 %`);
    expect(escapeNonAscii('plain = "ascii";')).toBe('plain = "ascii";');
  });
});
