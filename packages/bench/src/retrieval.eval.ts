/**
 * Retrieval quality on Spider: the 166 dev databases uploaded as one catalog as is (identifiers untouched),
 * indexed with the default local embedder, and every dev question asked of `POST /v1/context` and
 * `POST /v1/search` on apps/query running as its own process; then the same on a held-out set written for
 * this project (`heldout-catalog.ts`). Prints one JSON object to stdout; progress goes to stderr. Run:
 * `pnpm eval:retrieval [--questions N]`.
 */
import { chunkCatalog } from '@catalog-indexer/catalog';
import { Cleanup, progress } from './bench-cleanup';
import { readIntegerFlags } from './bench-options';
import { post, startQueryStack, storeAndIndex } from './query-stack';
import { buildSpiderCatalog, findRepositoryRoot, loadSpider, pickQuestions, type SpiderDatabase } from './spider-catalog';
import { HELDOUT_QUESTIONS, heldOutCatalog } from './heldout-catalog';
import { goldOf, type Gold } from './spider-gold';
import { round } from './stats';

interface ContextAnswer {
  tables: { schema: string; table: string; columns: { name: string }[] }[];
}
interface SearchAnswer {
  results: { kind: string; metadata: Record<string, unknown> }[];
}

/** The metrics of one endpoint, summed over questions. */
class Scores {
  private n = 0;
  private readonly sums: Record<string, number> = {
    'table_recall@5': 0,
    'table_recall@10': 0,
    'table_recall@20': 0,
    'all_gold@10': 0,
    'column_recall@10': 0,
  };

  /** `tables`: ranked `db.table` names; `columns`: the `db.table.column` names offered among the first 10 tables. */
  add(gold: Gold, tables: string[], columns: Set<string>): void {
    const recall = (k: number) => {
      const top = new Set(tables.slice(0, k));
      return gold.tables.size === 0 ? 1 : [...gold.tables].filter((t) => top.has(t)).length / gold.tables.size;
    };
    this.n++;
    this.sums['table_recall@5']! += recall(5);
    this.sums['table_recall@10']! += recall(10);
    this.sums['table_recall@20']! += recall(20);
    this.sums['all_gold@10']! += recall(10) === 1 ? 1 : 0;
    this.sums['column_recall@10']! += gold.columns.size === 0 ? 1 : [...gold.columns].filter((c) => columns.has(c)).length / gold.columns.size;
  }

  report(): Record<string, number> {
    const out: Record<string, number> = { questions: this.n };
    for (const [k, v] of Object.entries(this.sums)) out[k] = round(v / Math.max(1, this.n), 4);
    return out;
  }
}

const key = (...parts: unknown[]): string => parts.map((p) => String(p).toLowerCase()).join('.');

/** Asks every question of `/v1/context` and `/v1/search` and scores the answers against their gold. */
async function evaluate(queryUrl: string, catalogId: string, asked: { question: string; gold: Gold }[]): Promise<{ context: Scores; search: Scores }> {
  const context = new Scores();
  const search = new Scores();
  for (const [i, { question, gold }] of asked.entries()) {
    const answer = await post<ContextAnswer>(`${queryUrl}/v1/context`, { catalogId, question, maxTables: 20 });
    const tables = answer.tables.map((t) => key(t.schema, t.table));
    const columns = new Set(answer.tables.slice(0, 10).flatMap((t) => t.columns.map((c) => key(t.schema, t.table, c.name))));
    context.add(gold, tables, columns);

    const found = await post<SearchAnswer>(`${queryUrl}/v1/search`, { catalogId, query: question, limit: 100 });
    const ranked: string[] = [];
    for (const r of found.results) {
      const m = r.metadata;
      const ends = [[m.schema, m.table], ...(r.kind === 'relationship' ? [[m.referencedSchema, m.referencedTable]] : [])];
      for (const [schema, table] of ends) {
        if (typeof schema === 'string' && typeof table === 'string' && !ranked.includes(key(schema, table))) ranked.push(key(schema, table));
      }
    }
    const hitColumns = new Set(
      found.results.slice(0, 10).flatMap((r) => (r.kind === 'column' ? [key(r.metadata.schema, r.metadata.table, r.metadata.column)] : [])),
    );
    search.add(gold, ranked, hitColumns);
    if ((i + 1) % 100 === 0) progress(`${i + 1}/${asked.length} questions`);
  }
  return { context, search };
}

async function main(cleanup: Cleanup, questionsWanted: number): Promise<Record<string, unknown>> {
  const spider = loadSpider(findRepositoryRoot(__dirname));
  const { catalog, schemaOf, report: conversion } = buildSpiderCatalog(spider.databases, 'spider');
  const chunks = chunkCatalog(catalog).length;
  progress(`catalog: ${conversion.databases} databases, ${conversion.tables} tables, ${chunks} chunks`);
  const stack = await startQueryStack(cleanup);
  const t0 = performance.now();
  const catalogId = await storeAndIndex(stack, catalog);
  progress(`indexed in ${Math.round(performance.now() - t0)} ms`);

  const byId = new Map<string, SpiderDatabase>(spider.databases.map((d) => [d.db_id, d]));
  const questions = pickQuestions(spider.questions, schemaOf, questionsWanted);
  const asked: { question: string; gold: Gold }[] = [];
  for (const q of questions) {
    const db = byId.get(q.db_id);
    if (db) asked.push({ question: q.question, gold: goldOf(q, db) });
  }
  const { context, search } = await evaluate(stack.queryUrl, catalogId, asked);

  // The held-out set: a catalog and questions written for this project, never used to tune the method.
  const heldOut = heldOutCatalog();
  const heldOutId = await storeAndIndex(stack, heldOut);
  const heldOutScores = await evaluate(
    stack.queryUrl,
    heldOutId,
    HELDOUT_QUESTIONS.map((q) => ({ question: q.question, gold: { tables: new Set(q.tables.map((t) => t.toLowerCase())), columns: new Set<string>() } })),
  );
  const tablesOnly = (report: Record<string, number>) => Object.fromEntries(Object.entries(report).filter(([k]) => k !== 'column_recall@10'));
  return {
    '/v1/context': context.report(),
    '/v1/search': search.report(),
    setup: {
      catalog: `Spider dev databases as one catalog, uploaded as is: ${conversion.databases} schemas, ${conversion.tables} tables, ${conversion.columns} columns, ${conversion.foreignKeys} foreign keys (${conversion.mergedForeignKeys} declared twice, merged), ${chunks} chunks`,
      embedder: `local hashing embedder, local/hashing-v1@${stack.config.embeddings.dimensions}`,
      fusion: stack.config.retrieval,
      context: 'POST /v1/context with maxTables 20 and the default token budget (4000); @k are the first k tables of the answer; column recall over the columns of its first 10 tables',
      search: 'POST /v1/search with limit 100; tables in order of first appearance (both ends of a relationship); column recall over the column chunks of the first 10 results',
      gold: 'tables after FROM/JOIN in the gold SQL; columns qualified through their alias, or bare names that are columns of a gold table',
    },
    heldOut: {
      '/v1/context': tablesOnly(heldOutScores.context.report()),
      '/v1/search': tablesOnly(heldOutScores.search.report()),
      setup: `packages/bench/src/heldout-catalog.ts: a clinic database (3 schemas, 17 tables) among ${heldOut.schemas.length - 3} synthetic distractor schemas (${chunkCatalog(heldOut).length} chunks in all), ${HELDOUT_QUESTIONS.length} questions with their gold tables, written for this project; same requests as above`,
    },
  };
}

async function run(): Promise<void> {
  const { questions } = readIntegerFlags(process.argv.slice(2), process.env, { questions: { fallback: 1_034, min: 1 } });
  const cleanup = new Cleanup();
  const interrupt = (signal: NodeJS.Signals) => {
    progress(`${signal}: cleaning up`);
    void cleanup.run().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  let report: Record<string, unknown>;
  try {
    report = await main(cleanup, questions);
  } finally {
    await cleanup.run();
  }
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

run().catch((error: unknown) => {
  progress(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
