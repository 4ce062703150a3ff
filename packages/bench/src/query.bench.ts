/**
 * Query-path benchmark: a synthetic catalog of at least 50,000 chunks indexed into the Qdrant emulator (its
 * own process), apps/query as its own process, and `POST /v1/search` and `POST /v1/context` asked by 1 and
 * by 16 concurrent clients. Prints one JSON object with p50/p95/p99 of each stage the service reports, of the
 * whole request as the client sees it, and of the service's own overhead (its total minus embedding and
 * vector search). Run: `pnpm bench:query [--transport rest|grpc] [--requests N] [--dimensions N] [--emulator-nice N]`
 * (or `BENCH_TRANSPORT`, `BENCH_REQUESTS`, `BENCH_DIMENSIONS`, `BENCH_EMULATOR_NICE`); `transport` is how
 * apps/query reaches Qdrant (gRPC, the product's default, unless given).
 *
 * The emulator's process runs at niceness 10 by default (`--emulator-nice 0`: the same priority as the rest):
 * Qdrant runs on its own machine in production, while here its stand-in's exact search in JavaScript keeps a
 * core busy at 16 clients and would take CPU time from the service whose overhead is measured.
 */
import { chunkCatalog } from '@catalog-indexer/catalog';
import { readIntegerFlags } from './bench-options';
import { readTransport } from './reindex-bench-options';
import { Cleanup, progress } from './bench-cleanup';
import { post, startQueryStack, storeAndIndex } from './query-stack';
import { summarize, type LatencySummary } from './stats';
import { syntheticCatalog, syntheticQuestions } from './synthetic-catalog';

type Timings = Record<string, number>;

const FLAGS = {
  requests: { env: 'BENCH_REQUESTS', fallback: 100, min: 1 },
  dimensions: { env: 'BENCH_DIMENSIONS', fallback: 256, min: 1 },
  'emulator-nice': { env: 'BENCH_EMULATOR_NICE', fallback: 10, min: 0 },
} as const;

/** Sends `questions` to `path` from `clients` concurrent loops; returns per-stage samples. */
async function load(url: string, path: string, body: (q: string) => unknown, questions: string[], clients: number) {
  const samples: Record<string, number[]> = { clientMs: [], overheadMs: [] };
  let next = 0;
  const started = performance.now();
  const client = async () => {
    while (next < questions.length) {
      const question = questions[next++]!;
      const t0 = performance.now();
      const answer = await post<{ timings: Timings }>(`${url}${path}`, body(question));
      samples.clientMs!.push(performance.now() - t0);
      for (const [stage, ms] of Object.entries(answer.timings)) (samples[stage] ??= []).push(ms);
      const t = answer.timings;
      samples.overheadMs!.push((t.totalMs ?? 0) - (t.embedMs ?? 0) - (t.searchMs ?? 0));
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  const seconds = (performance.now() - started) / 1000;
  const stages: Record<string, LatencySummary> = {};
  for (const [stage, values] of Object.entries(samples)) stages[stage] = summarize(values);
  return { requests: questions.length, requestsPerSecond: Math.round((questions.length / seconds) * 10) / 10, stages };
}

async function main(
  cleanup: Cleanup,
  requests: number,
  dimensions: number,
  emulatorNice: number,
  transport: 'rest' | 'grpc',
): Promise<Record<string, unknown>> {
  const catalog = syntheticCatalog(50, 40, 24);
  const chunks = chunkCatalog(catalog).length;
  progress(`catalog: ${chunks} chunks`);
  const stack = await startQueryStack(cleanup, { qdrantProcess: true, dimensions, qdrantNice: emulatorNice, transport });
  const t0 = performance.now();
  const catalogId = await storeAndIndex(stack, catalog);
  const indexMs = Math.round(performance.now() - t0);
  progress(`indexed in ${indexMs} ms`);
  const questions = syntheticQuestions(requests);
  const warmup = syntheticQuestions(20, 99);
  const endpoints = {
    '/v1/search': (q: string) => ({ catalogId, query: q, limit: 10 }),
    '/v1/context': (q: string) => ({ catalogId, question: q }),
  };
  const results: Record<string, unknown> = {};
  for (const [path, body] of Object.entries(endpoints)) {
    await load(stack.queryUrl, path, body, warmup, 4);
    for (const clients of [1, 16]) {
      progress(`${path}, ${clients} client(s)…`);
      try {
        results[`${path} @${clients}`] = await load(stack.queryUrl, path, body, questions, clients);
      } catch (error) {
        progress(`query process log:\n${stack.queryOutput().slice(-4000)}`);
        throw error;
      }
    }
  }
  return {
    transport,
    chunks,
    indexMs,
    dimensions,
    emulatorNice,
    results,
    notes: [
      'Stages are the service\'s own timings (embedMs: the local embedder; analyzeMs: text analysis; searchMs: the Qdrant round trip; hydrateMs: the Postgres read; contextMs: ranking, joins and packing; totalMs: the handler); clientMs is the whole request as a client sees it.',
      'overheadMs = totalMs - embedMs - searchMs: what the service adds around embedding and vector search.',
      'The Qdrant emulator searches exactly (brute force, JavaScript) in its own process: searchMs is its time, not a real Qdrant\'s.',
      'apps/query, the emulator, Postgres and the clients share the machine; the emulator runs at niceness emulatorNice (0: the same priority as the rest), standing in for a Qdrant on its own machine.',
    ],
  };
}

async function run(): Promise<void> {
  const { transport, rest } = readTransport(process.argv.slice(2), process.env);
  const { requests, dimensions, 'emulator-nice': emulatorNice } = readIntegerFlags(rest, process.env, FLAGS);
  if (emulatorNice > 19) throw new Error(`--emulator-nice must be from 0 to 19, got ${emulatorNice}`);
  const cleanup = new Cleanup();
  const interrupt = (signal: NodeJS.Signals) => {
    progress(`${signal}: cleaning up`);
    void cleanup.run().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  let report: Record<string, unknown>;
  try {
    report = await main(cleanup, requests, dimensions, emulatorNice, transport);
  } finally {
    await cleanup.run();
  }
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

run().catch((error: unknown) => {
  progress(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
