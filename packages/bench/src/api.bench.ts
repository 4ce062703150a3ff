/**
 * Throughput and latency of the api under 100 concurrent clients: `POST /v1/catalogs/:id/reindex` (requests
 * for the same catalogs coalesce) and `GET /v1/jobs/:id`. One api process (as deployed: `apps/api/src/main.ts`
 * under tsx), the real Postgres and Redis, no worker (jobs stay waiting, so every request meets the
 * coalescing path). Prints one JSON object to stdout; progress goes to stderr.
 * Run: `pnpm bench:api [--clients N] [--seconds N] [--catalogs N]`.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { cpus, loadavg } from 'node:os';
import { Pool } from 'undici';
import { shopCatalog } from '@catalog-indexer/catalog/testing';
import { spawnApp, waitForHttp, type AppProcess } from '@catalog-indexer/devstack';
import { createTestDatabase, deleteRedisPrefix, uniqueName, type TestDatabase } from '@catalog-indexer/testing';
import { readIntegerFlags } from './bench-options';
import { round, summarize } from './stats';

const progress = (message: string): void => {
  process.stderr.write(`[bench:api] ${message}\n`);
};

const FLAGS = {
  clients: { env: 'BENCH_CLIENTS', fallback: 100, min: 1 },
  seconds: { env: 'BENCH_SECONDS', fallback: 10, min: 1 },
  catalogs: { env: 'BENCH_CATALOGS', fallback: 10, min: 1 },
} as const;

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

/** CPU time (user + system, ms) the process has used, from /proc: load-independent cost of the work. */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

interface Phase {
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  requestsPerSecond: number;
  latencyMs: ReturnType<typeof summarize>;
}

/** `clients` loops, each sending one request after the other for `seconds`. */
async function load(clients: number, seconds: number, send: (client: number, n: number) => Promise<number>, pid?: number): Promise<Phase & { apiCpuMsPerRequest: number; clientCpuMsPerRequest: number }> {
  const cpuBefore = cpuMs(pid);
  const clientCpuBefore = process.cpuUsage();
  const samples: number[] = [];
  const statuses: Record<string, number> = {};
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let n = 0; performance.now() < deadline; n++) {
        const t0 = performance.now();
        let status: string;
        try {
          status = String(await send(client, n));
        } catch {
          status = 'network_error';
        }
        samples.push(performance.now() - t0);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  const wall = (performance.now() - started) / 1000;
  const ok = Object.entries(statuses).filter(([s]) => s.startsWith('2')).reduce((sum, [, n]) => sum + n, 0);
  const cpu = cpuMs(pid) - cpuBefore;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  return {
    requests: samples.length,
    errors: samples.length - ok,
    statuses,
    requestsPerSecond: round(samples.length / wall, 1),
    latencyMs: summarize(samples),
    apiCpuMsPerRequest: round(cpu / Math.max(samples.length, 1), 3),
    clientCpuMsPerRequest: round((clientCpu.user + clientCpu.system) / 1000 / Math.max(samples.length, 1), 3),
  };
}

async function main(): Promise<void> {
  const { clients, seconds, catalogs: catalogCount } = readIntegerFlags(process.argv.slice(2), process.env, FLAGS);
  const prefix = uniqueName('bench-api');
  const logLevel = process.env.LOG_LEVEL ?? 'info';
  let api: AppProcess | undefined;
  let db: TestDatabase<{ destroy(): Promise<void> }> | undefined;
  const cleanup = async () => {
    await api?.stop();
    await deleteRedisPrefix(prefix).catch(() => undefined);
    await db?.drop().catch(() => undefined);
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    db = await createTestDatabase(() => Promise.resolve({ destroy: () => Promise.resolve() }));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // Logs go to a pipe the benchmark drains, as a log shipper would; the request log stays on.
    api = spawnApp('api', { DATABASE_URL: db.url, QUEUE_PREFIX: prefix, API_HOST: '127.0.0.1', API_PORT: String(port), LOG_LEVEL: logLevel, DB_MIGRATE_ON_START: 'true' });
    await waitForHttp(`${base}/readyz`, 60_000, () => api?.output().slice(-2000) ?? '');
    progress(`api on ${base}; uploading ${catalogCount} catalogs`);
    const ids: string[] = [];
    for (let i = 0; i < catalogCount; i++) {
      const res = await fetch(`${base}/v1/catalogs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...shopCatalog, name: `shop-${i}` }) });
      ids.push(((await res.json()) as { id: string }).id);
    }
    // The load comes from a lean HTTP client (undici's pool, one keep-alive connection per client) so that
    // on a small machine the load generator takes as little CPU from the api as it can.
    const pool = new Pool(base, { connections: clients, pipelining: 1 });
    const jobIds = new Set<string>();
    const reindex = async (client: number, n: number) => {
      const res = await pool.request({ method: 'POST', path: `/v1/catalogs/${ids[(client + n) % ids.length]}/reindex`, headers: { 'content-type': 'application/json' }, body: '{}' });
      const body = (await res.body.json()) as { jobId?: string };
      if (body.jobId) jobIds.add(body.jobId);
      return res.statusCode;
    };
    progress('warm-up (2 s)');
    await load(clients, 2, reindex);
    progress(`POST /v1/catalogs/:id/reindex: ${clients} clients for ${seconds} s`);
    const reindexPhase = await load(clients, seconds, reindex, api.child.pid);
    const jobs = [...jobIds];
    progress(`GET /v1/jobs/:id: ${clients} clients for ${seconds} s over ${jobs.length} jobs`);
    const getJobPhase = await load(clients, seconds, async (client, n) => {
      const res = await pool.request({ method: 'GET', path: `/v1/jobs/${jobs[(client + n) % jobs.length]}` });
      await res.body.arrayBuffer();
      return res.statusCode;
    }, api.child.pid);
    const result = {
      benchmark: 'api',
      machine: { cpus: cpus().length, node: process.version, loadAverage1m: round(loadavg()[0] ?? 0, 1) },
      setup: { apiProcesses: 1, clients, secondsPerPhase: seconds, catalogs: catalogCount, logLevel, worker: 'none (jobs stay waiting, so every request coalesces)' },
      reindex: { ...reindexPhase, distinctJobIds: jobIds.size },
      getJob: getJobPhase,
      target: { reindexRequestsPerSecond: 2000, reindexP99Ms: 60 },
      meetsTarget: reindexPhase.requestsPerSecond >= 2000 && reindexPhase.latencyMs.p99 < 60 && reindexPhase.errors === 0,
    };
    await pool.close();
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await cleanup();
  }
}

main().catch((error: unknown) => {
  progress(`failed: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
