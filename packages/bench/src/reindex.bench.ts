/**
 * Reindex benchmark: one large catalog indexed by 1, then N worker processes.
 *
 * Real Postgres (a fresh database, dropped at the end) and Redis (a fresh queue prefix per run, removed
 * after it), the in-process Qdrant emulator, and the in-process OpenAI emulator with a latency like the
 * API's (a fixed part plus a part per token) and a tokens-per-minute limit. Workers are `apps/worker` as
 * separate processes, all with the same settings, from the production build (`--source`: from sources). Prints one JSON line per run to stdout; progress goes to
 * stderr. Run: `pnpm bench:reindex [--copies N] [--workers N] …` (see `--help`).
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { chunkCatalog, flattenItems, type Catalog } from '@catalog-indexer/catalog';
import { loadConfig } from '@catalog-indexer/config';
import { CatalogRepository, EmbeddingRepository, openDataSource, type DataSource } from '@catalog-indexer/db';
import { compiledEntry, spawnApp, type AppProcess } from '@catalog-indexer/devstack';
import { OpenAIEmulator, QdrantEmulator } from '@catalog-indexer/emulators';
import { createLogger } from '@catalog-indexer/logger';
import { JobProducer, createRedisConnection } from '@catalog-indexer/queue';
import { countTokens } from '@catalog-indexer/text';
import { createTestDatabase, deleteRedisPrefix, uniqueName, waitFor, type TestDatabase } from '@catalog-indexer/testing';
import { QdrantStore } from '@catalog-indexer/vector-store';
import { Cleanup, progress } from './bench-cleanup';
import { processCpuMs } from './process-cpu';
import { WORKER_NODE_ARGS, WORKER_NODE_OPTIONS, processMemory } from './process-memory';
import { REINDEX_USAGE, parseReindexBenchOptions, type ReindexBenchOptions } from './reindex-bench-options';
import { findRepositoryRoot, loadSpider, pickDatabases, replicatedCatalog } from './spider-catalog';
import { round } from './stats';

const API_KEY = 'sk-bench-reindex';
/** The model of the run: the large one where the small one's 1,536 dimensions are too few. */
const modelFor = (dimensions: number): string => (dimensions > 1_536 ? 'text-embedding-3-large' : 'text-embedding-3-small');
/** Longest a run may take before the benchmark gives up on it. */
const RUN_TIMEOUT_MS = 15 * 60_000;

interface RunPlan {
  /** What bounds the run: the API's latency (a limit that never binds) or its tokens per minute. */
  bound: 'latency' | 'tpm';
  workers: number;
  tpmLimit: number;
}

interface Shared {
  options: ReindexBenchOptions;
  db: TestDatabase<DataSource>;
  openai: OpenAIEmulator;
  openaiUrl: string;
  qdrant: QdrantEmulator;
  qdrantUrl: string;
  catalog: Catalog;
  chunks: number;
  tokens: number;
}

/** Starts one worker process and resolves once it has said it is ready, with its idle memory. */
async function startWorker(env: Record<string, string>, label: string, { build, cpuProfileDir }: Pick<ReindexBenchOptions, 'build' | 'cpuProfileDir'>): Promise<AppProcess> {
  // The production build runs with the worker's V8 options, as compose runs it (and any the caller set).
  const nodeOptions = [WORKER_NODE_OPTIONS, process.env.NODE_OPTIONS ?? ''].join(' ').trim();
  const nodeArgs = [...(build === 'production' ? WORKER_NODE_ARGS : []), ...(cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [])];
  const worker = spawnApp('worker', build === 'production' ? { NODE_OPTIONS: nodeOptions, ...env } : env, { label, compiled: build === 'production', nodeArgs });
  await waitFor(`${label} to be ready`, () => worker.output().includes('worker ready') || worker.child.exitCode !== null, {
    timeoutMs: 120_000,
    intervalMs: 100,
  });
  if (worker.child.exitCode !== null) throw new Error(`${label} exited at start:\n${worker.output().slice(-4_000)}`);
  return worker;
}

async function measure(shared: Shared, plan: RunPlan, cleanup: Cleanup): Promise<Record<string, unknown>> {
  const { options, openai, qdrant } = shared;
  const prefix = uniqueName('bench_reindex');
  const collection = uniqueName('bench');
  cleanup.add(`redis prefix ${prefix}`, () => deleteRedisPrefix(prefix));
  qdrant.reset();

  const catalogs = new CatalogRepository(shared.db.dataSource);
  const embeddings = new EmbeddingRepository(shared.db.dataSource);
  const name = `${shared.catalog.name}_${plan.bound}_${plan.workers}w`;
  const created = await catalogs.create({
    name,
    description: shared.catalog.description ?? null,
    document: { ...shared.catalog, name },
    items: flattenItems(shared.catalog),
  });

  // Same settings for every process; a variable set in the environment wins over the benchmark's choice.
  const env: Record<string, string> = {
    WORKER_CONCURRENCY: String(options.concurrency),
    EMBEDDING_BATCH_MAX_INPUTS: String(options.batchInputs),
    DB_POOL_SIZE: '4',
    LOG_LEVEL: 'info',
    ...pick(process.env, ['WORKER_CONCURRENCY', 'EMBEDDING_BATCH_MAX_INPUTS', 'EMBEDDING_BATCH_MAX_TOKENS', 'DB_POOL_SIZE', 'LOG_LEVEL']),
    DATABASE_URL: shared.db.url,
    DB_MIGRATE_ON_START: 'false',
    REDIS_URL: loadConfig().redis.url,
    QUEUE_PREFIX: prefix,
    QDRANT_URL: shared.qdrantUrl,
    QDRANT_GRPC_PORT: String(shared.qdrant.grpcPort),
    QDRANT_TRANSPORT: options.transport,
    QDRANT_COLLECTION_NAME: collection,
    OPENAI_API_KEY: API_KEY,
    OPENAI_BASE_URL: `${shared.openaiUrl}/v1`,
    EMBEDDING_MODEL: modelFor(options.dimensions),
    EMBEDDING_DIMENSIONS: String(options.dimensions),
    EMBEDDING_TPM: String(plan.tpmLimit),
    RECONCILE_INTERVAL_MS: '0',
  };
  progress(`${plan.bound}-bound run, ${plan.workers} worker(s), TPM limit ${plan.tpmLimit}: starting workers`);
  const workers: AppProcess[] = [];
  cleanup.add(`workers of ${name}`, () => Promise.all(workers.map((w) => w.stop(5_000))));
  for (let i = 0; i < plan.workers; i++) workers.push(await startWorker(env, `worker-${i + 1}`, options));
  await new Promise((r) => setTimeout(r, 1_000));
  const idle = workers.map((w) => processMemory(w.child.pid!).rssMb);

  const connection = createRedisConnection(loadConfig().redis.url, 'producer');
  const producer = new JobProducer(connection, prefix);
  let state = 'unknown';
  let failedReason: string | null = null;
  let seconds: number;
  let peak: number[];
  let cpuMs: number[] = [];
  let startedAt = 0;
  let finishedAt = 0;
  try {
    openai.reset();
    openai.configure({ tokensPerMinute: plan.tpmLimit });
    const cpuBefore = workers.map((w) => processCpuMs(w.child.pid!));
    const started = performance.now();
    startedAt = Date.now();
    const { jobId } = await producer.enqueue('reindex', { catalogId: created.id });
    progress(`reindex job ${jobId} of ${shared.chunks} chunks enqueued`);
    const job = await waitFor(
      'the reindex to finish',
      async () => {
        const view = await producer.getJob(jobId);
        return view && (view.state === 'completed' || view.state === 'failed') ? view : undefined;
      },
      { timeoutMs: RUN_TIMEOUT_MS, intervalMs: 50 },
    );
    seconds = (performance.now() - started) / 1000;
    finishedAt = Date.now();
    state = job.state;
    failedReason = job.failedReason;
    peak = workers.map((w) => processMemory(w.child.pid!).peakRssMb);
    cpuMs = workers.map((w, i) => processCpuMs(w.child.pid!) - (cpuBefore[i] ?? 0));
  } finally {
    await producer.close();
    connection.disconnect();
  }
  const stats = openai.stats;
  await Promise.all(workers.map((w) => w.stop(10_000)));

  const store = new QdrantStore({ url: shared.qdrantUrl, collection, dimensions: options.dimensions, logger: createLogger({ level: 'silent' }) });
  const [rows, points] = await Promise.all([embeddings.countActive(created.id), store.count(created.id)]);
  // The next run writes to a new collection: rows left here would be rows whose points it lacks, which its
  // workers' index watch rightly reports as lost and rebuilds (embedding this catalog again, billed to it).
  await shared.db.dataSource.query('DELETE FROM dq_embeddings WHERE catalog_id = $1', [created.id]);
  await catalogs.delete(created.id);
  const minutes = seconds / 60;
  const embeddingSeconds = Math.max(0.001, ((stats.lastSucceededAt ?? startedAt) - (stats.firstRequestAt ?? startedAt)) / 1000);
  return {
    bound: plan.bound,
    build: options.build,
    transport: options.transport,
    dims: options.dimensions,
    workers: plan.workers,
    chunks: shared.chunks,
    seconds: round(seconds, 2),
    chunksPerSecond: round(shared.chunks / seconds, 1),
    tokensEmbedded: shared.tokens,
    tokensBilled: stats.tokens,
    requests: stats.requests,
    status429: stats.rateLimited,
    status5xx: stats.serverErrors,
    tpmLimit: plan.tpmLimit,
    tpmUtilization: round(stats.tokens / minutes / plan.tpmLimit, 3),
    // The same over the embedding phase only (first request to last answer), without planning and activation.
    tpmUtilizationWhileEmbedding: round(stats.tokens / (embeddingSeconds / 60) / plan.tpmLimit, 3),
    // Where the time went: before the first embeddings request (planning), embedding, after the last answer.
    phasesSeconds: {
      beforeFirstRequest: round(((stats.firstRequestAt ?? startedAt) - startedAt) / 1000, 2),
      embedding: round(embeddingSeconds, 2),
      afterLastAnswer: round((finishedAt - (stats.lastSucceededAt ?? finishedAt)) / 1000, 2),
    },
    // User + system CPU of the worker processes from enqueuing to completion, per chunk of the catalog.
    workerCpuMsPerChunk: round(cpuMs.reduce((s, ms) => s + ms, 0) / shared.chunks, 4),
    workerCpuMs: workers.map((w, i) => ({ worker: w.name, ms: Math.round(cpuMs[i] ?? 0) })),
    workerRssMb: workers.map((w, i) => ({ worker: w.name, idle: idle[i], peak: peak[i] })),
    settings: {
      concurrency: Number(env.WORKER_CONCURRENCY),
      batchInputs: Number(env.EMBEDDING_BATCH_MAX_INPUTS),
      dimensions: options.dimensions,
      latencyMs: options.latencyMs,
      latencyPer1kTokensMs: options.latencyPer1kTokensMs,
    },
    // Other work on the machine slows the runs: the 1-minute load average when the run ended.
    loadAverage: round(loadavg()[0] ?? 0, 2),
    checks: { jobCompleted: state === 'completed', rowsEqualChunks: rows === shared.chunks, pointsEqualChunks: points === shared.chunks },
    ...(failedReason ? { failedReason } : {}),
  };
}

function pick(env: NodeJS.ProcessEnv, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.flatMap((k) => (env[k] ? [[k, env[k]]] : [])));
}

async function main(options: ReindexBenchOptions, cleanup: Cleanup): Promise<boolean> {
  if (options.build === 'production' && !existsSync(compiledEntry('worker'))) {
    throw new Error(`${compiledEntry('worker')} is missing: run pnpm --filter @catalog-indexer/worker build first, or pass --source`);
  }
  const root = findRepositoryRoot(__dirname);
  const spider = loadSpider(root);
  const catalog = replicatedCatalog(pickDatabases(spider, 1_000), options.copies);
  const chunkList = chunkCatalog(catalog);
  const tokens = chunkList.reduce((s, c) => s + countTokens(c.content), 0);
  progress(`catalog: ${options.copies} copies of Spider, ${chunkList.length} chunks, ${tokens} tokens`);

  const db = await createTestDatabase((url) => openDataSource({ url, poolSize: 4, applicationName: 'bench-reindex', migrate: true }));
  cleanup.add('drop database', () => db.drop());
  const qdrant = new QdrantEmulator();
  const qdrantUrl = (await qdrant.start(0)).url;
  cleanup.add('stop Qdrant emulator', () => qdrant.stop());
  const openai = new OpenAIEmulator({ apiKey: API_KEY, latencyMs: options.latencyMs, latencyPer1kTokensMs: options.latencyPer1kTokensMs });
  const openaiUrl = (await openai.start(0)).url;
  cleanup.add('stop OpenAI emulator', () => openai.stop());
  const shared: Shared = { options, db, openai, openaiUrl, qdrant, qdrantUrl, catalog, chunks: chunkList.length, tokens };

  const tpm = options.tpm > 0 ? options.tpm : Math.ceil(tokens / 2.5);
  const plans: RunPlan[] = [
    { bound: 'latency', workers: 1, tpmLimit: options.latencyBoundTpm },
    { bound: 'latency', workers: options.workers, tpmLimit: options.latencyBoundTpm },
    ...(options.tpmRun > 0 ? [{ bound: 'tpm' as const, workers: options.workers, tpmLimit: tpm }] : []),
  ];
  const results: Record<string, unknown>[] = [];
  for (const plan of plans) {
    const result = await measure(shared, plan, cleanup);
    results.push(result);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
  const [one, many, bound] = results as { chunksPerSecond: number; tpmUtilization: number; checks: Record<string, boolean> }[];
  const speedup = one && many ? round(many.chunksPerSecond / one.chunksPerSecond, 2) : null;
  const summary = {
    summary: true,
    speedup,
    speedupTarget: 2.5,
    tpmUtilization: bound?.tpmUtilization ?? null,
    tpmUtilizationTarget: 0.95,
    machine: { cpus: cpus().length, node: process.version },
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return results.every((r) => Object.values((r as { checks: Record<string, boolean> }).checks).every(Boolean));
}

async function run(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    process.stderr.write(`${REINDEX_USAGE}\n`);
    return;
  }
  const options = parseReindexBenchOptions(argv, process.env);
  const cleanup = new Cleanup();
  const interrupt = (signal: NodeJS.Signals) => {
    progress(`${signal}: cleaning up`);
    void cleanup.run().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  let ok = false;
  try {
    ok = await main(options, cleanup);
  } finally {
    await cleanup.run();
  }
  if (!ok) {
    progress('a check failed (see "checks" above)');
    process.exitCode = 1;
  }
}

run().catch((error: unknown) => {
  progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
