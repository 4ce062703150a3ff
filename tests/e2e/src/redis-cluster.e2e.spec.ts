import { existsSync } from 'node:fs';
import path from 'node:path';
import { fatalLogMessage, REPO_ROOT, spawnApp, type AppName } from '@catalog-indexer/devstack';
import { runGroup, startRedisCluster, type RedisClusterProcess, type RedisServerProcess } from '@catalog-indexer/testing';
import { Redis } from 'ioredis';

jest.setTimeout(300_000);

/** How long the nested run may take before it is killed and its output reported (under the test's timeout). */
const NESTED_RUN_DEADLINE_MS = 270_000;

/** The suites that run a second time, against the cluster: every queue test and the walking skeleton. */
const SUITES = ['packages/queue/src', 'tests/e2e/src/walking-skeleton.e2e.spec.ts'];

interface JestSummary {
  success: boolean;
  numPassedTests: number;
  numFailedTests: number;
  testResults: { name: string; status: string; message: string }[];
}

/**
 * Runs Jest on `SUITES` in a child process (one file at a time) with `env` added, writing its JSON summary to
 * `outputFile`; resolves with its exit code and the tail of its output. A run still going at the deadline is
 * killed with the processes it started, and reported with that tail (the suites it finished), not left to the
 * test's timeout.
 */
async function runSuites(env: Record<string, string>, outputFile: string): Promise<{ code: number | null; output: string }> {
  const jest = path.join(REPO_ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
  const { code, output, timedOut } = await runGroup(
    process.execPath,
    // `--forceExit`: the result is read from the JSON summary once every suite has run. In band there is no
    // worker for Jest to force out (as the main run does), so a client a suite's teardown leaves reconnecting
    // to the cluster kept the run alive after all its tests had passed, until the deadline.
    [jest, '--ci', '--runInBand', '--forceExit', '--selectProjects', 'integration', '--json', `--outputFile=${outputFile}`, ...SUITES],
    { cwd: REPO_ROOT, env: { ...process.env, ...env }, tailChars: 20_000, deadlineMs: NESTED_RUN_DEADLINE_MS },
  );
  if (timedOut) {
    throw new Error(`the nested run was still going after ${NESTED_RUN_DEADLINE_MS / 1000} s; its output:\n${output.slice(-6_000)}`);
  }
  return { code, output };
}

async function evalshaCalls(node: RedisServerProcess): Promise<number> {
  const client = new Redis(node.port, node.host, { maxRetriesPerRequest: 1 });
  try {
    const stats = await client.info('commandstats');
    return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  } finally {
    client.disconnect();
  }
}

/**
 * A 3-master Redis Cluster of the test's own, on free ports. The queue tests and the walking skeleton run
 * against it with a hash-tagged prefix, every process seeded with a node that does not own the prefix's
 * slot (so each call starts with a MOVED redirection); an untagged prefix stops the apps at start.
 */
describe('Redis Cluster', () => {
  let cluster: RedisClusterProcess | undefined;
  let seed: RedisServerProcess;
  let owner: RedisServerProcess;
  let tag: string;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    seed = cluster.nodes[0]!;
    // The first tag whose slot lives on another node than the seed.
    for (let i = 0; ; i++) {
      owner = await cluster.ownerOf(`{cidx${i}}`);
      if (owner !== seed) {
        tag = `{cidx${i}}`;
        break;
      }
    }
  });
  afterAll(async () => {
    const dirs = cluster?.nodes.map((n) => n.dir) ?? [];
    await cluster?.stop();
    // The cluster is gone: no process, no files.
    for (const dir of dirs) expect(existsSync(dir)).toBe(false);
  });

  it('runs the queue tests and the end-to-end test, seeded with a node that does not own the queue slot', async () => {
    expect(owner).not.toBe(seed);
    const before = await evalshaCalls(owner);
    const outputFile = path.join(seed.dir, 'jest-results.json');
    const { code, output } = await runSuites(
      { REDIS_CLUSTER: 'true', REDIS_URL: seed.url, QUEUE_PREFIX: tag },
      outputFile,
    );
    const summary = (await import(outputFile)) as JestSummary;
    if (code !== 0 || !summary.success) {
      const failures = summary.testResults.filter((r) => r.status !== 'passed').map((r) => `${r.name}\n${r.message}`);
      throw new Error(`suites failed on the cluster (exit ${code}):\n${failures.join('\n')}\n${output.slice(-6_000)}`);
    }
    const files = summary.testResults.map((r) => path.relative(REPO_ROOT, r.name)).sort();
    expect(files).toEqual(
      expect.arrayContaining(['packages/queue/src/job-queue.int.spec.ts', 'packages/queue/src/flow-on-redis.int.spec.ts', 'tests/e2e/src/walking-skeleton.e2e.spec.ts']),
    );
    expect(summary.numFailedTests).toBe(0);
    expect(summary.numPassedTests).toBeGreaterThanOrEqual(14);
    // BullMQ's scripts ran on the node that owns the slot.
    expect((await evalshaCalls(owner)) - before).toBeGreaterThan(50);
  });

  it.each<AppName>(['api', 'worker'])('stops %s at start when the prefix has no hash tag, naming QUEUE_PREFIX', async (app) => {
    const proc = spawnApp(app, { REDIS_CLUSTER: 'true', REDIS_URL: seed.url, QUEUE_PREFIX: 'cidx', LOG_LEVEL: 'info' });
    expect(await proc.exited).toBe(1);
    const fatal = fatalLogMessage(proc.output());
    expect(fatal).toMatch(/QUEUE_PREFIX: "cidx" has no hash tag.*QUEUE_PREFIX=\{cidx\}/);
  });
});
