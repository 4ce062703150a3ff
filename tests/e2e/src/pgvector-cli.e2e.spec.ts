import { spawn } from 'node:child_process';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { loadConfig } from '@catalog-indexer/config';
import { spawnApp, waitForHttp, type AppProcess } from '@catalog-indexer/devstack';
import { OpenAIEmulator, QdrantEmulator } from '@catalog-indexer/emulators';
import {
  createPgvectorEraTable,
  createTestDatabase,
  deleteRedisPrefix,
  freePort,
  legacyRows,
  qdrantEnv,
  readRedisPrefix,
  uniqueName,
  waitFor,
  type TestDatabase,
} from '@catalog-indexer/testing';
import { QdrantStore } from '@catalog-indexer/vector-store';

jest.setTimeout(300_000);

const DIMS = 16;
const ROOT = path.resolve(__dirname, '../../..');

/** What one run of the command printed, and how it exited. */
interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `pnpm migrate:pgvector` as an operator runs it, against a running api and worker and a separate
 * pgvector-era database: a dry run, the adoption, a refused request, a rollback and a job that fails, each
 * followed with plain progress lines (its output is not a terminal) and an exit code that says how it went.
 */
describe('pnpm migrate:pgvector', () => {
  const prefix = uniqueName('pgvcli');
  const collection = uniqueName('pgvcli');
  const catalogId = randomUUID();
  const rows = legacyRows({ rows: 300, dims: DIMS, catalogs: [catalogId], seed: 21 });
  const PASSWORD = 'cli-source-pw-31';
  let product: TestDatabase<{ destroy(): Promise<void> }>;
  let source: TestDatabase<{ destroy(): Promise<void> }>;
  let qdrant: QdrantEmulator;
  let openai: OpenAIEmulator;
  let env: Record<string, string>;
  const apps: AppProcess[] = [];
  const logs = () => apps.map((a) => `--- ${a.name} ---\n${a.output().slice(-3000)}`).join('\n');
  // This server trusts local connections: the password is only there to prove that it is never shown.
  const sourceUrl = () => {
    const u = new URL(source.url);
    u.password = PASSWORD;
    return u.toString();
  };

  const cli = (args: string[]): Promise<CliRun> =>
    new Promise((resolve, reject) => {
      const child = spawn('pnpm', ['-s', 'migrate:pgvector', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
      child.once('error', reject);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  /** The JSON the command prints at the end of a completed job. */
  const resultOf = (run: CliRun): Record<string, unknown> => JSON.parse(run.stdout.slice(run.stdout.indexOf('\n{') + 1)) as Record<string, unknown>;

  beforeAll(async () => {
    product = await createTestDatabase(() => Promise.resolve({ destroy: () => Promise.resolve() }));
    source = await createTestDatabase(async (url) => {
      await createPgvectorEraTable(url, rows, { dims: DIMS });
      const client = new Client({ connectionString: url });
      await client.connect();
      // A table a rollback cannot walk: its ids are not uuids.
      await client.query(`CREATE TABLE not_uuid (id int PRIMARY KEY, content text)`);
      await client.query(`INSERT INTO not_uuid VALUES (1, 'x')`);
      await client.end();
      return { destroy: () => Promise.resolve() };
    });
    qdrant = new QdrantEmulator();
    openai = new OpenAIEmulator({ apiKey: 'sk-e2e-cli' });
    const q = await qdrant.start(0);
    const o = await openai.start(0);
    const apiPort = await freePort();
    env = {
      DATABASE_URL: product.url,
      REDIS_URL: loadConfig().redis.url,
      QUEUE_PREFIX: prefix,
      ...qdrantEnv(q),
      QDRANT_COLLECTION_NAME: collection,
      OPENAI_API_KEY: 'sk-e2e-cli',
      OPENAI_BASE_URL: `${o.url}/v1`,
      EMBEDDING_MODEL: 'text-embedding-3-large',
      EMBEDDING_DIMENSIONS: String(DIMS),
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      WORKER_PORT: '0',
      SOURCE_VAULT_KEY: 'e2e-cli-vault-secret-0123456789',
      LOG_LEVEL: 'info',
      DB_MIGRATE_ON_START: 'true',
    };
    apps.push(spawnApp('api', env));
    await waitForHttp(`http://127.0.0.1:${apiPort}/readyz`, 90_000, logs);
    const worker = spawnApp('worker', env, { label: 'worker' });
    apps.push(worker);
    await waitFor('the worker to be ready', () => worker.output().includes('worker ready'), { timeoutMs: 90_000 });
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await qdrant?.stop();
    await openai?.stop();
    await source?.drop();
    await product?.drop();
    await deleteRedisPrefix(prefix);
  });

  it('follows a dry run, the adoption and a rollback with plain lines and exits 0; refused or failed, it exits 1', async () => {
    const dry = await cli(['--from', sourceUrl(), '--dry-run']);
    expect({ code: dry.code, stderr: dry.stderr }).toEqual({ code: 0, stderr: '' });
    expect(dry.stdout).not.toContain('\r');
    expect(dry.stdout).toMatch(/^job pgvector-adoption-\S+$/m);
    expect(dry.stdout).toContain(`copying [${'#'.repeat(30)}] 300/300 rows\n`);
    expect(resultOf(dry)).toMatchObject({ dryRun: true, rows: 300, migrated: 300, tokens: 0, verified: null });
    const store = new QdrantStore({ url: env.QDRANT_URL!, collection, dimensions: DIMS });
    expect(await store.count(catalogId)).toBe(0);

    const adopt = await cli(['--from', sourceUrl()]);
    expect(adopt.code).toBe(0);
    expect(adopt.stdout).not.toContain('\r');
    expect(adopt.stdout).toContain(`verifying [${'#'.repeat(30)}] 300/300 rows\n`);
    expect(resultOf(adopt)).toMatchObject({ dryRun: false, rows: 300, migrated: 300, tokens: 0, verified: { ok: true } });
    expect(await store.count(catalogId)).toBe(300);

    const refused = await cli(['--from', sourceUrl(), '--table', 'missing']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^refused \(422 source_table_not_found\): .*has no table "missing"/m);

    const rollback = await cli(['--rollback', '--from', sourceUrl()]);
    expect(rollback.code).toBe(0);
    expect(resultOf(rollback)).toMatchObject({ rows: 300, restored: 300, missing: 0, tokens: 0 });

    const failed = await cli(['--rollback', '--from', sourceUrl(), '--table', 'not_uuid']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/^failed: .+/m);

    // Every job has ended: the vault holds no connection string, and nothing in Redis, the output or the
    // logs shows it or its password.
    await waitFor('the vault to be empty', async () => [...(await readRedisPrefix(prefix)).keys()].every((k) => !k.includes(':source-vault:')), { timeoutMs: 30_000 });
    const held = [...(await readRedisPrefix(prefix)).values()].join('\n');
    for (const text of [held, dry.stdout, adopt.stdout, refused.stdout, rollback.stdout, failed.stdout]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain('postgres://');
    }
    expect(logs()).not.toContain(PASSWORD);
  });
});
