/**
 * `pnpm bench:migrate`: adopts a pgvector-era table of 20,000 `vector(3072)` rows in place with two worker
 * processes (the compiled bundle, as deployed; `--source` runs them from the TypeScript sources) against the
 * Qdrant emulator in a process of its own, and prints JSON `{rows, dims, seconds, vectorsPerSecond, tokens,
 * workerPeakRssMb, floorVectorsPerSecond, loadAverage}`. The floor is the same vectors read from Postgres in
 * keyset pages of the adoption's size (the same binary read) and upserted in a bare loop of the same batch
 * size (into a collection of its own): what Postgres and Qdrant allow by themselves. `loadAverage` is the
 * machine's 1-minute load at the start and the end: figures taken on a busy machine are low.
 * Flags: `--rows N`, `--dims N`, `--source`.
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Client } from 'pg';
import { loadConfig } from '@catalog-indexer/config';
import { compiledEntry, spawnApp, type AppProcess } from '@catalog-indexer/devstack';
import { OpenAIEmulator } from '@catalog-indexer/emulators';
import { decodeVector } from '@catalog-indexer/importer';
import { ADOPTION_PAGE_SIZE } from '@catalog-indexer/pipeline';
import { JobProducer, createRedisConnection, jobCatalog } from '@catalog-indexer/queue';
import { createTestDatabase, deleteRedisPrefix, startEmulatorProcess, uniqueName, uniqueQueuePrefix, waitFor } from '@catalog-indexer/testing';
import { QdrantStore } from '@catalog-indexer/vector-store';
import { readIntegerFlags } from './bench-options';
import { WORKER_NODE_ARGS, WORKER_NODE_OPTIONS, processMemory } from './process-memory';

// The floor reads and writes pages of the adoption's size.
const PAGE = ADOPTION_PAGE_SIZE;

async function main(): Promise<void> {
  const { rows, dims, source: fromSource } = readIntegerFlags(
    process.argv.slice(2),
    process.env,
    {
      rows: { env: 'BENCH_MIGRATE_ROWS', fallback: 20_000, min: 1 },
      dims: { env: 'BENCH_MIGRATE_DIMS', fallback: 3072, min: 2 },
    },
    ['source'],
  );
  if (!fromSource && !existsSync(compiledEntry('worker'))) {
    throw new Error(`${compiledEntry('worker')} is missing: run pnpm --filter @catalog-indexer/worker build first`);
  }
  const loadAtStart = loadavg()[0] ?? 0;
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    const db = await createTestDatabase(async (url) => {
      const client = new Client({ connectionString: url });
      await client.connect();
      await client.query('CREATE EXTENSION vector');
      await client.query(`CREATE TABLE dq_embeddings (id uuid PRIMARY KEY, content text NOT NULL, embedding vector(${dims}), kind varchar(50), catalog_id uuid, metadata json)`);
      // Vectors made by Postgres itself: random float4s, one array per row.
      await client.query(
        `INSERT INTO dq_embeddings
         SELECT gen_random_uuid(), 'Column c' || i || ' of table t' || (i % 50), (SELECT array_agg(random()::real) FROM generate_series(1, $2) WHERE i > 0)::vector,
                'column', ('00000000-0000-0000-0000-0000000000' || lpad((i % 10)::text, 2, '0'))::uuid,
                json_build_object('schema', 'public', 'table', 't' || (i % 50), 'column', 'c' || i)
           FROM generate_series(1, $1) AS i`,
        [rows, dims],
      );
      await client.end();
      return { destroy: () => Promise.resolve() };
    });
    cleanup.push(() => db.drop());
    // Qdrant in a process of its own, as a real one is: its work is not counted against the bench's.
    const q = await startEmulatorProcess('qdrant');
    const openai = new OpenAIEmulator({ apiKey: 'sk-bench-migrate' });
    const o = await openai.start(0);
    cleanup.push(() => q.stop(), () => openai.stop());
    const prefix = uniqueQueuePrefix('bench-migrate');
    cleanup.push(() => deleteRedisPrefix(prefix));
    const collection = uniqueName('bench_migrate');
    const env = {
      DATABASE_URL: db.url,
      QUEUE_PREFIX: prefix,
      QDRANT_URL: q.url,
      QDRANT_GRPC_PORT: String(q.grpcPort),
      // The default transport, written out: the floor below uses the same.
      QDRANT_TRANSPORT: 'grpc',
      // Compiled workers run with production's V8 options, as deployed.
      ...(fromSource ? {} : { NODE_OPTIONS: WORKER_NODE_OPTIONS }),
      QDRANT_COLLECTION_NAME: collection,
      OPENAI_API_KEY: 'sk-bench-migrate',
      OPENAI_BASE_URL: `${o.url}/v1`,
      EMBEDDING_MODEL: 'text-embedding-3-large',
      EMBEDDING_DIMENSIONS: String(dims),
      DB_MIGRATE_ON_START: 'true',
      // Readiness is read from the worker's "worker ready" line, an info line.
      LOG_LEVEL: 'info',
      // Each worker on a port of its own (0: a free one), whatever else runs on this host.
      WORKER_PORT: '0',
    };
    const workers: AppProcess[] = [];
    cleanup.push(() => Promise.all(workers.map((w) => w.stop())));
    // The first worker migrates (the legacy table is kept as dq_embeddings_pgvector), then the second starts.
    for (let i = 0; i < 2; i++) {
      const worker = spawnApp('worker', env, { label: `worker-${i + 1}`, compiled: !fromSource, nodeArgs: fromSource ? [] : WORKER_NODE_ARGS });
      workers.push(worker);
      // A worker that exits while starting fails the bench at once, with its output.
      const exited = worker.exited.then((code) => Promise.reject(new Error(`worker ${i + 1} exited (${String(code)})`)));
      exited.catch(() => undefined);
      const ready = waitFor(`worker ${i + 1} to be ready`, () => worker.output().includes('worker ready'), { timeoutMs: 300_000 });
      await Promise.race([ready, exited]).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${worker.output().slice(-2000)}`);
      });
    }

    // The floor: plain keyset reads and bare upserts of the same batch size.
    const floorStore = new QdrantStore({
      url: q.url,
      transport: 'grpc',
      grpcUrl: `http://127.0.0.1:${q.grpcPort}`,
      collection: uniqueName('bench_floor'),
      dimensions: dims,
      model: 'text-embedding-3-large',
    });
    await floorStore.ensureCollection();
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const floorStart = performance.now();
    // The generated ids are random uuids: none is the nil uuid the walk starts after.
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const page: { rows: { id: string; catalog_id: string; v: Buffer }[] } = await client.query(
        `SELECT id::text AS id, catalog_id::text AS catalog_id, vector_send(embedding) AS v FROM dq_embeddings_pgvector AS legacy
          WHERE legacy.id > $1::uuid ORDER BY legacy.id LIMIT $2`,
        [after, PAGE],
      );
      if (page.rows.length === 0) break;
      after = page.rows[page.rows.length - 1]!.id;
      await floorStore.upsert(
        page.rows.map((r) => ({ id: r.id, vector: decodeVector(r.v), sparse: { indices: [], values: [] }, payload: { catalog_id: r.catalog_id, kind: 'column', chunk_key: r.id, content_hash: '' } })),
      );
    }
    const floorSeconds = (performance.now() - floorStart) / 1000;
    await client.end();
    // The floor's points leave the emulator before the adoption is timed.
    const floorCollection = await floorStore.resolve();
    if (floorCollection) await floorStore.dropCollection(floorCollection);

    const redis = createRedisConnection(loadConfig().redis.url, 'producer');
    const producer = new JobProducer(redis, prefix);
    cleanup.push(async () => {
      await producer.close();
      redis.disconnect();
    });
    const start = performance.now();
    const job = await producer.queue.add('pgvector-adoption', jobCatalog['pgvector-adoption'].payload.parse({}), { ...jobCatalog['pgvector-adoption'].options, jobId: `pgvector-adoption-${uniqueName('bench')}` });
    let peak = 0;
    /** When the job's progress first showed each phase (copying, verifying), polled every 200 ms. */
    const phaseStarts: Record<string, number> = {};
    let result: { migrated?: number; tokens?: number; verified?: { ok: boolean } } | undefined;
    await waitFor(
      'the adoption to end',
      async () => {
        for (const w of workers) peak = Math.max(peak, processMemory(w.child.pid!).peakRssMb);
        const state = await producer.queue.getJobState(job.id!);
        const current = await producer.queue.getJob(job.id!);
        const phase = (current?.progress as { phase?: string } | undefined)?.phase;
        if (phase && !(phase in phaseStarts)) phaseStarts[phase] = performance.now();
        if (state === 'failed') throw new Error(`adoption failed: ${current?.failedReason ?? ''}`);
        if (state === 'completed') result = current?.returnvalue as typeof result;
        return state === 'completed';
      },
      { timeoutMs: 30 * 60_000, intervalMs: 200 },
    );
    const seconds = (performance.now() - start) / 1000;
    for (const w of workers) peak = Math.max(peak, processMemory(w.child.pid!).peakRssMb);
    if (result?.migrated !== rows) throw new Error(`adopted ${result?.migrated ?? 0} of ${rows} rows`);
    process.stdout.write(
      `${JSON.stringify({
        rows,
        dims,
        transport: 'grpc',
        seconds: Math.round(seconds * 100) / 100,
        vectorsPerSecond: Math.round(rows / seconds),
        tokens: result.tokens ?? 0,
        verified: result.verified?.ok ?? false,
        phasesSeconds: phasesFrom(start, phaseStarts, performance.now()),
        workerPeakRssMb: peak,
        floorVectorsPerSecond: Math.round(rows / floorSeconds),
        loadAverage: { start: Math.round(loadAtStart * 100) / 100, end: Math.round((loadavg()[0] ?? 0) * 100) / 100 },
      })}\n`,
    );
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

/** Seconds from the job's start to its first progress, then of each phase in the order they came. */
function phasesFrom(start: number, starts: Record<string, number>, end: number): Record<string, number> {
  const ordered = Object.entries(starts).sort((a, b) => a[1] - b[1]);
  const out: Record<string, number> = { beforeFirstProgress: Math.round(((ordered[0]?.[1] ?? end) - start) / 10) / 100 };
  ordered.forEach(([phase, at], i) => {
    out[phase] = Math.round(((ordered[i + 1]?.[1] ?? end) - at) / 10) / 100;
  });
  return out;
}
