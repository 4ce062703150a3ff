import { spawn } from 'node:child_process';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { REPO_ROOT } from '@catalog-indexer/devstack';
import { loadConfig } from '@catalog-indexer/config';
import { createPgvectorEraTable, createTestDatabase, deleteRedisPrefix, freePort, legacyRows, uniqueQueuePrefix, waitFor, type TestDatabase } from '@catalog-indexer/testing';

jest.setTimeout(300_000);

/**
 * `pnpm start` with `DATABASE_URL` at a pgvector-era database (the usual upgrade of an install in place):
 * the product's migrations keep the legacy table, with every row and vector, and the product starts, indexes
 * its demo catalog and answers a search beside it.
 */
describe('pnpm start on a pgvector-era database', () => {
  const prefix = uniqueQueuePrefix('pgvstart');
  const rows = legacyRows({ rows: 40, dims: 8, catalogs: [randomUUID()], awkward: true });
  let db: TestDatabase<{ destroy(): Promise<void> }>;

  beforeAll(async () => {
    db = await createTestDatabase(async (url) => {
      await createPgvectorEraTable(url, rows, { dims: 8 });
      return { destroy: () => Promise.resolve() };
    });
  });
  afterAll(async () => {
    await db?.drop();
    await deleteRedisPrefix(prefix);
  });

  it('keeps the legacy table and runs the product beside it', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'packages/devstack/src/start.ts')], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        REDIS_URL: loadConfig().redis.url,
        QUEUE_PREFIX: prefix,
        QDRANT_URL: '',
        QDRANT_HOST: '',
        QDRANT_PORT: String(await freePort()),
        OPENAI_API_KEY: '',
        EMBEDDING_MODEL: 'text-embedding-3-small',
        EMBEDDING_DIMENSIONS: '64',
        API_HOST: '127.0.0.1',
        API_PORT: String(await freePort()),
        QUERY_HOST: '127.0.0.1',
        QUERY_PORT: String(await freePort()),
        WORKER_PORT: '0',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await waitFor(
        'pnpm start to be running',
        () => {
          if (child.exitCode !== null) throw new Error(`start exited ${child.exitCode}:\n${output.slice(-4000)}`);
          return output.includes('catalog-indexer is running\n');
        },
        { timeoutMs: 240_000, intervalMs: 500 },
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${output.slice(-4000)}`);
      });
      expect(output).toMatch(/Demo catalog [0-9a-f-]{36}/);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);

    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const legacy = await client.query<{ n: number; v: number }>(`SELECT count(*)::int AS n, count(embedding)::int AS v FROM dq_embeddings_pgvector`);
      expect(legacy.rows[0]).toEqual({ n: rows.length, v: rows.filter((r) => r.vector).length });
      const product = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM dq_embeddings WHERE status = 'active'`);
      expect(product.rows[0]!.n).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  });
});
