/**
 * Memory of worker processes: idle and peak resident set size (RSS) per worker.
 *
 * Starts `--workers` worker processes (the production build, `apps/worker/dist/main.js`, run by plain
 * `node`; or with `--source` the sources through tsx, as development runs them) against the real Postgres
 * (a fresh database) and Redis (a prefix of its own), the in-process Qdrant emulator and the OpenAI
 * emulator behind the official SDK. Reads each worker's RSS from /proc after it has idled `--idle-ms`,
 * then reindexes a catalog of `--databases` Spider databases (one job: one worker runs it), idles again, and
 * reads each worker's RSS after the job and its peak (VmHWM).
 * The production build runs with the worker's production V8 options ({@link WORKER_NODE_OPTIONS}, as compose
 * and `start:prod` start it). Prints one JSON object. Run: `pnpm -s bench:rss [--workers N] [--databases N]
 * [--idle-ms N] [--source]`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { flattenItems } from '@catalog-indexer/catalog';
import { loadConfig } from '@catalog-indexer/config';
import { CatalogRepository, openDataSource, type DataSource } from '@catalog-indexer/db';
import { compiledEntry, spawnApp, type AppProcess } from '@catalog-indexer/devstack';
import { OpenAIEmulator, QdrantEmulator } from '@catalog-indexer/emulators';
import { createRedisConnection, JobProducer } from '@catalog-indexer/queue';
import { createTestDatabase, deleteRedisPrefix, uniqueName, uniqueQueuePrefix, waitFor, type TestDatabase } from '@catalog-indexer/testing';
import { readIntegerFlags } from './bench-options';
import { WORKER_NODE_ARGS, WORKER_NODE_OPTIONS } from './process-memory';
import { buildSpiderCatalog, findRepositoryRoot, loadSpider, pickDatabases } from './spider-catalog';

const progress = (message: string): void => {
  process.stderr.write(`[bench:rss] ${message}\n`);
};

/** Targets: RSS of an idle worker, and the peak of the worker that runs a reindex of about 6,000 chunks. */
const IDLE_LIMIT_MB = 110;
const PEAK_LIMIT_MB = 200;

const FLAGS = {
  workers: { fallback: 2, min: 1 },
  // All of Spider: one catalog of 6,172 chunks.
  databases: { fallback: 166, min: 1 },
  'idle-ms': { fallback: 10_000, min: 1 },
} as const;

/** VmRSS and VmHWM (peak) of a process, in MB, from /proc/<pid>/status. */
function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: Math.round(kb('VmRSS') / 102.4) / 10, peakMb: Math.round(kb('VmHWM') / 102.4) / 10 };
}

async function main(): Promise<void> {
  const { workers, databases, 'idle-ms': idleMs, source: fromSource } = readIntegerFlags(process.argv.slice(2), process.env, FLAGS, ['source']);
  if (!fromSource && !existsSync(compiledEntry('worker'))) {
    throw new Error(`${compiledEntry('worker')} is missing: run pnpm --filter @catalog-indexer/worker build first`);
  }

  const spider = loadSpider(findRepositoryRoot(__dirname));
  const { catalog, report } = buildSpiderCatalog(pickDatabases(spider, databases), 'spider');

  const cleanup: (() => Promise<unknown>)[] = [];
  const run = async () => {
    const db: TestDatabase<DataSource> = await createTestDatabase((url) =>
      openDataSource({ url, poolSize: 2, applicationName: 'bench-rss', migrate: true }),
    );
    cleanup.push(() => db.drop());
    const qdrant = new QdrantEmulator();
    const openai = new OpenAIEmulator({ apiKey: 'sk-bench-rss' });
    const q = await qdrant.start(0);
    const o = await openai.start(0);
    cleanup.push(() => qdrant.stop(), () => openai.stop());
    const prefix = uniqueQueuePrefix('bench-rss');
    cleanup.push(() => deleteRedisPrefix(prefix));
    const env = {
      DATABASE_URL: db.url,
      QUEUE_PREFIX: prefix,
      QDRANT_URL: q.url,
      QDRANT_GRPC_PORT: String(q.grpcPort),
      QDRANT_COLLECTION_NAME: uniqueName('bench_rss'),
      OPENAI_API_KEY: 'sk-bench-rss',
      OPENAI_BASE_URL: `${o.url}/v1`,
      EMBEDDING_MODEL: 'text-embedding-3-small',
      EMBEDDING_DIMENSIONS: '256',
      DB_MIGRATE_ON_START: 'false',
      DB_PROCESS_COUNT: String(workers + 1),
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      ...(fromSource ? {} : { NODE_OPTIONS: WORKER_NODE_OPTIONS }),
    };
    const procs: AppProcess[] = [];
    for (let i = 0; i < workers; i++) procs.push(spawnApp('worker', { ...env, LOG_LEVEL: 'info' }, { label: `worker-${i + 1}`, compiled: !fromSource, nodeArgs: fromSource ? [] : WORKER_NODE_ARGS }));
    cleanup.push(() => Promise.all(procs.map((p) => p.stop())));
    for (const p of procs) await waitFor(`${p.name} to be ready`, () => p.output().includes('worker ready'), { timeoutMs: 60_000 });
    progress(`${workers} workers ready (${fromSource ? 'sources through tsx' : 'production build'}); idling ${idleMs} ms`);
    await new Promise((r) => setTimeout(r, idleMs));
    const idle = procs.map((p) => memoryOf(p.child.pid!).rssMb);

    const { id: catalogId } = await new CatalogRepository(db.dataSource).create({
      name: catalog.name,
      description: catalog.description ?? null,
      document: catalog,
      items: flattenItems(catalog),
    });
    const connection = createRedisConnection(loadConfig().redis, 'producer');
    const jobs = new JobProducer(connection, prefix);
    cleanup.push(async () => {
      await jobs.close();
      connection.disconnect();
    });
    progress(`reindexing ${report.databases} Spider databases (${report.tables} tables, ${report.columns} columns)`);
    const started = performance.now();
    const { jobId } = await jobs.enqueue('reindex', { catalogId });
    const job = await waitFor('the reindex to finish', async () => {
      const view = await jobs.getJob(jobId);
      return view?.state === 'completed' || view?.state === 'failed' ? view : undefined;
    }, { timeoutMs: 600_000, intervalMs: 200 });
    const reindexMs = Math.round(performance.now() - started);
    progress(`reindex ${job.state} in ${reindexMs} ms; idling ${idleMs} ms again`);
    await new Promise((r) => setTimeout(r, idleMs));
    const perWorker = procs.map((p, i) => {
      const { rssMb, peakMb } = memoryOf(p.child.pid!);
      return { worker: p.name, idleRssMb: idle[i], peakRssMb: peakMb, idleAfterJobRssMb: rssMb };
    });
    process.stdout.write(
      `${JSON.stringify(
        {
          bench: 'rss',
          run: fromSource ? 'sources through tsx (development)' : 'node apps/worker/dist/main.js (production build)',
          node: process.version,
          workers: perWorker,
          idleMs,
          workload: { databases: report.databases, tables: report.tables, columns: report.columns, reindexMs, state: job.state, result: job.result },
          nodeOptions: fromSource ? null : WORKER_NODE_OPTIONS,
          nodeArgs: fromSource ? null : WORKER_NODE_ARGS,
          idleLimitMb: IDLE_LIMIT_MB,
          peakLimitMb: PEAK_LIMIT_MB,
          idleUnderLimit: perWorker.every((w) => (w.idleRssMb ?? Infinity) <= IDLE_LIMIT_MB),
          peakUnderLimit: perWorker.every((w) => (w.peakRssMb ?? Infinity) <= PEAK_LIMIT_MB),
        },
        null,
        2,
      )}\n`,
    );
  };
  try {
    await run();
  } finally {
    for (const step of cleanup.reverse()) await step().catch((e: unknown) => progress(`cleanup failed: ${String(e)}`));
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    progress(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
