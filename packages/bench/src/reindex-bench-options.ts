import { parseArgs } from 'node:util';
import { OPENAI_LIKE_LATENCY } from '@catalog-indexer/emulators';
import { readIntegerFlags } from './bench-options';

/** What the reindex benchmark runs; each field from `--flag N`, `--flag=N` or its `BENCH_*` variable. */
export interface ReindexBenchOptions {
  /** Copies of the Spider union catalog (6,172 chunks each) in the benchmark catalog. */
  copies: number;
  dimensions: number;
  /** Worker processes of the multi-worker runs (the first run always has one). */
  workers: number;
  /**
   * `WORKER_CONCURRENCY` of every worker process: batch jobs each runs at once. Default 1 with batches of
   * 64 chunks, so that the API's latency, not the machine's two cores, bounds the latency-bound runs.
   */
  concurrency: number;
  /** `EMBEDDING_BATCH_MAX_INPUTS`: chunks per batch job and per embeddings request. */
  batchInputs: number;
  /** Fixed latency of an embeddings request, ms. */
  latencyMs: number;
  /** Latency per 1,000 tokens of a request, ms. */
  latencyPer1kTokensMs: number;
  /** Tokens per minute of the latency-bound runs: high enough never to bind. */
  latencyBoundTpm: number;
  /** Tokens per minute of the TPM-bound run; 0 = the catalog's tokens / 2.5 (a run of about two minutes). */
  tpm: number;
  /** 0 skips the TPM-bound run. */
  tpmRun: number;
  /** `QDRANT_TRANSPORT` of the workers: how points reach Qdrant (the product's default, gRPC, unless given). */
  transport: 'rest' | 'grpc';
  /**
   * What the worker processes run: `production`, the build a deployment runs (`apps/worker/dist`, with its
   * V8 options), or `source` (`--source`: the TypeScript sources through tsx, which also compiles every module
   * the first job loads, inside the measured run).
   */
  build: 'production' | 'source';
  /** `--cpu-prof DIR`: each worker process writes a V8 CPU profile (`node --cpu-prof`) into DIR as it exits. */
  cpuProfileDir: string | null;
}

const FLAGS = {
  copies: { env: 'BENCH_COPIES', fallback: 4, min: 1 },
  dimensions: { env: 'BENCH_DIMENSIONS', fallback: 256, min: 1 },
  // `--dims N`: the same as --dimensions (wins over it when both are given).
  dims: { env: 'BENCH_DIMS', fallback: 0, min: 0 },
  workers: { env: 'BENCH_WORKERS', fallback: 3, min: 1 },
  concurrency: { env: 'BENCH_CONCURRENCY', fallback: 1, min: 1 },
  'batch-inputs': { env: 'BENCH_BATCH_INPUTS', fallback: 64, min: 1 },
  'latency-ms': { env: 'BENCH_LATENCY_MS', fallback: OPENAI_LIKE_LATENCY.latencyMs, min: 0 },
  'latency-per-1k-tokens-ms': { env: 'BENCH_LATENCY_PER_1K_TOKENS_MS', fallback: OPENAI_LIKE_LATENCY.latencyPer1kTokensMs, min: 0 },
  'latency-bound-tpm': { env: 'BENCH_LATENCY_BOUND_TPM', fallback: 10_000_000, min: 1 },
  tpm: { env: 'BENCH_TPM', fallback: 0, min: 0 },
  'tpm-run': { env: 'BENCH_TPM_RUN', fallback: 1, min: 0 },
} as const;

/** Reads the options from argv (first) and the environment; an invalid value is an error naming the flag. */
export function parseReindexBenchOptions(argv: string[], env: NodeJS.ProcessEnv): ReindexBenchOptions {
  const { transport, rest: afterTransport } = readTransport(argv, env);
  const { value: cpuProfileDir, rest } = takeStringFlag(afterTransport, 'cpu-prof');
  if (cpuProfileDir === '') throw new Error('--cpu-prof needs a directory');
  const v = readIntegerFlags(rest, env, FLAGS, ['source']);
  return {
    transport,
    cpuProfileDir: cpuProfileDir ?? null,
    build: v.source || env.BENCH_SOURCE === '1' ? 'source' : 'production',
    copies: v.copies,
    dimensions: v.dims > 0 ? v.dims : v.dimensions,
    workers: v.workers,
    concurrency: v.concurrency,
    batchInputs: v['batch-inputs'],
    latencyMs: v['latency-ms'],
    latencyPer1kTokensMs: v['latency-per-1k-tokens-ms'],
    latencyBoundTpm: v['latency-bound-tpm'],
    tpm: v.tpm,
    tpmRun: v['tpm-run'],
  };
}

/**
 * `--transport rest|grpc` (`--transport=grpc`, or `BENCH_TRANSPORT`), taken off argv with `node:util`
 * `parseArgs`; the other arguments are left for the integer flags. Shared with `bench:query`.
 */
export function readTransport(argv: readonly string[], env: NodeJS.ProcessEnv): { transport: 'rest' | 'grpc'; rest: string[] } {
  const { value, rest } = takeStringFlag(argv, 'transport');
  // A `--transport` with no value is an error below, not the default.
  const transport = value ?? env.BENCH_TRANSPORT ?? 'grpc';
  if (transport !== 'rest' && transport !== 'grpc') throw new Error(`--transport must be rest or grpc, got "${transport}"`);
  return { transport, rest };
}

/**
 * The value of `--name V` (or `--name=V`; the last one given wins, `''` when it has none), taken off argv
 * with `node:util` `parseArgs`; the other arguments are returned as they were.
 */
function takeStringFlag(argv: readonly string[], name: string): { value: string | undefined; rest: string[] } {
  const { tokens } = parseArgs({ args: [...argv], strict: false, allowPositionals: true, tokens: true, options: { [name]: { type: 'string' } } });
  const taken = new Set<number>();
  let value: string | undefined;
  for (const token of tokens) {
    if (token.kind !== 'option' || token.name !== name) continue;
    taken.add(token.index);
    if (!token.inlineValue && token.value !== undefined) taken.add(token.index + 1);
    value = token.value ?? '';
  }
  return { value, rest: argv.filter((_, i) => !taken.has(i)) };
}

export const REINDEX_USAGE =
  'usage: pnpm bench:reindex [--source] [--transport rest|grpc] [--cpu-prof DIR] [--dims N] [--copies N] [--workers N] [--concurrency N] [--batch-inputs N]\n' +
  '       [--latency-ms N] [--latency-per-1k-tokens-ms N] [--latency-bound-tpm N] [--tpm N] [--tpm-run 0|1]\n' +
  '       (or BENCH_COPIES, BENCH_WORKERS, …). Prints one JSON line per run to stdout; progress goes to stderr.';
