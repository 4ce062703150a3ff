import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { spawnApp, waitForHttp, type AppProcess } from '@catalog-indexer/devstack';
import { OpenAIEmulator, QdrantEmulator } from '@catalog-indexer/emulators';
import { openDataSource, type DataSource } from '@catalog-indexer/db';
import { createTestDatabase, deleteRedisPrefix, uniqueName, waitFor, type TestDatabase, qdrantEnv } from '@catalog-indexer/testing';

jest.setTimeout(900_000);

const CHROMIUM = '/usr/bin/chromium';

/** Debian's chromium, installed with apt-get when missing (the test machines run as root). */
function ensureChromium(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.getuid?.() !== 0) throw new Error(`${CHROMIUM} is missing: install it with "apt-get install -y chromium" as root`);
  const apt = (args: string[]) => execFileSync('apt-get', args, { stdio: 'inherit', timeout: 600_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  try {
    apt(['install', '-y', '--no-install-recommends', 'chromium']);
  } catch {
    apt(['update']);
    apt(['install', '-y', '--no-install-recommends', 'chromium']);
  }
  return CHROMIUM;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Bull Board opened in a real browser (Debian chromium through playwright-core), behind the API keys. */
describe('Bull Board in a browser', () => {
  const KEY = 'board-key-7f3a';
  const prefix = uniqueName('board');
  let db: TestDatabase<DataSource>;
  let qdrant: QdrantEmulator;
  let openai: OpenAIEmulator;
  let apps: AppProcess[] = [];
  let browser: Browser;
  let api: string;
  let jobId: string;
  let catalogId: string;

  const logs = () => apps.map((a) => `--- ${a.name} ---\n${a.output().slice(-3000)}`).join('\n');
  const call = async (path: string, init: RequestInit = {}) =>
    fetch(`${api}${path}`, { ...init, headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...init.headers } });

  beforeAll(async () => {
    const executablePath = ensureChromium();
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 2, applicationName: 'board', migrate: true }));
    qdrant = new QdrantEmulator();
    openai = new OpenAIEmulator();
    const [q, o] = [await qdrant.start(0), await openai.start(0)];
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    const env = {
      DATABASE_URL: db.url,
      QUEUE_PREFIX: prefix,
      ...qdrantEnv(q),
      QDRANT_COLLECTION_NAME: uniqueName('board'),
      OPENAI_API_KEY: 'sk-board-test',
      OPENAI_BASE_URL: `${o.url}/v1`,
      EMBEDDING_MODEL: 'text-embedding-3-small',
      EMBEDDING_DIMENSIONS: '64',
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      WORKER_METRICS_PORT: '0',
      API_KEYS: KEY,
      LOG_LEVEL: 'warn',
    };
    apps = [spawnApp('api', env), spawnApp('worker', env)];
    await waitForHttp(`${api}/readyz`, 60_000, logs);
    catalogId = ((await (await call('/v1/catalogs', { method: 'POST', body: JSON.stringify(shopCatalog) })).json()) as { id: string }).id;
    jobId = ((await (await call(`/v1/catalogs/${catalogId}/reindex`, { method: 'POST', body: '{}' })).json()) as { jobId: string }).jobId;
    await waitFor(
      'the reindex to complete',
      async () => ((await (await call(`/v1/jobs/${jobId}`)).json()) as { state: string }).state === 'completed' || undefined,
      { timeoutMs: 90_000, intervalMs: 250 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${logs()}`);
    });
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(apps.map((a) => a.stop()));
    await qdrant?.stop();
    await openai?.stop();
    await deleteRedisPrefix(prefix);
    await db?.drop();
  });

  /** Opens Bull Board with the given Basic credentials; returns the status of the first answer. */
  const open = async (credentials?: { username: string; password: string }) => {
    const context = await browser.newContext(credentials ? { httpCredentials: credentials } : {});
    const page = await context.newPage();
    const first = page.waitForResponse((r) => r.url() === `${api}/admin/queues`);
    // Chromium gives up on a page whose Basic challenge it cannot answer (ERR_INVALID_AUTH_CREDENTIALS).
    const navigation = await page.goto(`${api}/admin/queues`).catch((error: Error) => error);
    const response = await first;
    return { context, page, status: response.status(), challenge: response.headers()['www-authenticate'], navigation };
  };

  it('asks for a login, refuses a wrong key and opens with a right one', async () => {
    const anonymous = await open();
    expect(anonymous.status).toBe(401);
    expect(anonymous.challenge).toMatch(/^Basic realm="Bull Board"/);
    expect(anonymous.navigation instanceof Error ? anonymous.navigation.message : 'page loaded').toContain('ERR_INVALID_AUTH_CREDENTIALS');
    await anonymous.context.close();

    const wrong = await open({ username: 'ops', password: `${KEY}-wrong` });
    expect(wrong.status).toBe(401);
    await wrong.context.close();

    const right = await open({ username: 'ops', password: KEY });
    expect(right.status).toBe(200);
    await right.page.getByText('catalog-jobs').first().waitFor({ timeout: 30_000 });
    await right.context.close();
  });

  it('shows the completed reindex with its progress and result', async () => {
    const context = await browser.newContext({ httpCredentials: { username: 'ops', password: KEY } });
    const page = await context.newPage();
    await page.goto(`${api}/admin/queues/queue/catalog-jobs?status=completed`);
    await page.getByText(jobId).first().waitFor({ timeout: 30_000 });
    const runs = (await (await call(`/v1/catalogs/${catalogId}/runs`)).json()) as { runs: { embedded: number; tokens: number }[] };
    // The Data tab shows the job's data and its result (the run's counts).
    const body = () => page.locator('body').innerText();
    expect(await body()).toContain(`embedded:${runs.runs[0]!.embedded}`);
    expect(await body()).toContain(`tokens:${runs.runs[0]!.tokens}`);
    expect(await body()).toContain('status:"completed"');
    // The Progress tab shows the last progress the worker reported: the run done, with its counts.
    await page.getByText('Progress', { exact: true }).first().click();
    await page.getByText('"done"').first().waitFor({ timeout: 10_000 });
    expect(await body()).toMatch(/chunks:\s*\d+/);
    await context.close();
  });
});
