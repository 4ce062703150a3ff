import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The production bundle of each app (scripts/build-app.js, run by the image build) requires only packages the
 * app declares: pnpm's layout would not resolve any other one at run time.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { bundleApp, BUNDLED } = require('../../../scripts/build-app.js') as {
  bundleApp: (appDir: string, outfile: string) => Promise<{ external: string[]; missing: string[] }>;
  BUNDLED: Set<string>;
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
    expect([...BUNDLED]).toEqual(['openai']);
    const outfile = path.join(out, `${app}-sdk`, 'main.js');
    const { external } = await bundleApp(path.join(root, 'apps', app), outfile);
    expect(external).not.toContain('openai');
    const bundle = readFileSync(outfile, 'utf8');
    expect(bundle).toContain('node_modules/openai/client.js');
    // Nothing requires the SDK from node_modules at run time.
    expect(bundle).not.toMatch(/require\(["']openai["']\)/);
  });
});
