import { spawn } from 'node:child_process';
import path from 'node:path';
import { fatalLogMessage, REPO_ROOT } from '@catalog-indexer/devstack';
import { createTestDatabase, deleteRedisPrefix, freePort, freePortPair, startRedisServer, uniqueQueuePrefix, waitFor, type RedisServerProcess, type TestDatabase } from '@catalog-indexer/testing';
import { loadConfig } from '@catalog-indexer/config';
import { openDataSource, type DataSource } from '@catalog-indexer/db';

jest.setTimeout(150_000);

/**
 * `pnpm start` against a Redis that reads but refuses every write (out of memory, `noeviction`): the api
 * is ready (its readiness call only reads), the demo reindex cannot be enqueued, and start stops at once
 * with the API's error instead of polling a job that does not exist, taking its processes with it.
 */
describe('pnpm start when an enqueue fails', () => {
  let db: TestDatabase<DataSource>;
  let redisServer: RedisServerProcess;

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 1, applicationName: 'test', migrate: false }));
    redisServer = await startRedisServer({ args: ['--maxmemory', '1'] });
  });
  afterAll(async () => {
    await redisServer?.stop();
    await db?.drop();
  });

  it('stops with the API error and leaves no process behind', async () => {
    const [apiPort, queryPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'packages/devstack/src/start.ts')], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        REDIS_URL: redisServer.url,
        REDIS_CLUSTER: 'false',
        QUEUE_PREFIX: 'start-check',
        QDRANT_URL: '',
        QDRANT_HOST: '',
        QDRANT_PORT: String(await freePort()),
        OPENAI_API_KEY: '',
        EMBEDDING_MODEL: 'text-embedding-3-small',
        EMBEDDING_DIMENSIONS: '64',
        API_HOST: '127.0.0.1',
        API_PORT: String(apiPort),
        QUERY_HOST: '127.0.0.1',
        QUERY_PORT: String(queryPort),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));

    try {
      expect(code).toBe(1);
      expect(fatalLogMessage(output)).toMatch(/^start failed: enqueuing the demo reindex failed: 5\d\d /);
      expect(output).not.toContain('/v1/jobs/undefined');
    } catch (error) {
      // What start and its processes printed says why it stopped otherwise.
      throw new Error(`${(error as Error).message}\n--- pnpm start printed ---\n${output.slice(-12_000)}`);
    }
    // The api and query ports are free again: start took its processes down with it.
    for (const port of [apiPort, queryPort]) {
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    }
  });
});

/**
 * `pnpm start` with API_KEYS set: its own requests carry a key, each worker serves health, readiness and
 * metrics on a port of its own, and it prints a /v1/context example beside the search one.
 */
describe('pnpm start with API keys', () => {
  const key = 'start-e2e-key';
  const prefix = uniqueQueuePrefix('startkeys');
  let db: TestDatabase<DataSource>;
  let child: ReturnType<typeof spawn> | undefined;
  let output = '';

  beforeAll(async () => {
    db = await createTestDatabase((url) => openDataSource({ url, poolSize: 1, applicationName: 'test', migrate: false }));
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    }
    await db?.drop();
    await deleteRedisPrefix(prefix);
  });

  it('comes up, indexes the demo with the key, and gives each worker its own port', async () => {
    const [apiPort, queryPort, workerPort] = [await freePort(), await freePort(), await freePortPair(1)];
    child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'packages/devstack/src/start.ts')], {
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
        API_PORT: String(apiPort),
        QUERY_HOST: '127.0.0.1',
        QUERY_PORT: String(queryPort),
        WORKER_PORT: String(workerPort),
        API_KEYS: key,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor('pnpm start to be running', () => output.includes('catalog-indexer is running') || child!.exitCode !== null, { timeoutMs: 120_000, intervalMs: 250 });
    if (child.exitCode !== null) throw new Error(`start stopped:\n${output.slice(-4000)}`);

    expect(output).toContain(`http://127.0.0.1:${queryPort}/v1/context`);
    expect(output).toContain(`http://127.0.0.1:${queryPort}/v1/search`);
    expect(output).not.toContain(key);
    // Two workers, two ports: each one's readiness and metrics answer, the metrics with the key only.
    for (const port of [workerPort, workerPort + 1]) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect({ port, status: ready.status }).toEqual({ port, status: 200 });
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${key}` } });
      expect(await metrics.text()).toContain('cidx_process_cpu_user_seconds_total');
    }
    expect(output).not.toContain('port ' + String(workerPort) + ' is not available');
    expect(output).not.toContain('runs without API keys');
  });
});
