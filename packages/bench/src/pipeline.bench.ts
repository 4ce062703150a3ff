/**
 * Baseline benchmark of the indexing pipeline and the query read path on Spider's catalogs.
 *
 * Real Postgres (a fresh database, dropped at the end), the in-process Qdrant and OpenAI emulators, the
 * real OpenAIEmbedder (official SDK, token-aware batching, base64 decoding) and the reindex orchestrator. Prints one
 * JSON object to stdout; progress goes to stderr. Run: `pnpm bench:pipeline [--databases N] [--queries N]
 * [--dimensions N]`.
 */
import { querySparseVector } from '@catalog-indexer/text';
import { cpus, totalmem } from 'node:os';
import { chunkCatalog, flattenItems, type Catalog } from '@catalog-indexer/catalog';
import {
  CatalogRepository,
  EmbeddingRepository,
  IndexRunRepository,
  LeaseRepository,
  PointDeletionRepository,
  openDataSource,
  type DataSource,
  type HydratedEmbedding,
} from '@catalog-indexer/db';
import { OpenAIEmbedder, toNumberArray } from '@catalog-indexer/embeddings';
import { OpenAIEmulator, QdrantEmulator } from '@catalog-indexer/emulators';
import { createLogger } from '@catalog-indexer/logger';
import { ReindexService, reindexInProcess, type ReindexResult } from '@catalog-indexer/pipeline';
import { createTestDatabase, uniqueName, type TestDatabase } from '@catalog-indexer/testing';
import { QdrantStore } from '@catalog-indexer/vector-store';
import { Cleanup, progress } from './bench-cleanup';
import { parseBenchOptions, USAGE, type BenchOptions } from './bench-options';
import {
  buildSpiderCatalog,
  editColumnDescriptions,
  findRepositoryRoot,
  loadSpider,
  pickDatabases,
  pickQuestions,
  type SpiderQuestion,
} from './spider-catalog';
import { elapsed, round, summarize } from './stats';

/** Results per query, as apps/query returns them (it asks Qdrant for 1.5× as many; see notes). */
const QUERY_LIMIT = 10;
const SLICE_SIZE = 512;

interface Wiring {
  db: TestDatabase<DataSource>;
  openai: OpenAIEmulator;
  store: QdrantStore;
  catalogs: CatalogRepository;
  embeddings: EmbeddingRepository;
  runs: IndexRunRepository;
  embedder: OpenAIEmbedder;
  service: ReindexService;
}

async function wire(options: BenchOptions, cleanup: Cleanup): Promise<Wiring> {
  const db = await createTestDatabase((url) => openDataSource({ url, poolSize: 8, applicationName: 'bench', migrate: true }));
  cleanup.add('drop database', () => db.drop());
  const qdrant = new QdrantEmulator();
  const qdrantUrl = (await qdrant.start(0)).url;
  cleanup.add('stop Qdrant emulator', () => qdrant.stop());
  const openai = new OpenAIEmulator({ apiKey: 'bench' });
  const openaiUrl = (await openai.start(0)).url;
  cleanup.add('stop OpenAI emulator', () => openai.stop());

  const logger = createLogger({ level: 'silent' });
  const embedder = new OpenAIEmbedder({
    apiKey: 'bench',
    baseUrl: `${openaiUrl}/v1`,
    model: options.model,
    dimensions: options.dimensions,
    logger,
  });
  const store = new QdrantStore({ url: qdrantUrl, collection: uniqueName('bench'), dimensions: options.dimensions, logger });
  await store.ensureCollection();
  const catalogs = new CatalogRepository(db.dataSource);
  const embeddings = new EmbeddingRepository(db.dataSource);
  const runs = new IndexRunRepository(db.dataSource);
  const leases = new LeaseRepository(db.dataSource);
  const deletions = new PointDeletionRepository(db.dataSource);
  const service = new ReindexService({ catalogs, embeddings, runs, leases, deletions, store, embedder, logger, batchMaxInputs: SLICE_SIZE });
  return { db, openai, store, catalogs, embeddings, runs, embedder, service };
}

const toNewCatalog = (catalog: Catalog) => ({
  name: catalog.name,
  description: catalog.description ?? null,
  document: catalog as unknown as Record<string, unknown>,
  items: flattenItems(catalog),
});

/** Runs one reindex and reports its wall time and the embedding requests the emulator received. */
async function timedReindex(w: Wiring, catalogId: string): Promise<{ result: ReindexResult; wallMs: number; requests: number; tokens: number }> {
  w.openai.reset();
  const start = performance.now();
  const result = await reindexInProcess(w.service, catalogId);
  const wallMs = elapsed(start);
  const stats = w.openai.stats;
  return { result, wallMs, requests: stats.requests, tokens: stats.tokens };
}

interface QueryTiming {
  embedMs: number;
  searchMs: number;
  hydrateMs: number;
  totalMs: number;
  hits: HydratedEmbedding[];
}

/** The read path of apps/query: embed the question, search the catalog's points, hydrate from Postgres. */
async function query(w: Wiring, catalogId: string, question: string): Promise<QueryTiming> {
  const t0 = performance.now();
  const { vectors } = await w.embedder.embed([question]);
  const embedMs = elapsed(t0);
  const vector = vectors[0];
  if (!vector) throw new Error('the embedder returned no vector');
  const t1 = performance.now();
  const found = await w.store.search(
    { dense: toNumberArray(vector), sparse: querySparseVector(question) },
    { catalogId, limit: QUERY_LIMIT, fusion: { denseWeight: 1, sparseWeight: 3, k: 60, prefetchLimit: 200 } },
  );
  const searchMs = elapsed(t1);
  const t2 = performance.now();
  const rows = await w.embeddings.hydrate(found.map((h) => h.id));
  const hydrateMs = elapsed(t2);
  const hits: HydratedEmbedding[] = [];
  for (const hit of found) {
    const row = rows.get(hit.id);
    if (row && row.catalogId === catalogId) hits.push(row);
  }
  return { embedMs, searchMs, hydrateMs, totalMs: elapsed(t0), hits };
}

async function runQueries(w: Wiring, catalogId: string, questions: SpiderQuestion[], schemaOf: Map<string, string>, warmup: number) {
  for (const q of questions.slice(0, warmup)) await query(w, catalogId, q.question);
  const samples = { total: [] as number[], embed: [] as number[], search: [] as number[], hydrate: [] as number[] };
  let hitAt10 = 0;
  let hitAt1 = 0;
  let results = 0;
  const t0 = performance.now();
  for (const [i, q] of questions.entries()) {
    const timing = await query(w, catalogId, q.question);
    samples.total.push(timing.totalMs);
    samples.embed.push(timing.embedMs);
    samples.search.push(timing.searchMs);
    samples.hydrate.push(timing.hydrateMs);
    results += timing.hits.length;
    const schema = schemaOf.get(q.db_id);
    if (timing.hits.some((h) => h.metadata.schema === schema)) hitAt10++;
    if (timing.hits[0]?.metadata.schema === schema) hitAt1++;
    if ((i + 1) % 50 === 0) progress(`queries ${i + 1}/${questions.length}`);
  }
  const wallMs = elapsed(t0);
  return {
    questions: questions.length,
    warmupQuestions: Math.min(warmup, questions.length),
    limit: QUERY_LIMIT,
    concurrency: 1,
    wallMs: round(wallMs, 0),
    queriesPerSecond: round(questions.length / (wallMs / 1000), 1),
    meanResults: round(results / Math.max(1, questions.length), 2),
    latencyMs: {
      total: summarize(samples.total),
      embed: summarize(samples.embed),
      search: summarize(samples.search),
      hydrate: summarize(samples.hydrate),
    },
    schemaHitAt10: round(hitAt10 / Math.max(1, questions.length), 3),
    schemaHitAt1: round(hitAt1 / Math.max(1, questions.length), 3),
  };
}

async function main(options: BenchOptions, cleanup: Cleanup): Promise<{ report: Record<string, unknown>; ok: boolean }> {
  const startedAt = new Date();
  const root = findRepositoryRoot(__dirname);
  const spider = loadSpider(root);
  const databases = pickDatabases(spider, options.databases);
  const { catalog, schemaOf, report: conversion } = buildSpiderCatalog(databases, 'spider');
  const chunks = chunkCatalog(catalog);
  const chunksByKind: Record<string, number> = {};
  for (const c of chunks) chunksByKind[c.kind] = (chunksByKind[c.kind] ?? 0) + 1;
  progress(`catalog: ${conversion.databases} databases, ${conversion.tables} tables, ${conversion.columns} columns, ${chunks.length} chunks`);

  const w = await wire(options, cleanup);
  const postgres = (await w.db.dataSource.query<{ server_version: string }[]>('SHOW server_version'))[0]?.server_version ?? null;

  const storeStart = performance.now();
  const { id: catalogId } = await w.catalogs.create(toNewCatalog(catalog));
  const storeCatalogMs = elapsed(storeStart);

  progress('full reindex…');
  const full = await timedReindex(w, catalogId);
  const points = await w.store.count(catalogId);
  const rows = await w.embeddings.countActive(catalogId);
  progress(`full reindex: ${round(full.wallMs, 0)} ms, ${full.requests} embedding requests`);

  progress('unchanged reindex…');
  const unchanged = await timedReindex(w, catalogId);

  progress('edited reindex…');
  const { edited, columnsEdited } = editColumnDescriptions(catalog, options.editFraction);
  await w.catalogs.replace(catalogId, toNewCatalog(edited));
  const before = new Map(chunks.map((c) => [c.key, c.content]));
  const changedChunks = chunkCatalog(edited).filter((c) => before.get(c.key) !== c.content).length;
  const editedRun = await timedReindex(w, catalogId);

  const questions = pickQuestions(spider.questions, schemaOf, options.queries);
  progress(`${questions.length} queries…`);
  const queries = await runQueries(w, catalogId, questions, schemaOf, options.warmup);

  const checks = {
    unchangedReindexMadeNoEmbeddingRequests: unchanged.requests === 0,
    editedReindexEmbeddedOnlyChangedChunks: editedRun.result.embedded === changedChunks,
    pointsEqualRowsAfterFullReindex: points === rows && rows === chunks.length,
  };
  const cpuList = cpus();
  const report = {
    benchmark: 'pipeline',
    startedAt: startedAt.toISOString(),
    command: `pnpm bench:pipeline ${process.argv.slice(2).join(' ')}`.trim(),
    node: process.version,
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? null,
    memoryGb: round(totalmem() / 2 ** 30, 1),
    postgres,
    model: options.model,
    dimensions: options.dimensions,
    chunks: chunks.length,
    tokens: full.result.tokens,
    catalog: {
      source: 'Spider 1.0 tables.json (one schema per database, dev databases first)',
      databases: conversion.databases,
      schemas: catalog.schemas.length,
      tables: conversion.tables,
      columns: conversion.columns,
      foreignKeys: conversion.foreignKeys,
      droppedForeignKeys: conversion.droppedForeignKeys,
      mergedForeignKeys: conversion.mergedForeignKeys,
      chunksByKind,
      storeCatalogMs: round(storeCatalogMs, 0),
    },
    fullReindex: {
      wallMs: round(full.wallMs, 0),
      chunksPerSecond: round(full.result.embedded / (full.wallMs / 1000), 1),
      embedded: full.result.embedded,
      embeddingRequests: full.requests,
      tokens: full.tokens,
      points,
      rows,
    },
    unchangedReindex: {
      wallMs: round(unchanged.wallMs, 0),
      embeddingRequests: unchanged.requests,
      embedded: unchanged.result.embedded,
      skipped: unchanged.result.skipped,
    },
    editedReindex: {
      columnsEdited,
      columnsEditedFraction: round(columnsEdited / Math.max(1, conversion.columns), 4),
      changedChunks,
      wallMs: round(editedRun.wallMs, 0),
      chunksEmbedded: editedRun.result.embedded,
      deleted: editedRun.result.deleted,
      embeddingRequests: editedRun.requests,
      tokens: editedRun.tokens,
    },
    query: queries,
    checks,
    peakRssMb: round(process.resourceUsage().maxRSS / 1024, 0),
    notes: [
      'Qdrant is the in-process, in-memory QdrantEmulator (exact brute-force search over the catalog), not a real Qdrant with HNSW.',
      "Embeddings come from the in-process OpenAIEmulator's deterministic hashing vectors through the real OpenAIEmbedder (openai SDK, token-aware batching, base64 decoding): latencies exclude network and model time, and schemaHitAt10/schemaHitAt1 reflect lexical overlap between question and chunk text only, not semantic retrieval quality.",
      `Queries run one at a time after ${queries.warmupQuestions} unmeasured warm-up questions; each asks Qdrant for ${QUERY_LIMIT} hits (apps/query asks for 1.5x the limit and may ask again when hydration drops hits).`,
      'Postgres is the local server, in a fresh database created for the run and dropped after it.',
      `Spider has no descriptions: column and table descriptions are Spider's normalised names; the edited reindex changes the description of every ${Math.round(1 / options.editFraction)}th column.`,
    ],
  };
  const ok = Object.values(checks).every(Boolean);
  return { report, ok };
}

async function run(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    process.stderr.write(`${USAGE}\n`);
    return;
  }
  const options = parseBenchOptions(argv, process.env);
  const cleanup = new Cleanup();
  const interrupt = (signal: NodeJS.Signals) => {
    progress(`${signal}: cleaning up`);
    void cleanup.run().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  let outcome: Awaited<ReturnType<typeof main>>;
  try {
    outcome = await main(options, cleanup);
  } finally {
    await cleanup.run();
  }
  // Written after cleanup, so that a reader closing stdout early (`| head`) cannot leave a database behind.
  process.stdout.write(`${JSON.stringify(outcome.report, null, 2)}\n`);
  if (!outcome.ok) {
    progress(`a check failed: ${JSON.stringify(outcome.report.checks)}`);
    process.exitCode = 1;
  }
}

run().catch((error: unknown) => {
  progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
